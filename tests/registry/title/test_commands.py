"""The title service's commands run whole life cycles against a real anvil: custodial and client-signed."""

from __future__ import annotations

import json

import pytest
from eth_utils.crypto import keccak

from registry.chain.errors import error_class
from registry.errors import (
    CarrierMismatchError,
    IdempotencyConflictError,
    InvalidDocumentError,
    InvalidSignatureError,
    NotFoundError,
)
from registry.keys import LocalSigner
from registry.store.journal import SqlJournal
from registry.title import WriteOptions
from registry.types import Action, Status
from tests.registry.title.helpers import document, events_of


def test_to_order_life_cycle_runs_through_the_service(service, carrier, shipper, bank, consignee):
    """Carrier issues to the shipper, the bank holds as pledgee, title and possession pass to the
    consignee, who surrenders for delivery, and the carrier accepts."""
    doc = document("SVC-TO-ORDER-1")
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
    doc = document("SVC-STRAIGHT-1", "ctk-issuance-straight")
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
    ebl = service.issue(carrier.org, document("SVC-CLIENT-1"), shipper.org).ebl_id
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
    ebl = service.issue(carrier.org, document("SVC-CLIENT-2"), shipper.org).ebl_id
    typed = service.prepare(Action.TRANSFER, ebl, party=bank.org)
    signature = LocalSigner(buyer.key.key).sign_typed_data(typed)
    with pytest.raises(InvalidSignatureError):
        service.submit_signed(shipper.org, typed, signature)


def test_illegal_requests_fail_at_once_with_typed_errors(service, carrier, shipper, bank):
    """Not holder, duplicate document, invalid document: each a typed error, nothing journaled."""
    doc = document("SVC-ILLEGAL-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    with pytest.raises(error_class("TitleNotHolder")):
        service.transfer(bank.org, ebl, carrier.org)
    with pytest.raises(error_class("TitleAlreadyIssued")):
        service.issue(carrier.org, doc, shipper.org)
    with pytest.raises(InvalidDocumentError) as invalid:
        service.issue(carrier.org, document("SVC-ILLEGAL-2") | {"issueDate": None}, shipper.org)
    assert any(v.path == "$.issueDate" for v in invalid.value.violations)
    with pytest.raises(NotFoundError):
        service.verify(12345)


def test_retried_issuance_with_the_same_idempotency_key_issues_once(service, carrier, shipper):
    """A retry returns the first operation; the same key for another request is a conflict."""
    doc = document("SVC-IDEMPOTENT-1")
    first = service.issue(carrier.org, doc, shipper.org, options=WriteOptions("req-1"))
    again = service.issue(carrier.org, doc, shipper.org, options=WriteOptions("req-1"))
    assert again.operation_id == first.operation_id and again.status == "final"
    with pytest.raises(IdempotencyConflictError):
        service.issue(carrier.org, document("SVC-IDEMPOTENT-2"), shipper.org, options=WriteOptions("req-1"))


def test_bank_verifies_a_presented_document_in_any_key_order(service, carrier, shipper):
    """Verification by document recomputes the RFC 8785 hash from whatever JSON is presented."""
    doc = document("SVC-VERIFY-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    shuffled = json.dumps(dict(reversed(list(doc.items()))), indent=3)
    view = service.verify(document_text=shuffled)
    assert view.ebl_id == ebl and view.document_matches is True and view.holder == shipper.org
    tampered = json.dumps(doc | {"issueDate": "2030-01-01"})
    assert service.verify(ebl, document_text=tampered).document_matches is False


def test_amendment_voids_and_reissues_linked(service, carrier, shipper):
    """Surrender for amendment, SACC, amend: the original is voided and its successor is live."""
    original = document("SVC-AMEND-1")
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
    doc = document("SVC-CARRIER-1")  # names MSC / SMDG: the test carrier's code
    with pytest.raises(CarrierMismatchError) as refused:
        service.issue(other_carrier.org, doc, shipper.org)
    assert refused.value.code == "carrier_mismatch"
    assert [v.path for v in refused.value.violations] == ["$.carrierCode"]
    assert (refused.value.named, refused.value.recorded) == ("SMDG:MSC", ("SMDG:MAEU",))
    assert SqlJournal(journal_engine).unfinished() == []
    assert service.issue(carrier.org, doc, shipper.org).status == "final"


def test_the_right_code_on_another_code_list_names_both_paths(service, carrier, shipper):
    """MSC on the NMFTA list is not MSC on SMDG's: refused, naming $.carrierCode and the list."""
    doc = document("SVC-CARRIER-2") | {"carrierCodeListProvider": "NMFTA"}
    with pytest.raises(CarrierMismatchError) as refused:
        service.issue(carrier.org, doc, shipper.org)
    assert [v.path for v in refused.value.violations] == ["$.carrierCode", "$.carrierCodeListProvider"]


def test_an_amended_document_must_name_the_carrier_and_be_a_newdocument(service, carrier, shipper):
    """Amendment: a document naming another carrier is refused (CarrierMismatchError), the unchanged
    document is refused on chain as a second record of it (TitleDuplicateDocument naming the
    predecessor); a changed document is amended."""
    original = document("SVC-AMEND-2")
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
    ebl = service.issue(carrier.org, document("SVC-SWTP-1"), shipper.org).ebl_id
    service.surrender_for_amendment(shipper.org, ebl, "SWTP")
    service.accept_surrender(carrier.org, ebl)
    paper = keccak(text="printed bill with change-of-medium statement")
    service.switch_to_paper(carrier.org, ebl, paper)
    view = service.verify(ebl)
    assert view.status is Status.SWITCHED_TO_PAPER and view.paper_document_hash == paper.hex()


def test_write_options_reach_a_holder_command(service, carrier, shipper, bank):
    """A retried transfer with the same idempotency key answers the first operation and moves title once;
    ``wait=False`` answers the operation submitted, and waiting on it finds it final."""
    ebl = service.issue(carrier.org, document("SVC-OPTIONS-1"), shipper.org).ebl_id
    first = service.transfer(shipper.org, ebl, bank.org, options=WriteOptions("move-1"))
    again = service.transfer(shipper.org, ebl, bank.org, options=WriteOptions("move-1"))
    assert again.operation_id == first.operation_id and again.status == "final"
    assert events_of(service, ebl) == ["ISSUE", "TRANSFER"]

    back = service.transfer(bank.org, ebl, shipper.org, options=WriteOptions(wait=False))
    assert back.status == "submitted"
    assert service.wait(back.operation_id).status == "final"
    assert service.verify(ebl).holder == shipper.org
