"""Gas of the reference eBL life cycle on our registry and on TradeTrust, side by side on one anvil.

The business outcome (the issue's reference life cycle): the carrier issues to shipper A (A holds and
has title) → A hands possession to bank B, keeping title → title moves from A to buyer C → possession
moves to C → C surrenders for delivery → the carrier accepts.

- ``ours.direct``: each party sends its own transaction (7 transactions, like TradeTrust);
- ``ours.relayed``: the production path: every step is an EIP-712 signature, a relayer submits the same
  step of N life cycles in one ``issueBatch`` / ``executeBatch``; figures are gas per life cycle
  (batch gas / N). Measured by ``scripts.gas_report`` (imported, not copied);
- ``tradetrust``: ``@tradetrust-tt/token-registry`` deployed from the npm package's JSON artifacts as
  shipped: ``mint``, ``transferHolder``, ``nominate``, ``transferBeneficiary``, ``transferHolder``,
  ``returnToIssuer``, ``burn``; every remark is empty (their cheapest case).

Steady state for both: before measuring, every party already holds eBLs on both registries and one full
life cycle has been run and discarded on each; on TradeTrust one more token sits returned-to-issuer at
the registry (as in any busy registry), so neither side pays a first-time zero→nonzero storage write
that a registry in service would not pay. Gas is deterministic, so the JSON has no timings.

Run: ``python -m bench.gas [--quick] [--batch N] [--out PATH]``; then ``python -m bench.plots``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from bench._machine import machine_description
from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.build import compiler_settings, project_root
from scripts.gas_report import LIFECYCLE_STEPS, Harness, lifecycle_direct, lifecycle_relayed

RESULTS = Path(__file__).resolve().parent / "results"
TT_PACKAGE = "@tradetrust-tt/token-registry"
TT_ARTIFACTS = {
    "TitleEscrowFactory": "TitleEscrowFactory.sol/TitleEscrowFactory.json",
    "TradeTrustToken": "TradeTrustToken.sol/TradeTrustToken.json",
    "TitleEscrow": "TitleEscrow.sol/TitleEscrow.json",
}
BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
GOAL = {"lifecycle_ratio": 0.333, "issue_ratio": 0.333}
FULL_BATCH = 200
QUICK_BATCH = 20

# The same business step on both registries: (our step name, TradeTrust call, who sends it).
TT_STEPS: dict[str, str] = {
    "issue": "TradeTrustToken.mint(A, A, id, '') by the carrier (creates the token's TitleEscrow clone)",
    "transfer_to_bank": "TitleEscrow.transferHolder(B, '') by A",
    "nominate_buyer": "TitleEscrow.nominate(C, '') by A (beneficiary)",
    "endorse_to_buyer": "TitleEscrow.transferBeneficiary(C, '') by B (holder)",
    "transfer_to_buyer": "TitleEscrow.transferHolder(C, '') by B",
    "surrender_for_delivery": "TitleEscrow.returnToIssuer('') by C",
    "accept_surrender": "TradeTrustToken.burn(id, '') by the carrier (shreds the escrow)",
}


def _package_root() -> Path:
    return project_root() / "node_modules" / TT_PACKAGE


def tt_artifact(name: str) -> dict[str, Any]:
    """A TradeTrust Hardhat artifact from the installed npm package (``dist/artifacts``), unmodified."""
    path = _package_root() / "dist" / "artifacts" / TT_ARTIFACTS[name]
    if not path.exists():
        raise SystemExit(f"{path} missing: run `npm ci` ({TT_PACKAGE} is a devDependency)")
    data: dict[str, Any] = json.loads(path.read_text())
    if data.get("linkReferences"):
        raise SystemExit(f"{name} needs library linking, which this benchmark does not do")
    return data


def _solc_of(bytecode_hex: str) -> str | None:
    """The solc version in the CBOR metadata at the end of deployed bytecode (``solc`` → 3 bytes)."""
    code = bytes.fromhex(bytecode_hex.removeprefix("0x"))
    i = code.rfind(b"solc")
    if i < 0 or code[i + 4] != 0x43:
        return None
    return ".".join(str(b) for b in code[i + 5 : i + 8])


def tradetrust_provenance() -> dict[str, Any]:
    """Package version, artifact paths and the compiler the shipped bytecode was built with."""
    pkg = json.loads((_package_root() / "package.json").read_text())
    token = tt_artifact("TradeTrustToken")
    return {
        "package": f"{TT_PACKAGE}@{pkg['version']}",
        "artifacts": {k: f"dist/artifacts/{v}" for k, v in TT_ARTIFACTS.items()},
        "solc": _solc_of(token["deployedBytecode"]),
        "deployment": [
            "TitleEscrowFactory() (its constructor deploys the TitleEscrow implementation)",
            "TradeTrustToken('TradeTrust eBL', 'TTEBL', factory) by the carrier "
            "(admin: MINTER_ROLE and ACCEPTER_ROLE)",
        ],
        "steps": TT_STEPS,
    }


@dataclass
class TradeTrust:
    """TradeTrust's registry on the harness's chain; parties are the harness organisations' keys."""

    h: Harness
    token: Contract
    factory: Contract
    escrow_abi: list[Any]
    _next_id: int = 0

    @classmethod
    def deploy(cls, h: Harness) -> TradeTrust:
        w3, carrier = h.w3, h.orgs["carrier"].key
        fac_art, tok_art = tt_artifact("TitleEscrowFactory"), tt_artifact("TradeTrustToken")
        fac_receipt = h.send(
            w3.eth.contract(abi=fac_art["abi"], bytecode=fac_art["bytecode"]).constructor(), carrier
        )
        factory = w3.eth.contract(address=fac_receipt["contractAddress"], abi=fac_art["abi"])
        tok_receipt = h.send(
            w3.eth.contract(abi=tok_art["abi"], bytecode=tok_art["bytecode"]).constructor(
                "TradeTrust eBL", "TTEBL", factory.address
            ),
            carrier,
        )
        token = w3.eth.contract(address=tok_receipt["contractAddress"], abi=tok_art["abi"])
        return cls(h, token, factory, tt_artifact("TitleEscrow")["abi"])

    def key(self, name: str) -> LocalAccount:
        return self.h.orgs[name].key

    def addr(self, name: str) -> str:
        return str(self.h.orgs[name].key.address)

    def escrow(self, token_id: int) -> Contract:
        address = self.factory.functions.getEscrowAddress(self.token.address, token_id).call()
        return self.h.w3.eth.contract(address=to_checksum_address(address), abi=self.escrow_abi)

    def mint(self, to: str) -> tuple[int, int]:
        self._next_id += 1
        token_id = int.from_bytes(keccak(text=f"tradetrust-TDR-{self._next_id}"), "big")
        gas = self.h.gas(
            self.token.functions.mint(self.addr(to), self.addr(to), token_id, b""), self.key("carrier")
        )
        return token_id, gas

    def lifecycle(self, *, accept: bool = True) -> tuple[int, dict[str, int]]:
        """The reference life cycle; ``accept=False`` stops once the token is back at the registry."""
        g, a, b, c = self.h.gas, self.addr("shipper"), self.addr("bank"), self.addr("buyer")
        token_id, issue = self.mint("shipper")
        e = self.escrow(token_id).functions
        steps = {
            "issue": issue,
            "transfer_to_bank": g(e.transferHolder(b, b""), self.key("shipper")),
            "nominate_buyer": g(e.nominate(c, b""), self.key("shipper")),
            "endorse_to_buyer": g(e.transferBeneficiary(c, b""), self.key("bank")),
            "transfer_to_buyer": g(e.transferHolder(c, b""), self.key("bank")),
            "surrender_for_delivery": g(e.returnToIssuer(b""), self.key("buyer")),
        }
        if accept:
            steps["accept_surrender"] = g(self.token.functions.burn(token_id, b""), self.key("carrier"))
        self._check(token_id, a, c, accepted=accept)
        return token_id, steps

    def _check(self, token_id: int, a: str, c: str, *, accepted: bool) -> None:
        """The business outcome happened: title and possession reached C, then the eBL was surrendered."""
        owner = self.token.functions.ownerOf(token_id).call()
        escrow = self.escrow(token_id).functions
        if accepted:
            ok = owner == BURN_ADDRESS and not escrow.active().call()
        else:
            ok = owner == self.token.address and escrow.beneficiary().call() == c == escrow.holder().call()
        if not ok or a == c:
            raise RuntimeError(f"TradeTrust life cycle did not reach the expected state for {token_id}")


def _with_total(steps: dict[str, Any]) -> dict[str, Any]:
    ordered = {k: steps[k] for k in LIFECYCLE_STEPS}
    total = sum(ordered.values())
    return {**ordered, "total": round(total, 1) if isinstance(total, float) else total}


def measure(batch: int) -> dict[str, Any]:
    """Deploy both registries on one anvil, warm both up, run the life cycle on each."""
    with AnvilProcess(AnvilConfig()) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 300}))
        h = Harness(w3)
        tt = TradeTrust.deploy(h)
        # Steady state (see module docstring): parties hold eBLs, one life cycle run and discarded.
        for name in ("shipper", "bank", "buyer", "carrier"):
            h.issue(to=name)
            tt.mint(name)
        lifecycle_direct(h)
        tt.lifecycle()  # first burn: 0xdEaD's balance becomes nonzero
        _, tt_registry_empty = tt.lifecycle()  # sensitivity: registry holds no other returned token
        tt.lifecycle(accept=False)  # stays returned-to-issuer: the registry's own balance is nonzero
        ours_direct = lifecycle_direct(h)
        _, tradetrust = tt.lifecycle()
        ours_relayed = lifecycle_relayed(h, batch)
        chain = w3.client_version
    ours = {"direct": _with_total(ours_direct), "relayed": _with_total(ours_relayed)}
    tt_steps = _with_total(tradetrust)
    return {
        "ours": ours,
        "tradetrust": tt_steps,
        "lifecycle_ratio": round(ours["relayed"]["total"] / tt_steps["total"], 4),
        "lifecycle_ratio_direct": round(ours["direct"]["total"] / tt_steps["total"], 4),
        "issue_ratio": round(ours["relayed"]["issue"] / tt_steps["issue"], 4),
        "issue_ratio_direct": round(ours["direct"]["issue"] / tt_steps["issue"], 4),
        "machine": {**machine_description(), "chain": chain},
        "parameters": {
            "relayed_batch_size": batch,
            "steady_state": True,
            "warm_up": (
                "each party holds one eBL on both registries; one full life cycle run and discarded on "
                "both; one TradeTrust token left returned-to-issuer so the registry's balance is nonzero"
            ),
            "steps": list(LIFECYCLE_STEPS),
            "units": "gasUsed per life cycle; ours.relayed = batch transaction gasUsed / batch size",
            "transactions_per_lifecycle": {
                "ours_direct": 7,
                "ours_relayed": round(7 / batch, 4),
                "tradetrust": 7,
            },
            "issue": (
                "ours.relayed.issue = issueBatch of N signed issuances / N; ours.direct.issue = issue(); "
                "TradeTrust has no batch mint: its single mint"
            ),
            "tradetrust_sensitivity": {
                "lifecycle_total_when_registry_holds_no_other_returned_token": sum(
                    tt_registry_empty.values()
                ),
                "note": (
                    "returnToIssuer then writes the registry's own balance 0→1 and burn clears it: "
                    "the steady-state figure above is the cheaper one for TradeTrust"
                ),
            },
            "ours_compiler": compiler_settings(),
            "tradetrust": tradetrust_provenance(),
        },
        "goal": GOAL,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Gas of the reference life cycle: ours against TradeTrust")
    parser.add_argument("--quick", action="store_true", help=f"relayed batch of {QUICK_BATCH}")
    parser.add_argument("--batch", type=int, default=None, help="life cycles per relayed batch")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    batch = args.batch or (QUICK_BATCH if args.quick else FULL_BATCH)
    out: Path = args.out or RESULTS / ("gas.quick.json" if args.quick else "gas.json")

    result = measure(batch)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    rows = [("step", "ours direct", "ours relayed", "TradeTrust")]
    rows += [
        (s, str(result["ours"]["direct"][s]), str(result["ours"]["relayed"][s]), str(result["tradetrust"][s]))
        for s in (*LIFECYCLE_STEPS, "total")
    ]
    for row in rows:
        print(f"{row[0]:<24}{row[1]:>12}{row[2]:>14}{row[3]:>12}")
    for key in ("lifecycle_ratio", "lifecycle_ratio_direct", "issue_ratio", "issue_ratio_direct"):
        print(f"{key:<24}{result[key]:>12}  (goal {GOAL.get(key.removesuffix('_direct'))})")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
