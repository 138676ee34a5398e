"""Recovery resubmits what the journal holds unfinished, and what a restored chain lost, exactly once."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest

from registry.chain.relayer import SignedEntry
from registry.errors import ChainError, NotFoundError
from registry.keys import LocalSigner, TitleActionMessage
from registry.store.journal import SqlJournal
from registry.title import JournalEntry
from registry.title.entries import entry_to_dict
from registry.types import Action
from tests.registry.title.helpers import document, events_of


def test_recover_resubmits_an_operation_journaled_before_a_crash(
    service, journal_engine, carrier, shipper, bank
):
    """An operation journaled but never sent (the process died) is executed once by recover()."""
    ebl = service.issue(carrier.org, document("SVC-RECOVER-1"), shipper.org).ebl_id
    message = TitleActionMessage(
        action=int(Action.TRANSFER), ebl_id=ebl, party=bank.org, data=b"\0" * 32, nonce=7_777, deadline=2**40
    )
    signature = LocalSigner(shipper.key.key).sign_digest(message.digest(service.domain))
    journal = SqlJournal(journal_engine)
    row = journal.record(
        JournalEntry(
            "00000000-0000-4000-8000-000000000001",
            shipper.org,
            Action.TRANSFER,
            ebl,
            entry_to_dict(SignedEntry(message, shipper.address, signature)),
            "pending",
        )
    )
    assert service.recover() == 1
    assert service.wait(row.operation_id).status == "final"
    assert service.verify(ebl).holder == bank.org
    assert service.recover() == 0


def test_recover_marks_final_what_executed_before_the_crash(service, journal_engine, carrier, shipper, bank):
    """An operation that executed but whose journal row was not updated is not executed again."""
    ebl = service.issue(carrier.org, document("SVC-RECOVER-2"), shipper.org).ebl_id
    done = service.transfer(shipper.org, ebl, bank.org)
    with journal_engine.begin() as conn:  # the journal update that "was lost" in the crash
        conn.exec_driver_sql("UPDATE operations SET status = 'submitted'")
    assert service.recover() == 0
    assert service.operation(done.operation_id).status == "final"
    assert service.verify(ebl).holder == bank.org


# --- crash recovery: what the chain lost, what a send failure left behind --------------------------


def test_recover_resubmits_operations_final_on_a_chain_that_then_lost_them(
    service, w3, carrier, shipper, bank
):
    """The chain is restored from an older state (kill -9 of anvil): an issuance and a transfer already
    reported final are gone. recover(recheck_final_since=...) reopens and resubmits them, in order;
    each executes exactly once."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    issued = service.issue(carrier.org, document("SVC-LOST-1"), shipper.org)
    moved = service.transfer(shipper.org, issued.ebl_id, bank.org)
    assert (issued.status, moved.status) == ("final", "final")
    w3.provider.make_request("evm_revert", [snapshot])
    service._relayer.reset("test: chain restored")  # as the runtime's watchdog does
    with pytest.raises(NotFoundError):
        service.verify(issued.ebl_id)

    assert service.recover(recheck_final_since=since) == 2
    assert service.wait(issued.operation_id).status == "final"
    assert service.wait(moved.operation_id).status == "final"
    assert service.verify(issued.ebl_id).holder == bank.org
    assert events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]
    assert service.recover(recheck_final_since=since) == 0  # on chain now: nothing more to do


def test_a_stale_receipt_for_a_block_the_chain_lost_does_not_hide_the_loss(
    service, w3, carrier, shipper, bank, monkeypatch
):
    """A node restored from a state dump can still answer eth_getTransactionReceipt for a transaction of
    a block it lost (anvil did, in the crash harness: three final operations were never resubmitted).
    The receipt's block must be the one the chain now has at that height, and not above the head."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    issued = service.issue(carrier.org, document("SVC-STALE-1"), shipper.org)
    moved = service.transfer(shipper.org, issued.ebl_id, bank.org)
    stale = {
        op.tx_hash: w3.provider.make_request("eth_getTransactionReceipt", [op.tx_hash])["result"]
        for op in (service.operation(issued.operation_id), service.operation(moved.operation_id))
    }
    w3.provider.make_request("evm_revert", [snapshot])
    w3.provider.make_request("evm_mine", [])  # the lost heights get new blocks (or stay above the head)
    service._relayer.reset("test: chain restored")

    answer = w3.provider.make_request

    def node_with_stale_receipts(method, params):
        if method == "eth_getTransactionReceipt" and params[0] in stale:
            return {"jsonrpc": "2.0", "id": 1, "result": stale[params[0]]}
        return answer(method, params)

    monkeypatch.setattr(w3.provider, "make_request", node_with_stale_receipts)
    assert service.recover(recheck_final_since=since) == 2
    assert service.wait(issued.operation_id).status == "final"
    assert service.wait(moved.operation_id).status == "final"
    assert service.verify(issued.ebl_id).holder == bank.org
    assert events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]


def test_a_failed_send_leaves_the_operation_pending_and_a_retry_executes_it(
    service, journal_engine, carrier, shipper, bank
):
    """The relayer could not send (chain down): the acknowledged operation is not failed but pending,
    and the periodic retry (recover with min_age) executes it once."""
    ebl = service.issue(carrier.org, document("SVC-SENDFAIL-1"), shipper.org).ebl_id
    message = TitleActionMessage(
        action=int(Action.TRANSFER), ebl_id=ebl, party=bank.org, data=b"\0" * 32, nonce=8_888, deadline=2**40
    )
    signature = LocalSigner(shipper.key.key).sign_digest(message.digest(service.domain))
    journal = SqlJournal(journal_engine)
    row = journal.record(
        JournalEntry(
            "00000000-0000-4000-8000-000000000002",
            shipper.org,
            Action.TRANSFER,
            ebl,
            entry_to_dict(SignedEntry(message, shipper.address, signature)),
            "pending",
        )
    )
    journal.mark(row.operation_id, "submitted")
    refused: Future = Future()
    refused.set_exception(ChainError("sending batch failed: connection refused"))
    service._outbox.track(row.operation_id, refused)
    assert service.operation(row.operation_id).status == "pending"

    assert service.recover(min_age=3600) == 0  # too recent for the periodic retry
    assert service.recover(min_age=0.0) == 1
    assert service.wait(row.operation_id).status == "final"
    assert events_of(service, ebl) == ["ISSUE", "TRANSFER"]
