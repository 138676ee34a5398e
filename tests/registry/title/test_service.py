"""The title service runs whole life cycles against a real anvil: custodial and client-signed."""

from __future__ import annotations

import json
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest
from eth_utils.crypto import keccak

from registry.chain.errors import error_class
from registry.chain.relayer import SignedEntry
from registry.errors import (
    CarrierMismatchError,
    ChainError,
    IdempotencyConflictError,
    InvalidDocumentError,
    InvalidSignatureError,
    LedgerUnavailableError,
    NotFoundError,
)
from registry.keys import LocalSigner, TitleActionMessage
from registry.store.journal import SqlJournal
from registry.title import JournalEntry, WriteOptions
from registry.title.entries import entry_from_dict, entry_to_dict
from registry.types import Action, Status
from tests.fixtures.dcsa import issued_example


def _document(reference: str, name: str = "regular") -> dict:
    """Example ``name`` as the test ``carrier`` issues it: its reference, naming that carrier (MSC/SMDG)."""
    return issued_example(
        name, transportDocumentReference=reference, carrierCode="MSC", carrierCodeListProvider="SMDG"
    )


def test_to_order_life_cycle_runs_through_the_service(service, carrier, shipper, bank, consignee):
    """Carrier issues to the shipper, the bank holds as pledgee, title and possession pass to the
    consignee, who surrenders for delivery, and the carrier accepts."""
    doc = _document("SVC-TO-ORDER-1")
    issued = service.issue(carrier.org, doc, shipper.org)
    assert issued.status == "final" and issued.action is Action.ISSUE
    ebl = issued.ebl_id

    assert service.transfer(shipper.org, ebl, bank.org).status == "final"
    assert service.nominate(shipper.org, ebl, consignee.org).status == "final"
    assert service.endorse(bank.org, ebl, consignee.org).status == "final"
    view = service.verify(ebl)
    assert (view.holder, view.endorsee, view.live) == (bank.org, consignee.org, True)

    assert service.transfer(bank.org, ebl, consignee.org).status == "final"
    assert service.surrender_for_delivery(consignee.org, ebl).status == "final"
    assert service.verify(ebl).status is Status.SURRENDER_REQUESTED
    assert service.accept_surrender(carrier.org, ebl).status == "final"

    final = service.verify(ebl, document=doc)
    assert final.status is Status.SURRENDERED and not final.live
    assert final.document_matches is True and final.carrier == carrier.org


def test_straight_bill_goes_only_to_its_consignee(service, carrier, shipper, bank, consignee):
    """A straight bill issued to the shipper goes to its named consignee and nowhere else."""
    doc = _document("SVC-STRAIGHT-1", "ctk-issuance-straight")
    ebl = service.issue(carrier.org, doc, shipper.org, endorsee=consignee.org).ebl_id
    with pytest.raises(error_class("TitleStraightBillRecipient")) as refused:
        service.transfer(shipper.org, ebl, bank.org)
    assert refused.value.args_by_name == {"eblId": ebl, "to": bank.org}
    assert service.transfer(shipper.org, ebl, consignee.org).status == "final"
    assert service.surrender_for_delivery(consignee.org, ebl).status == "final"
    assert service.accept_surrender(carrier.org, ebl).status == "final"
    assert service.verify(ebl).status is Status.SURRENDERED


def test_buyer_signs_with_its_own_wallet_and_the_gateway_only_relays(service, carrier, shipper, buyer, bank):
    """Client-signed: the buyer's key is not in the keystore; the service verifies and relays."""
    ebl = service.issue(carrier.org, _document("SVC-CLIENT-1"), shipper.org).ebl_id
    service.endorse(shipper.org, ebl, buyer.org)
    service.transfer(shipper.org, ebl, buyer.org)

    typed = service.prepare(Action.TRANSFER, ebl, party=bank.org)
    wire = json.loads(json.dumps(typed))  # as a wallet would receive and return it
    signature = LocalSigner(buyer.key.key).sign_typed_data(wire)
    operation = service.submit_signed(buyer.org, wire, signature)
    assert operation.status == "final"
    assert service.verify(ebl).holder == bank.org


def test_client_signature_from_another_org_key_is_refused(service, carrier, shipper, buyer, bank):
    """A signature by a key that is not the claimed organisation's is refused before relaying."""
    ebl = service.issue(carrier.org, _document("SVC-CLIENT-2"), shipper.org).ebl_id
    typed = service.prepare(Action.TRANSFER, ebl, party=bank.org)
    signature = LocalSigner(buyer.key.key).sign_typed_data(typed)
    with pytest.raises(InvalidSignatureError):
        service.submit_signed(shipper.org, typed, signature)


def test_illegal_requests_fail_at_once_with_typed_errors(service, carrier, shipper, bank):
    """Not holder, duplicate document, invalid document: each a typed error, nothing journaled."""
    doc = _document("SVC-ILLEGAL-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    with pytest.raises(error_class("TitleNotHolder")):
        service.transfer(bank.org, ebl, carrier.org)
    with pytest.raises(error_class("TitleAlreadyIssued")):
        service.issue(carrier.org, doc, shipper.org)
    with pytest.raises(InvalidDocumentError) as invalid:
        service.issue(carrier.org, _document("SVC-ILLEGAL-2") | {"issueDate": None}, shipper.org)
    assert any(v.path == "$.issueDate" for v in invalid.value.violations)
    with pytest.raises(NotFoundError):
        service.verify(12345)


def test_retried_issuance_with_the_same_idempotency_key_issues_once(service, carrier, shipper):
    """A retry returns the first operation; the same key for another request is a conflict."""
    doc = _document("SVC-IDEMPOTENT-1")
    first = service.issue(carrier.org, doc, shipper.org, options=WriteOptions("req-1"))
    again = service.issue(carrier.org, doc, shipper.org, options=WriteOptions("req-1"))
    assert again.operation_id == first.operation_id and again.status == "final"
    with pytest.raises(IdempotencyConflictError):
        service.issue(carrier.org, _document("SVC-IDEMPOTENT-2"), shipper.org, options=WriteOptions("req-1"))


def test_bank_verifies_a_presented_document_in_any_key_order(service, carrier, shipper):
    """Verification by document recomputes the RFC 8785 hash from whatever JSON is presented."""
    doc = _document("SVC-VERIFY-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    shuffled = json.dumps(dict(reversed(list(doc.items()))), indent=3)
    view = service.verify(document_text=shuffled)
    assert view.ebl_id == ebl and view.document_matches is True and view.holder == shipper.org
    tampered = json.dumps(doc | {"issueDate": "2030-01-01"})
    assert service.verify(ebl, document_text=tampered).document_matches is False


def test_amendment_voids_and_reissues_linked(service, carrier, shipper):
    """Surrender for amendment, SACC, amend: the original is voided and its successor is live."""
    original = _document("SVC-AMEND-1")
    ebl = service.issue(carrier.org, original, shipper.org).ebl_id
    service.surrender_for_amendment(shipper.org, ebl, "COD")
    service.accept_surrender(carrier.org, ebl)
    amended = original | {"issueDate": "2024-02-01"}
    assert service.amend(carrier.org, ebl, amended).status == "final"
    old = service.verify(ebl)
    assert old.status is Status.VOIDED and old.successor is not None
    new = service.verify(document=amended)
    assert new.ebl_id == old.successor and new.predecessor == ebl and new.amended
    assert new.holder == shipper.org and new.live


# ------------------------------------------------------------------ one record per document, by its carrier


def test_a_carrier_cannot_issue_a_document_naming_another_carrier(
    service, journal_engine, carrier, other_carrier, shipper
):
    """The carrier's own document issued by another carrier: CarrierMismatchError naming
    $.carrierCode, before anything is signed or journaled; the right carrier then issues it."""
    doc = _document("SVC-CARRIER-1")  # names MSC / SMDG: the test carrier's code
    with pytest.raises(CarrierMismatchError) as refused:
        service.issue(other_carrier.org, doc, shipper.org)
    assert refused.value.code == "carrier_mismatch"
    assert [v.path for v in refused.value.violations] == ["$.carrierCode"]
    assert (refused.value.named, refused.value.recorded) == ("SMDG:MSC", ("SMDG:MAEU",))
    assert SqlJournal(journal_engine).unfinished() == []
    assert service.issue(carrier.org, doc, shipper.org).status == "final"


def test_the_right_code_on_another_code_list_names_both_paths(service, carrier, shipper):
    """MSC on the NMFTA list is not MSC on SMDG's: refused, naming $.carrierCode and the list."""
    doc = _document("SVC-CARRIER-2") | {"carrierCodeListProvider": "NMFTA"}
    with pytest.raises(CarrierMismatchError) as refused:
        service.issue(carrier.org, doc, shipper.org)
    assert [v.path for v in refused.value.violations] == ["$.carrierCode", "$.carrierCodeListProvider"]


def test_an_amended_document_must_name_the_carrier_and_be_a_new_document(service, carrier, shipper):
    """Amendment: a document naming another carrier is refused (CarrierMismatchError), the unchanged
    document is refused on chain as a second record of it (TitleDuplicateDocument naming the
    predecessor); a changed document is amended."""
    original = _document("SVC-AMEND-2")
    ebl = service.issue(carrier.org, original, shipper.org).ebl_id
    service.surrender_for_amendment(shipper.org, ebl, "COD")
    service.accept_surrender(carrier.org, ebl)
    with pytest.raises(CarrierMismatchError):
        service.amend(carrier.org, ebl, original | {"carrierCode": "MAEU", "issueDate": "2024-02-01"})
    with pytest.raises(error_class("TitleDuplicateDocument")) as duplicate:
        service.amend(carrier.org, ebl, dict(reversed(list(original.items()))))  # same document, reordered
    doc_hash = bytes.fromhex(service.verify(ebl).document_hash)
    assert duplicate.value.args_by_name == {"docHash": doc_hash, "existingEblId": ebl}
    assert service.verify(ebl).status is Status.SURRENDERED_FOR_AMENDMENT
    assert service.amend(carrier.org, ebl, original | {"issueDate": "2024-02-01"}).status == "final"


def test_switch_to_paper_ends_the_electronic_record(service, carrier, shipper):
    """SWTP: the paper document replaces the eBL and its hash is recorded."""
    ebl = service.issue(carrier.org, _document("SVC-SWTP-1"), shipper.org).ebl_id
    service.surrender_for_amendment(shipper.org, ebl, "SWTP")
    service.accept_surrender(carrier.org, ebl)
    paper = keccak(text="printed bill with change-of-medium statement")
    service.switch_to_paper(carrier.org, ebl, paper)
    view = service.verify(ebl)
    assert view.status is Status.SWITCHED_TO_PAPER and view.paper_document_hash == paper.hex()


def test_recover_resubmits_an_operation_journaled_before_a_crash(
    service, journal_engine, carrier, shipper, bank
):
    """An operation journaled but never sent (the process died) is executed once by recover()."""
    ebl = service.issue(carrier.org, _document("SVC-RECOVER-1"), shipper.org).ebl_id
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
    ebl = service.issue(carrier.org, _document("SVC-RECOVER-2"), shipper.org).ebl_id
    done = service.transfer(shipper.org, ebl, bank.org)
    with journal_engine.begin() as conn:  # the journal update that "was lost" in the crash
        conn.exec_driver_sql("UPDATE operations SET status = 'submitted'")
    assert service.recover() == 0
    assert service.operation(done.operation_id).status == "final"
    assert service.verify(ebl).holder == bank.org


# --- crash recovery: what the chain lost, what a send failure left behind --------------------------


def _events_of(service, ebl: int) -> list[str]:
    """Every ActionRecorded / Issued event of an eBL on chain, as action names (issuance: ISSUE)."""
    registry = service.registry
    issued = registry.events.Issued().get_logs(from_block=0, argument_filters={"eblId": ebl})
    actions = registry.events.ActionRecorded().get_logs(from_block=0, argument_filters={"eblId": ebl})
    return ["ISSUE"] * len(issued) + [Action(e["args"]["action"]).name for e in actions]


def test_recover_resubmits_operations_final_on_a_chain_that_then_lost_them(
    service, w3, carrier, shipper, bank
):
    """The chain is restored from an older state (kill -9 of anvil): an issuance and a transfer already
    reported final are gone. recover(recheck_final_since=...) reopens and resubmits them, in order;
    each executes exactly once."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    issued = service.issue(carrier.org, _document("SVC-LOST-1"), shipper.org)
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
    assert _events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]
    assert service.recover(recheck_final_since=since) == 0  # on chain now: nothing more to do


def test_a_stale_receipt_for_a_block_the_chain_lost_does_not_hide_the_loss(
    service, w3, carrier, shipper, bank, monkeypatch
):
    """A node restored from a state dump can still answer eth_getTransactionReceipt for a transaction of
    a block it lost (anvil did, in the crash harness: three final operations were never resubmitted).
    The receipt's block must be the one the chain now has at that height, and not above the head."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    issued = service.issue(carrier.org, _document("SVC-STALE-1"), shipper.org)
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
    assert _events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]


def test_a_failed_send_leaves_the_operation_pending_and_a_retry_executes_it(
    service, journal_engine, carrier, shipper, bank
):
    """The relayer could not send (chain down): the acknowledged operation is not failed but pending,
    and the periodic retry (recover with min_age) executes it once."""
    ebl = service.issue(carrier.org, _document("SVC-SENDFAIL-1"), shipper.org).ebl_id
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
    assert _events_of(service, ebl) == ["ISSUE", "TRANSFER"]


def test_a_resubmitted_copy_that_finds_its_nonce_spent_marks_the_operation_final(
    service, carrier, shipper, bank
):
    """A copy resubmitted after its first submission executed out of view fails with TitleNonceUsed for
    its own nonce: the operation is final (it executed once), not failed."""
    ebl = service.issue(carrier.org, _document("SVC-DUP-1"), shipper.org).ebl_id
    done = service.transfer(shipper.org, ebl, bank.org)
    row = service._journal.get(done.operation_id)
    service._journal.reopen(done.operation_id, "test: lost from view")
    service._outbox.track(done.operation_id, service._relayer.submit(entry_from_dict(row.entry)))
    after = service.wait(done.operation_id)
    assert after.status == "final", after
    assert _events_of(service, ebl) == ["ISSUE", "TRANSFER"]


def test_a_write_while_the_gate_is_closed_is_refused_and_journals_nothing(
    service, journal_engine, carrier, shipper, bank
):
    """While the runtime recovers what the chain lost, the shipper's transfer is refused with a
    retryable LedgerUnavailableError and leaves no journal row; a replay of an acknowledged key still
    answers; once the gate opens the same transfer goes through."""
    issued = service.issue(
        carrier.org, _document("SVC-GATE-1"), shipper.org, options=WriteOptions("gate-issue")
    )
    journal = SqlJournal(journal_engine)
    before = len(journal.final_since(datetime.now(UTC) - timedelta(hours=1)))

    service.writes.close("the ledger is recovering; retry shortly")
    with pytest.raises(LedgerUnavailableError):
        service.transfer(shipper.org, issued.ebl_id, bank.org, options=WriteOptions("gate-transfer"))
    assert len(journal.final_since(datetime.now(UTC) - timedelta(hours=1))) == before
    assert journal.unfinished() == []
    replay = service.issue(
        carrier.org, _document("SVC-GATE-1"), shipper.org, options=WriteOptions("gate-issue")
    )
    assert replay.operation_id == issued.operation_id

    service.writes.open()
    moved = service.transfer(shipper.org, issued.ebl_id, bank.org, options=WriteOptions("gate-transfer"))
    assert moved.status == "final"
    assert _events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]
