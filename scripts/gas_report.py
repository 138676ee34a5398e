"""Gas of every title operation and of the reference life cycle, written to a JSON snapshot.

The reference life cycle is the business outcome TradeTrust needs 7 transactions for: the carrier
issues to shipper A (A holds and has title) → A hands possession to bank B, keeping title → title
moves from A to buyer C (A nominates C, B endorses to C) → possession moves to C → C surrenders for
delivery → the carrier accepts.

It is measured two ways on a fresh anvil:
- ``direct``: each party sends its own transaction (as in TradeTrust), 7 transactions;
- ``relayed``: the production path: every step is an EIP-712 signature and a relayer submits the
  same step of ``--batch`` life cycles in one ``executeBatch`` / ``issueBatch`` transaction; the figure
  is gas per life cycle (batch totals / batch size).

Parties already hold other eBLs when measured (steady state: no first-time zero-to-nonzero balance
writes), which is the carrier-issuing-thousands-a-day case. The first-ever eBL of a new organisation
costs ~17k more for its first balance slot.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.build import compiler_settings, load_artifact
from registry.chain.deploy import deploy
from registry.keys.typed_data import Domain, IssuanceMessage, TitleActionMessage
from registry.types import Action, DocumentKind, Role

TRADETRUST_LIFECYCLE_GAS = 782_482
TRADETRUST_ISSUE_GAS = 291_900
ZERO = "0x" + "00" * 20


@dataclass
class Org:
    name: str
    org: str
    key: LocalAccount


class Harness:
    """A fresh chain with the registry and four organisations; raw transactions, explicit nonces."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.gov: LocalAccount = Account.from_key(keccak(text="gas-report:governance"))
        self.relayer: LocalAccount = Account.from_key(keccak(text="gas-report:relayer"))
        self.orgs = {
            name: Org(
                name,
                to_checksum_address(keccak(text=f"gas-org:{name}")[-20:]),
                Account.from_key(keccak(text=f"gas-key:{name}")),
            )
            for name in ("carrier", "shipper", "bank", "buyer")
        }
        for acct in [self.gov, self.relayer, *(o.key for o in self.orgs.values())]:
            w3.provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])
        dep = deploy(w3, self.gov)
        self.registry: Contract = w3.eth.contract(address=dep.address, abi=load_artifact().abi)
        self.domain = Domain(chain_id=dep.chain_id, verifying_contract=dep.address)
        self.chain_id = dep.chain_id
        self._nonces: dict[str, int] = {}
        roles = {"carrier": Role.CARRIER, "shipper": Role.TRADER, "bank": Role.BANK, "buyer": Role.TRADER}
        for name, o in self.orgs.items():
            self.send(
                self.registry.functions.registerOrganisation(
                    o.org, int(roles[name]), keccak(text=name), o.key.address
                ),
                self.gov,
            )
        self._tdr = 0
        self._sig_nonce = 0

    def send(self, fn: Any, sender: LocalAccount, gas: int = 30_000_000) -> dict[str, Any]:
        nonce = self._nonces.get(sender.address)
        if nonce is None:
            nonce = self.w3.eth.get_transaction_count(sender.address)
        tx = fn.build_transaction(
            {
                "from": sender.address,
                "nonce": nonce,
                "gas": gas,
                "gasPrice": 10**9,
                "chainId": self.chain_id,
            }
        )
        self._nonces[sender.address] = nonce + 1
        raw = sender.sign_transaction(tx).raw_transaction
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_raw_transaction(raw))
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction failed: {fn.fn_name}")
        return dict(receipt)

    def gas(self, fn: Any, sender: LocalAccount) -> int:
        return int(self.send(fn, sender)["gasUsed"])

    def next_tdr(self) -> bytes:
        self._tdr += 1
        return keccak(text=f"TDR-{self._tdr}")

    def issue(
        self, to: str = "shipper", kind: DocumentKind = DocumentKind.TO_ORDER, endorsee: str | None = None
    ) -> tuple[int, int]:
        tdr = self.next_tdr()
        c = self.orgs["carrier"]
        end = self.orgs[endorsee].org if endorsee else ZERO
        g = self.gas(
            self.registry.functions.issue(tdr, keccak(tdr), self.orgs[to].org, end, int(kind)), c.key
        )
        return int(self.registry.functions.eblIdOf(c.org, tdr).call()), g

    def signed_action(
        self, who: str, action: Action, ebl: int, party: str = ZERO, data: bytes = b"\0" * 32
    ) -> tuple[Any, ...]:
        self._sig_nonce += 1
        msg = TitleActionMessage(
            action=int(action), ebl_id=ebl, party=party, data=data, nonce=self._sig_nonce, deadline=2**40
        )
        key = self.orgs[who].key
        sig = Account.unsafe_sign_hash(msg.digest(self.domain), key.key).signature
        return (msg.as_contract_tuple(), key.address, bytes(sig))

    def signed_issuance(self, to: str = "shipper") -> tuple[tuple[Any, ...], bytes]:
        self._sig_nonce += 1
        tdr = self.next_tdr()
        msg = IssuanceMessage(
            tdr_hash=tdr,
            doc_hash=keccak(tdr),
            issue_to=self.orgs[to].org,
            endorsee=ZERO,
            kind=int(DocumentKind.TO_ORDER),
            nonce=self._sig_nonce,
            deadline=2**40,
        )
        key = self.orgs["carrier"].key
        sig = Account.unsafe_sign_hash(msg.digest(self.domain), key.key).signature
        return (msg.as_contract_tuple(), key.address, bytes(sig)), tdr


def per_operation(h: Harness) -> dict[str, int]:
    r, o = h.registry.functions, h.orgs
    out: dict[str, int] = {}
    _, out["issue_to_order"] = h.issue()
    _, out["issue_straight"] = h.issue(kind=DocumentKind.STRAIGHT, endorsee="buyer")

    e, _ = h.issue()
    out["transfer_possession"] = h.gas(r.transferPossession(e, o["bank"].org), o["shipper"].key)
    out["reject_transfer"] = h.gas(r.rejectTransfer(e), o["bank"].key)
    out["endorse"] = h.gas(r.endorse(e, o["buyer"].org), o["shipper"].key)
    e, _ = h.issue()
    out["endorse_to_order"] = h.gas(r.endorseToOrder(e, o["buyer"].org), o["shipper"].key)
    e, _ = h.issue()
    out["endorse_in_blank"] = h.gas(r.endorseInBlank(e), o["shipper"].key)
    e, _ = h.issue()
    h.gas(r.transferPossession(e, o["bank"].org), o["shipper"].key)
    out["nominate"] = h.gas(r.nominate(e, o["buyer"].org), o["shipper"].key)
    e, _ = h.issue()
    out["request_surrender_for_delivery"] = h.gas(r.requestSurrenderForDelivery(e), o["shipper"].key)
    out["accept_surrender_delivery"] = h.gas(r.acceptSurrender(e), o["carrier"].key)
    e, _ = h.issue()
    h.gas(r.requestSurrenderForDelivery(e), o["shipper"].key)
    out["reject_surrender"] = h.gas(r.rejectSurrender(e), o["carrier"].key)
    e, _ = h.issue()
    out["request_surrender_for_amendment"] = h.gas(
        r.requestSurrenderForAmendment(e, b"COD".ljust(32, b"\0")), o["shipper"].key
    )
    out["accept_surrender_amendment"] = h.gas(r.acceptSurrender(e), o["carrier"].key)
    out["amend_void_and_reissue"] = h.gas(r.amend(e, keccak(text="amended"), ZERO), o["carrier"].key)
    e, _ = h.issue()
    h.gas(r.requestSurrenderForAmendment(e, b"COD".ljust(32, b"\0")), o["shipper"].key)
    h.gas(r.acceptSurrender(e), o["carrier"].key)
    out["void"] = h.gas(r.voidEbl(e), o["carrier"].key)
    e, _ = h.issue()
    h.gas(r.requestSurrenderForAmendment(e, b"SWTP".ljust(32, b"\0")), o["shipper"].key)
    h.gas(r.acceptSurrender(e), o["carrier"].key)
    out["switch_to_paper"] = h.gas(r.switchToPaper(e, keccak(text="paper")), o["carrier"].key)
    new_key = Account.from_key(keccak(text="gas-key:shipper:2"))
    out["add_key"] = h.gas(r.addKey(new_key.address), o["shipper"].key)
    out["revoke_key"] = h.gas(r.revokeKey(new_key.address), o["shipper"].key)
    e, _ = h.issue()
    out["execute_signed_transfer_single"] = h.gas(
        r.execute(h.signed_action("shipper", Action.TRANSFER, e, o["bank"].org)), h.relayer
    )
    signed, _ = h.signed_issuance()
    out["issue_signed_single"] = h.gas(r.issueSigned(signed), h.relayer)
    return out


LIFECYCLE_STEPS = (
    "issue",
    "transfer_to_bank",
    "nominate_buyer",
    "endorse_to_buyer",
    "transfer_to_buyer",
    "surrender_for_delivery",
    "accept_surrender",
)


def lifecycle_direct(h: Harness) -> dict[str, int]:
    r, o = h.registry.functions, h.orgs
    e, issue_gas = h.issue()
    steps = {
        "issue": issue_gas,
        "transfer_to_bank": h.gas(r.transferPossession(e, o["bank"].org), o["shipper"].key),
        "nominate_buyer": h.gas(r.nominate(e, o["buyer"].org), o["shipper"].key),
        "endorse_to_buyer": h.gas(r.endorseToOrder(e, o["buyer"].org), o["bank"].key),
        "transfer_to_buyer": h.gas(r.transferPossession(e, o["buyer"].org), o["bank"].key),
        "surrender_for_delivery": h.gas(r.requestSurrenderForDelivery(e), o["buyer"].key),
        "accept_surrender": h.gas(r.acceptSurrender(e), o["carrier"].key),
    }
    return steps


def lifecycle_relayed(h: Harness, batch: int) -> dict[str, float]:
    r, o = h.registry.functions, h.orgs
    issuances = [h.signed_issuance() for _ in range(batch)]
    totals: dict[str, int] = {}
    totals["issue"] = h.gas(r.issueBatch([s for s, _ in issuances]), h.relayer)
    ids = [int(r.eblIdOf(o["carrier"].org, tdr).call()) for _, tdr in issuances]
    plan: list[tuple[str, str, Action, Callable[[int], str]]] = [
        ("transfer_to_bank", "shipper", Action.TRANSFER, lambda _: o["bank"].org),
        ("nominate_buyer", "shipper", Action.NOMINATE, lambda _: o["buyer"].org),
        ("endorse_to_buyer", "bank", Action.ENDORSE_TO_ORDER, lambda _: o["buyer"].org),
        ("transfer_to_buyer", "bank", Action.TRANSFER, lambda _: o["buyer"].org),
        ("surrender_for_delivery", "buyer", Action.SURRENDER_FOR_DELIVERY, lambda _: ZERO),
        ("accept_surrender", "carrier", Action.ACCEPT_SURRENDER, lambda _: ZERO),
    ]
    for step, who, action, party in plan:
        entries = [h.signed_action(who, action, e, party(e)) for e in ids]
        receipt = h.send(r.executeBatch(entries), h.relayer)
        failed = h.registry.events.BatchEntryFailed().process_receipt(receipt, errors=DISCARD)
        if failed:
            raise RuntimeError(f"{step}: {len(failed)} batch entries failed")
        totals[step] = int(receipt["gasUsed"])
    return {k: round(v / batch, 1) for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="Gas of every operation and of the reference life cycle")
    parser.add_argument("--batch", type=int, default=200, help="life cycles per relayed batch")
    parser.add_argument("--out", type=Path, default=Path("snapshots/gas.json"))
    args = parser.parse_args()

    started = time.time()
    with AnvilProcess(AnvilConfig()) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        h = Harness(w3)
        for name in ("shipper", "bank", "buyer", "carrier"):  # steady state: every party already holds eBLs
            h.issue(to=name)
        ops = per_operation(h)
        direct = lifecycle_direct(h)
        relayed = lifecycle_relayed(h, args.batch)
        client_version = w3.client_version

    direct_total = sum(direct.values())
    relayed_total = round(sum(relayed.values()), 1)
    result = {
        "description": __doc__.strip().splitlines()[0],
        "parameters": {"relayed_batch_size": args.batch, "steady_state": True},
        "compiler": compiler_settings(),
        "chain": client_version,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "per_operation": ops,
        "lifecycle": {
            "steps": list(LIFECYCLE_STEPS),
            "direct": {"per_step": direct, "total": direct_total, "transactions": len(direct)},
            "relayed": {
                "per_step": relayed,
                "total": relayed_total,
                "transactions_per_lifecycle": 7 / args.batch,
            },
        },
        "tradetrust_reference": {
            "lifecycle": TRADETRUST_LIFECYCLE_GAS,
            "issue": TRADETRUST_ISSUE_GAS,
            "note": "figures from the issue; measured side by side in bench/ later",
        },
        "ratios_vs_tradetrust_reference": {
            "lifecycle_direct": round(direct_total / TRADETRUST_LIFECYCLE_GAS, 3),
            "lifecycle_relayed": round(relayed_total / TRADETRUST_LIFECYCLE_GAS, 3),
            "issue_direct": round(ops["issue_to_order"] / TRADETRUST_ISSUE_GAS, 3),
            "issue_relayed": round(relayed["issue"] / TRADETRUST_ISSUE_GAS, 3),
        },
        "targets": {"lifecycle": 260_000, "issue": 97_000},
        "seconds": round(time.time() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {
                "lifecycle": result["lifecycle"],
                "ratios": result["ratios_vs_tradetrust_reference"],
                "issue": ops["issue_to_order"],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
