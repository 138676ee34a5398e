"""The indexer against real transactions on anvil: life cycle, idempotency, restart, consistency, reorg."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from sqlalchemy import Engine, select, text

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.events import Log, event_specs
from registry.errors import StoreError
from registry.store.indexer import Discrepancy, Indexer
from registry.store.models import Ebl, EblEvent, Organisation, OrgKey
from registry.store.queries import history, title_state
from registry.types import Action, DocumentKind, Status, SurrenderReason
from tests.contracts import parties
from tests.registry.store.conftest import ZERO, Chain, deployed_chain

_KEY_NUMBERS = itertools.count(100, 2)


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every indexed row, without surrogate ids, in a stable order."""
    with engine.connect() as conn:
        return {
            "ebls": [dict(r) for r in conn.execute(select(Ebl.__table__).order_by(Ebl.ebl_id)).mappings()],
            "events": [
                {k: v for k, v in r.items() if k != "id"}
                for r in conn.execute(
                    select(EblEvent.__table__).order_by(EblEvent.block_number, EblEvent.log_index)
                ).mappings()
            ],
            "orgs": [
                dict(r)
                for r in conn.execute(
                    select(Organisation.__table__).order_by(Organisation.address)
                ).mappings()
            ],
            "keys": [dict(r) for r in conn.execute(select(OrgKey.__table__).order_by(OrgKey.key)).mappings()],
        }


def test_life_cycle_from_issue_to_amended_delivery_is_indexed_exactly(chain: Chain, engine: Engine) -> None:
    """Issue, endorse, transfer, surrender for amendment, amend, surrender for delivery: history and title."""
    first, _ = chain.issue(to="shipper")
    chain.act("shipper", "endorseToOrder", first, chain.org("bank"))
    chain.act("shipper", "transferPossession", first, chain.org("bank"))
    chain.act("bank", "endorse", first, chain.org("consignee"))
    chain.act("bank", "transferPossession", first, chain.org("consignee"))
    chain.act("consignee", "requestSurrenderForAmendment", first, bytes(32))
    chain.act("carrier", "acceptSurrender", first)
    amended_doc = keccak(text=f"amended document of {first}")  # one record per document: a new one
    chain.act("carrier", "amend", first, amended_doc, ZERO)
    second = int.from_bytes(keccak(first.to_bytes(32, "big")), "big")
    chain.act("consignee", "requestSurrenderForDelivery", second)
    chain.act("carrier", "acceptSurrender", second)

    Indexer(chain.w3, chain.deployment, engine).sync()

    carrier, shipper, bank, consignee = (chain.org(n) for n in ("carrier", "shipper", "bank", "consignee"))
    events = history(engine, first)
    assert [(e.seq, e.action.dcsa_code, e.actor, e.counterparty) for e in events] == [
        (0, "ISSUE", carrier, shipper),
        (1, "ENDORSE_TO_ORDER", shipper, bank),
        (2, "TRANSFER", shipper, bank),
        (3, "ENDORSE", bank, consignee),
        (4, "TRANSFER", bank, consignee),
        (5, "SURRENDER_FOR_AMENDMENT", consignee, carrier),
        (6, "SACC", carrier, consignee),
        (7, "AMEND", carrier, consignee),
    ]
    assert [e.actor_key for e in events[:3]] == [
        chain.cast["carrier"].address,
        chain.cast["shipper"].address,
        chain.cast["shipper"].address,
    ]
    assert events[-1].data == "0x" + second.to_bytes(32, "big").hex()
    old = title_state(engine, first)
    assert (old.status, old.holder, old.endorsee, old.successor, old.seq) == (
        Status.VOIDED,
        carrier,
        consignee,
        second,
        7,
    )
    new_events = history(engine, second)
    assert [(e.seq, e.action.dcsa_code, e.actor, e.counterparty) for e in new_events] == [
        (0, "ISSUE", carrier, consignee),
        (1, "SURRENDER_FOR_DELIVERY", consignee, carrier),
        (2, "SACC", carrier, consignee),
    ]
    new = title_state(engine, second)
    assert (new.status, new.holder, new.predecessor, new.document_hash, new.surrender_reason) == (
        Status.SURRENDERED,
        carrier,
        first,
        "0x" + amended_doc.hex(),
        SurrenderReason.DELIVERY,
    )
    assert Indexer(chain.w3, chain.deployment, engine).check_consistency([first, second]) == []


def test_reject_nominate_blank_endorse_and_surrender_rejection_match_the_chain(
    chain: Chain, engine: Engine
) -> None:
    """Every other action kind folds into the same state as the contract's titleOf."""
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    chain.act("bank", "rejectTransfer", bill)
    chain.act("shipper", "endorseToOrder", bill, chain.org("buyer"))
    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    chain.act("buyer", "nominate", bill, chain.org("consignee"))
    chain.act("bank", "endorseToOrder", bill, chain.org("consignee"))
    chain.act("bank", "transferPossession", bill, chain.org("consignee"))
    chain.act("consignee", "endorseInBlank", bill)
    chain.act("consignee", "requestSurrenderForDelivery", bill)
    chain.act("carrier", "rejectSurrender", bill)
    paper, _ = chain.issue(to="consignee", endorsee="consignee", kind=DocumentKind.STRAIGHT)
    chain.act("consignee", "requestSurrenderForAmendment", paper, b"SWTP".ljust(32, b"\0"))
    chain.act("carrier", "acceptSurrender", paper)
    chain.act("carrier", "switchToPaper", paper, keccak(text="paper"))

    indexer = Indexer(chain.w3, chain.deployment, engine)
    indexer.sync()

    assert [e.action.dcsa_code for e in history(engine, bill)] == [
        "ISSUE",
        "TRANSFER",
        "REJECT",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "NOMINATE",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "BLANK_ENDORSE",
        "SURRENDER_FOR_DELIVERY",
        "SREJ",
    ]
    state = title_state(engine, bill)
    assert (state.status, state.holder, state.endorsee, state.nominee) == (
        Status.ACTIVE,
        chain.org("consignee"),
        None,
        None,
    )
    switched = title_state(engine, paper)
    assert (switched.status, switched.paper_hash) == (
        Status.SWITCHED_TO_PAPER,
        "0x" + keccak(text="paper").hex(),
    )
    assert indexer.check_consistency() == []


def test_syncing_twice_or_rebuilding_gives_identical_rows(chain: Chain, engine: Engine) -> None:
    """A second sync applies nothing; a rebuild from the deployment block reproduces every row."""
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "transferPossession", bill, chain.org("buyer"))
    indexer = Indexer(chain.w3, chain.deployment, engine)
    head = chain.w3.eth.block_number
    assert indexer.sync(to_block=head, batch_blocks=3) > 0
    before = _rows(engine)
    assert indexer.sync(to_block=head) == 0
    assert _rows(engine) == before
    indexer.rebuild(to_block=head, batch_blocks=7)
    assert _rows(engine) == before
    assert len(before["orgs"]) == len(chain.cast)
    assert {k["status"] for k in before["keys"]} == {"ACTIVE"}


def test_reapplying_an_already_indexed_range_changes_nothing(chain: Chain, engine: Engine) -> None:
    """Moving the checkpoint back re-reads old logs; unique (tx, log index) and seq guards absorb them."""
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    indexer = Indexer(chain.w3, chain.deployment, engine)
    indexer.sync()
    before = _rows(engine)
    start = chain.deployment.block_number
    start_hash = "0x" + bytes(chain.w3.eth.get_block(start)["hash"]).hex()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE indexer_checkpoints SET last_block = :b, last_block_hash = :h"),
            {"b": start, "h": start_hash},
        )
    assert indexer.sync() > 0
    assert indexer.checkpoint() == (
        chain.w3.eth.block_number,
        "0x" + bytes(chain.w3.eth.get_block("latest")["hash"]).hex(),
    )
    assert _rows(engine) == before


def test_a_new_indexer_resumes_from_the_checkpoint(chain: Chain, engine: Engine) -> None:
    """A restarted indexer on the same database indexes only what happened since its checkpoint."""
    Indexer(chain.w3, chain.deployment, engine).sync()
    before = _rows(engine)
    bill, _ = chain.issue(to="buyer")
    chain.act("buyer", "transferPossession", bill, chain.org("bank"))

    restarted = Indexer(chain.w3, chain.deployment, engine)
    applied = restarted.sync()

    assert applied == 4  # Transfer + Issued, Transfer + ActionRecorded
    after = _rows(engine)
    assert after["events"][: len(before["events"])] == before["events"]
    assert [(e["action"], e["ebl_id"]) for e in after["events"][len(before["events"]) :]] == [
        ("ISSUE", str(bill)),
        ("TRANSFER", str(bill)),
    ]
    assert restarted.checkpoint() == (
        chain.w3.eth.block_number,
        "0x" + bytes(chain.w3.eth.get_block("latest")["hash"]).hex(),
    )


def test_consistency_check_reports_a_tampered_or_missing_row(chain: Chain, engine: Engine) -> None:
    """Editing the database behind the indexer's back shows up as a discrepancy against titleOf."""
    bill, _ = chain.issue(to="shipper")
    other, _ = chain.issue(to="bank")
    indexer = Indexer(chain.w3, chain.deployment, engine)
    indexer.sync()
    assert indexer.check_consistency([bill, other]) == []

    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ebls SET holder = :h, seq = 5 WHERE ebl_id = :id"),
            {"h": chain.org("buyer"), "id": str(bill)},
        )
        conn.execute(text("DELETE FROM ebl_events WHERE ebl_id = :id"), {"id": str(other)})
        conn.execute(text("DELETE FROM ebls WHERE ebl_id = :id"), {"id": str(other)})

    assert indexer.check_consistency([bill, other]) == [
        Discrepancy(bill, "holder", chain.org("buyer"), chain.org("shipper")),
        Discrepancy(bill, "seq", 5, 0),
        Discrepancy(other, "exists", False, True),
    ]


def test_a_reorg_is_rolled_back_and_the_canonical_chain_indexed(chain: Chain, engine: Engine) -> None:
    """After the chain replaced the indexed blocks, the index follows the new branch."""
    bill, _ = chain.issue(to="shipper")
    indexer = Indexer(chain.w3, chain.deployment, engine, reorg_depth=4)
    indexer.sync()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    indexer.sync()
    assert title_state(engine, bill).holder == chain.org("bank")

    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    chain.act("shipper", "transferPossession", bill, chain.org("consignee"))
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    indexer.sync()

    assert [(e.action.dcsa_code, e.counterparty) for e in history(engine, bill)] == [
        ("ISSUE", chain.org("shipper")),
        ("TRANSFER", chain.org("consignee")),
    ]
    assert title_state(engine, bill).holder == chain.org("consignee")
    assert indexer.check_consistency() == []


def test_a_chain_restored_far_below_the_checkpoint_is_rolled_back_past_the_reorg_depth(
    chain: Chain, engine: Engine
) -> None:
    """An embedded chain restored from an older state dump (kill -9 of anvil) can lose more blocks than
    ``reorg_depth``, and come back below the checkpoint: the index rolls back to the newest event still
    on chain, whether the lost heights are gone or already mined again."""
    kept, _ = chain.issue(to="shipper")
    indexer = Indexer(chain.w3, chain.deployment, engine, reorg_depth=1)
    indexer.sync()
    for remined in (0, 12):
        snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        lost = [chain.issue(to="shipper")[0] for _ in range(4)]
        chain.act("shipper", "transferPossession", kept, chain.org("bank"))
        for _ in range(3):
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        indexer.sync()
        assert title_state(engine, kept).holder == chain.org("bank")

        chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        for _ in range(remined):
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        indexer.sync()

        assert [e.action for e in history(engine, kept)] == [Action.ISSUE]
        assert title_state(engine, kept).holder == chain.org("shipper")
        assert indexer.check_consistency(lost) == []  # none of them is indexed any more
        assert indexer.check_consistency() == []


def test_a_transaction_resubmitted_to_the_same_height_of_a_restored_chain_proves_nothing(
    chain: Chain, engine: Engine
) -> None:
    """Regression (crash harness): after a chain restored from a backup, the journal resubmits the very
    signed transaction it had sent, and it can land at the height it had on the lost branch. Its receipt
    then "confirmed" the stale index below the rollback block, and eBLs issued on the new branch in
    those heights were never indexed (the next action on one failed the sync with a KeyError). The
    index must trust only block hashes."""
    kept, _ = chain.issue(to="shipper")
    indexer = Indexer(chain.w3, chain.deployment, engine, reorg_depth=1)
    indexer.sync()
    shipper = chain.cast["shipper"]
    tx = chain.registry.functions.transferPossession(kept, chain.org("bank")).build_transaction(
        {"from": shipper.address, "nonce": chain.w3.eth.get_transaction_count(shipper.address)}
    )
    raw = shipper.key.sign_transaction(tx).raw_transaction
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    height = chain.w3.eth.block_number
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(raw))
    for _ in range(10):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    indexer.sync()

    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    later = chain.w3.eth.get_block("latest")["timestamp"] + 60  # the restored chain mines new blocks
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [later])  # type: ignore[arg-type]
    resent = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(raw))
    assert resent["blockNumber"] == height + 1  # the same transaction at the same height, another block
    fresh, _ = chain.issue(to="consignee")  # a new-branch issuance below the old checkpoint
    for _ in range(10):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    chain.act("consignee", "transferPossession", fresh, chain.org("bank"))
    indexer.sync()

    assert [e.action for e in history(engine, fresh)] == [Action.ISSUE, Action.TRANSFER]
    assert title_state(engine, fresh).holder == chain.org("bank")
    assert title_state(engine, kept).holder == chain.org("bank")
    assert indexer.check_consistency() == []


def test_an_action_on_an_ebl_the_index_does_not_hold_is_a_store_error_and_writes_nothing(
    chain: Chain, engine: Engine
) -> None:
    """An index out of step with the chain (an action on an eBL it never saw issued) stops the sync with a
    typed error that says how to repair it, and the transaction applies nothing."""
    indexer = Indexer(chain.w3, chain.deployment, engine)
    stray = Log(
        "ActionRecorded",
        {
            "eblId": 12345,
            "action": list(Action).index(Action.TRANSFER),
            "seq": 1,
            "actor": chain.org("shipper"),
            "counterparty": chain.org("bank"),
            "data": "0x" + "00" * 32,
            "actorKey": chain.cast["shipper"].address,
        },
        7,
        0,
        "0x" + "ab" * 32,
    )
    with pytest.raises(StoreError, match="eBL 12345, which the index does not hold"), engine.begin() as conn:
        indexer._apply(conn, [stray], {7: 0})
    assert _rows(engine)["events"] == []


def test_membership_changes_are_indexed_and_rolled_back_with_a_reorg(chain: Chain, engine: Engine) -> None:
    """Suspension, reinstatement, key rotation land in organisations / org_keys; a reorg undoes them."""
    buyer = chain.cast["buyer"]
    n = next(_KEY_NUMBERS)
    new_key, spare_key = parties.test_key("buyer", n), parties.test_key("buyer", n + 1)
    indexer = Indexer(chain.w3, chain.deployment, engine, reorg_depth=6)
    chain.send(chain.registry.functions.suspendOrganisation(buyer.org), chain.governance)
    chain.send(chain.registry.functions.reinstateOrganisation(buyer.org), chain.governance)
    chain.act("buyer", "addKey", new_key.address)
    chain.act("buyer", "revokeKey", new_key.address)
    indexer.sync()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    chain.act("buyer", "addKey", spare_key.address)
    chain.send(chain.registry.functions.suspendOrganisation(buyer.org), chain.governance)
    indexer.sync()
    assert _org_and_keys(engine, buyer.org, [buyer.address, new_key.address, spare_key.address]) == (
        "SUSPENDED",
        {buyer.address: "ACTIVE", new_key.address: "REVOKED", spare_key.address: "ACTIVE"},
    )

    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(3):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    indexer.sync()

    assert _org_and_keys(engine, buyer.org, [buyer.address, new_key.address, spare_key.address]) == (
        "ACTIVE",
        {buyer.address: "ACTIVE", new_key.address: "REVOKED"},
    )
    assert indexer.check_consistency() == []


@pytest.mark.anvil_only("restores the embedded anvil from its state dump")
def test_a_standing_changed_above_the_rollback_block_of_a_chain_restored_from_its_dump(
    tmp_path: Path, engine: Engine
) -> None:
    """The embedded chain killed and restored from its state dump keeps no state of the blocks before
    the dump: an index rolled back below it cannot read an organisation's standing there. It reads
    the standing the chain has now (the sync after the rollback replays the organisation's events up
    to it anyway) instead of failing the rollback, and so every sync after it, for good."""
    # as the registry runs its embedded chain: a bounded history of states (EBL_CHAIN_STATES_KEPT)
    config = AnvilConfig(state_path=tmp_path / "chain" / "state.json", state_interval=1, states_kept=16)
    anvil = AnvilProcess(config).start()
    try:
        chain = deployed_chain(anvil.url)
        buyer = chain.cast["buyer"]
        indexer = Indexer(chain.w3, chain.deployment, engine, reorg_depth=5)
        chain.send(chain.registry.functions.suspendOrganisation(buyer.org), chain.governance)
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        indexer.sync()
        assert anvil.wait_persisted()  # the dump holds the suspension
        state = tmp_path / "chain" / "state.json"
        dump = state.read_bytes()
        lost, _ = chain.issue(to="shipper")  # blocks the dump does not hold
        for _ in range(2):
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        indexer.sync()

        anvil.kill()
        state.write_bytes(dump)  # the last dump anvil wrote before its kill
        anvil.start()  # from the dump: the head's state only
        for _ in range(5):  # new blocks at the heights the index had seen
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        indexer.sync()

        assert _org_and_keys(engine, buyer.org, [])[0] == "SUSPENDED"
        assert indexer.check_consistency([lost]) == []  # the lost issuance is not indexed any more
        assert indexer.check_consistency() == []
        head = chain.w3.eth.block_number
        assert indexer.checkpoint() == (head, "0x" + bytes(chain.w3.eth.get_block(head)["hash"]).hex())
    finally:
        anvil.stop()


def _org_and_keys(engine: Engine, org: str, keys_of_interest: list[str]) -> tuple[str, dict[str, str]]:
    with engine.connect() as conn:
        status = conn.execute(select(Organisation.status).where(Organisation.address == org)).scalar_one()
        keys = conn.execute(
            select(OrgKey.key, OrgKey.status).where(OrgKey.org == org, OrgKey.key.in_(keys_of_interest))
        ).all()
    return status, {str(k): str(s) for k, s in keys}


def test_relayed_batch_and_every_log_decode_exactly_as_web3_decodes_them(
    chain: Chain, engine: Engine
) -> None:
    """The topic-slicing decoder agrees with web3's ABI decoder on every log; relayed actions index."""
    bill, _ = chain.issue(to="shipper")
    good = _signed_transfer(chain, "shipper", bill, chain.org("bank"))
    not_holder = _signed_transfer(chain, "consignee", bill, chain.org("buyer"))
    chain.send(chain.registry.functions.executeBatch([good, not_holder]), chain.governance)

    logs = chain.w3.eth.get_logs(
        {"address": chain.deployment.address, "fromBlock": chain.deployment.block_number}
    )
    specs = event_specs(chain.registry.abi)
    abi_events = {e["name"]: e for e in chain.registry.abi if e["type"] == "event"}
    names = set()
    for entry in logs:
        spec = specs["0x" + bytes(entry["topics"][0]).hex()]
        names.add(spec.name)
        ours = spec.decode(
            ["0x" + bytes(t).hex() for t in entry["topics"]], "0x" + bytes(entry["data"]).hex()
        )
        theirs = chain.registry.events[spec.name]().process_log(entry)["args"]
        types = {p["name"]: p["type"] for p in abi_events[spec.name]["inputs"]}
        assert ours == {k: _normalised(types[k], v) for k, v in theirs.items()}
    assert {"Issued", "ActionRecorded", "Transfer", "BatchEntryFailed", "KeyAdded"} <= names

    Indexer(chain.w3, chain.deployment, engine).sync()
    transfer = history(engine, bill)[-1]
    assert (transfer.action.dcsa_code, transfer.actor, transfer.actor_key, transfer.counterparty) == (
        "TRANSFER",
        chain.org("shipper"),
        chain.cast["shipper"].address,
        chain.org("bank"),
    )


_nonces = itertools.count(1)


def _signed_transfer(chain: Chain, signer: str, ebl_id: int, to: str) -> tuple[Any, ...]:
    """A `SignedAction` (TRANSFER) signed by the named party's key over the contract's own digest."""
    action = (int(Action.TRANSFER), ebl_id, to, bytes(32), next(_nonces), 2**40)
    digest = chain.registry.functions.digestTitleAction(action).call()
    key = chain.cast[signer].key
    return (action, key.address, bytes(Account.unsafe_sign_hash(digest, key.key).signature))


def _normalised(abi_type: str, value: Any) -> Any:
    """web3's decoded value in the indexer's spelling (zero address None, bytes32 as 0x-hex)."""
    if abi_type == "address":
        return None if int(value, 16) == 0 else value
    if abi_type == "bytes32":
        return "0x" + bytes(value).hex()
    return value
