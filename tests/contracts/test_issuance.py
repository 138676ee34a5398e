"""Issuance: straight and to-order bills, the Issued / Transfer events, ids and every refusal."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from registry.types import DocumentKind, Role, Status, SurrenderReason
from tests.contracts.conftest import encode_error
from tests.contracts.helpers import (
    ZERO_ADDRESS,
    ZERO_HASH,
    ebl_id_of,
    event_names,
    events,
    fresh_tdr,
    issuance,
    sign_issuance,
    title,
)


def issue_fn(registry, to: str, endorsee: str = ZERO_ADDRESS, kind=DocumentKind.TO_ORDER, tdr=None, doc=None):
    tdr = fresh_tdr() if tdr is None else tdr
    doc = keccak(b"doc" + tdr) if doc is None else doc
    return registry.functions.issue(tdr, doc, to, endorsee, int(kind)), tdr, doc


def test_issue_straight_bill_to_shipper_names_consignee_and_emits_issued_and_mint(
    registry, send, carrier, shipper, consignee
):
    """Straight bill: shipper holds, consignee is endorsee, not endorsable; Transfer(0, shipper) + Issued."""
    fn, tdr, doc = issue_fn(registry, shipper.org, consignee.org, DocumentKind.STRAIGHT)
    ebl = fn.call({"from": carrier.address})
    receipt = send(fn, carrier)
    assert ebl == ebl_id_of(carrier.org, tdr)
    assert event_names(registry, receipt) == ["Transfer", "Issued"]
    assert events(registry, "Transfer", receipt) == [
        {"from": ZERO_ADDRESS, "to": shipper.org, "tokenId": ebl}
    ]
    assert events(registry, "Issued", receipt) == [
        {
            "eblId": ebl,
            "carrier": carrier.org,
            "holder": shipper.org,
            "endorsee": consignee.org,
            "kind": DocumentKind.STRAIGHT,
            "documentHash": doc,
            "tdrHash": tdr,
            "predecessor": 0,
            "actorKey": carrier.address,
        }
    ]
    assert title(registry, ebl) == {
        "status": Status.ACTIVE,
        "kind": DocumentKind.STRAIGHT,
        "reason": SurrenderReason.NONE,
        "holder": shipper.org,
        "endorsee": consignee.org,
        "carrier": carrier.org,
        "nominee": ZERO_ADDRESS,
        "previousHolder": ZERO_ADDRESS,
        "endorsable": False,
        "blankEndorsed": False,
        "amended": False,
        "rejectable": False,
        "seq": 0,
        "documentHash": doc,
        "predecessor": 0,
        "successor": 0,
        "paperDocumentHash": ZERO_HASH,
    }


@pytest.mark.parametrize("named", [False, True], ids=["endorsee_defaults_to_issue_to", "named_endorsee"])
def test_issue_to_order_bill_endorses_to_issue_to_party_or_named_endorsee(
    registry, send, carrier, shipper, bank, named
):
    """A to-order bill is endorsable; its first endorsee is `issueTo` unless another member is named."""
    endorsee = bank.org if named else shipper.org
    fn, tdr, doc = issue_fn(registry, shipper.org, bank.org if named else ZERO_ADDRESS)
    receipt = send(fn, carrier)
    ebl = ebl_id_of(carrier.org, tdr)
    assert events(registry, "Transfer", receipt) == [
        {"from": ZERO_ADDRESS, "to": shipper.org, "tokenId": ebl}
    ]
    (issued,) = events(registry, "Issued", receipt)
    assert issued == {
        "eblId": ebl,
        "carrier": carrier.org,
        "holder": shipper.org,
        "endorsee": endorsee,
        "kind": DocumentKind.TO_ORDER,
        "documentHash": doc,
        "tdrHash": tdr,
        "predecessor": 0,
        "actorKey": carrier.address,
    }
    view = title(registry, ebl)
    assert view["status"] == Status.ACTIVE
    assert view["kind"] == DocumentKind.TO_ORDER
    assert (view["holder"], view["endorsee"], view["carrier"]) == (shipper.org, endorsee, carrier.org)
    assert (view["endorsable"], view["blankEndorsed"], view["rejectable"]) == (True, False, False)
    assert registry.functions.holderOf(ebl).call() == shipper.org
    assert registry.functions.endorseeOf(ebl).call() == endorsee
    assert registry.functions.statusOf(ebl).call() == Status.ACTIVE
    assert registry.functions.documentHashOf(ebl).call() == doc


def test_issue_straight_bill_reverts_without_consignee(registry, reverts, carrier, shipper):
    """A straight bill needs its consignee: zero reverts TitleInvalidCounterparty(eblId, 0x0)."""
    fn, tdr, _ = issue_fn(registry, shipper.org, ZERO_ADDRESS, DocumentKind.STRAIGHT)
    with reverts("TitleInvalidCounterparty", ebl_id_of(carrier.org, tdr), ZERO_ADDRESS):
        fn.transact({"from": carrier.address})


@pytest.mark.parametrize("kind", list(DocumentKind), ids=lambda k: k.name.lower())
def test_issue_reverts_when_carrier_reissues_same_tdr(
    registry, send, reverts, carrier, shipper, consignee, kind
):
    """A carrier cannot issue a TDR twice, even to another party with another document: TitleAlreadyIssued."""
    fn, tdr, _ = issue_fn(registry, shipper.org, consignee.org, kind)
    send(fn, carrier)
    again, _, _ = issue_fn(registry, consignee.org, consignee.org, kind, tdr=tdr, doc=keccak(b"other doc"))
    with reverts("TitleAlreadyIssued", ebl_id_of(carrier.org, tdr)):
        again.transact({"from": carrier.address})


def test_issue_same_tdr_by_other_carrier_is_a_different_ebl(registry, send, carrier, other_carrier, shipper):
    """Ids are per carrier: another carrier's identical TDR (in its own document) is a distinct eBL."""
    tdr = fresh_tdr()
    send(issue_fn(registry, shipper.org, tdr=tdr)[0], carrier)
    send(
        issue_fn(registry, shipper.org, tdr=tdr, doc=keccak(b"other carrier's document" + tdr))[0],
        other_carrier,
    )
    mine, theirs = ebl_id_of(carrier.org, tdr), ebl_id_of(other_carrier.org, tdr)
    assert mine != theirs
    assert title(registry, mine)["carrier"] == carrier.org
    assert title(registry, theirs)["carrier"] == other_carrier.org
    assert registry.functions.balanceOf(shipper.org).call() == 2


# ----------------------------------------------------------------------------- one record per document


@pytest.mark.parametrize("copier", ["other_carrier", "carrier"])
def test_issue_reverts_when_document_already_issued_by_any_carrier(
    registry, send, reverts, cast, carrier, shipper, bank, copier
):
    """A document hash names one record: a second issuance of it, by another carrier or the same one
    under another TDR, reverts TitleDuplicateDocument(docHash, existing eBL) and leaves nothing behind."""
    fn, tdr, doc = issue_fn(registry, shipper.org)
    send(fn, carrier)
    original = ebl_id_of(carrier.org, tdr)
    by = cast[copier]
    copy, copy_tdr, _ = issue_fn(registry, bank.org, doc=doc)
    with reverts("TitleDuplicateDocument", doc, original):
        copy.transact({"from": by.address})
    assert registry.functions.statusOf(ebl_id_of(by.org, copy_tdr)).call() == Status.NONE
    assert registry.functions.eblIdOfDocument(doc).call() == original
    assert registry.functions.balanceOf(bank.org).call() == 0


def test_issue_signed_reverts_when_document_already_issued(
    registry, send, reverts, outsider, carrier, other_carrier, shipper
):
    """The signed path keeps the rule too: TitleDuplicateDocument, and the signer's nonce stays unused."""
    fn, tdr, doc = issue_fn(registry, shipper.org)
    send(fn, carrier)
    signed = sign_issuance(registry, other_carrier, issuance(fresh_tdr(), shipper.org, doc=doc))
    with reverts("TitleDuplicateDocument", doc, ebl_id_of(carrier.org, tdr)):
        registry.functions.issueSigned(signed).transact({"from": outsider.address})
    assert registry.functions.nonceUsed(other_carrier.address, signed[0][5]).call() is False


def test_issue_batch_skips_copies_of_issued_documents_with_batch_entry_failed(
    registry, send, outsider, carrier, other_carrier, shipper, bank
):
    """issueBatch: an entry copying a document issued before, or earlier in the same batch, is skipped
    with BatchEntryFailed(TitleDuplicateDocument); its nonce stays unused; the other entries stand."""
    fn, tdr, issued_before = issue_fn(registry, shipper.org)
    send(fn, carrier)
    first_tdr, later_tdr, copy_tdr, again_tdr = (fresh_tdr() for _ in range(4))
    first = sign_issuance(registry, carrier, issuance(first_tdr, shipper.org))
    copy_of_earlier = sign_issuance(registry, other_carrier, issuance(copy_tdr, bank.org, doc=issued_before))
    copy_in_batch = sign_issuance(registry, other_carrier, issuance(again_tdr, bank.org, doc=first[0][1]))
    later = sign_issuance(registry, other_carrier, issuance(later_tdr, bank.org))
    batch = [first, copy_of_earlier, copy_in_batch, later]

    receipt = send(registry.functions.issueBatch(batch), outsider)

    def failure(name: str, *args: object) -> bytes:
        return bytes.fromhex(encode_error(registry, name, *args)[2:])

    assert events(registry, "BatchEntryFailed", receipt) == [
        {
            "index": 1,
            "signer": other_carrier.address,
            "nonce": copy_of_earlier[0][5],
            "reason": failure("TitleDuplicateDocument", issued_before, ebl_id_of(carrier.org, tdr)),
        },
        {
            "index": 2,
            "signer": other_carrier.address,
            "nonce": copy_in_batch[0][5],
            "reason": failure("TitleDuplicateDocument", first[0][1], ebl_id_of(carrier.org, first_tdr)),
        },
    ]
    assert [e["eblId"] for e in events(registry, "Issued", receipt)] == [
        ebl_id_of(carrier.org, first_tdr),
        ebl_id_of(other_carrier.org, later_tdr),
    ]
    for skipped in (copy_of_earlier, copy_in_batch):
        assert registry.functions.nonceUsed(other_carrier.address, skipped[0][5]).call() is False
    assert registry.functions.balanceOf(bank.org).call() == 1


def test_ebl_id_of_document_names_the_record_or_zero(registry, send, carrier, shipper):
    """eblIdOfDocument answers the record a document hash was issued as, and zero for any other hash."""
    fn, tdr, doc = issue_fn(registry, shipper.org)
    assert registry.functions.eblIdOfDocument(doc).call() == 0
    send(fn, carrier)
    assert registry.functions.eblIdOfDocument(doc).call() == ebl_id_of(carrier.org, tdr)
    assert registry.functions.eblIdOfDocument(ZERO_HASH).call() == 0
    assert registry.functions.eblIdOfDocument(keccak(b"never issued")).call() == 0


def test_issue_reverts_for_zero_document_hash(registry, reverts, carrier, shipper):
    """A zero document hash reverts TitleZeroHash()."""
    fn, _, _ = issue_fn(registry, shipper.org, doc=ZERO_HASH)
    with reverts("TitleZeroHash"):
        fn.transact({"from": carrier.address})


@pytest.mark.parametrize(
    "slot,kind",
    [
        ("issue_to", DocumentKind.TO_ORDER),
        ("endorsee", DocumentKind.TO_ORDER),
        ("endorsee", DocumentKind.STRAIGHT),
    ],
    ids=["issue_to", "to_order_endorsee", "straight_consignee"],
)
def test_issue_reverts_when_naming_outsider(registry, reverts, carrier, shipper, outsider, slot, kind):
    """Only members receive title: an outsider as holder or endorsee reverts MembershipUnknownOrganisation."""
    to, endorsee = (outsider.org, shipper.org) if slot == "issue_to" else (shipper.org, outsider.org)
    fn, _, _ = issue_fn(registry, to, endorsee, kind)
    with reverts("MembershipUnknownOrganisation", outsider.org):
        fn.transact({"from": carrier.address})


def test_issue_reverts_for_invalid_kind(registry, reverts, governance, carrier, shipper):
    """An out-of-range kind (only expressible in a signed issuance) reverts TitleInvalidKind(kind)."""
    signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org, kind=2))
    with reverts("TitleInvalidKind", 2):
        registry.functions.issueSigned(signed).transact({"from": governance.address})


def test_ebl_id_of_is_keccak_of_abi_encoded_carrier_and_tdr(registry, carrier, other_carrier):
    """eblIdOf(carrier, tdrHash) == keccak256(abi.encode(carrier, tdrHash)), a pure function."""
    for who in (carrier, other_carrier):
        for tdr in (ZERO_HASH, keccak(text="MAEU123456789"), b"\xff" * 32):
            assert registry.functions.eblIdOf(who.org, tdr).call() == ebl_id_of(who.org, tdr)


def test_issue_return_value_equals_ebl_id_of(registry, carrier, shipper):
    """issue() returns the id eblIdOf predicts."""
    fn, tdr, _ = issue_fn(registry, shipper.org)
    assert fn.call({"from": carrier.address}) == registry.functions.eblIdOf(carrier.org, tdr).call()


def test_carrier_issues_to_itself_and_holds(registry, send, carrier):
    """A carrier may issue to itself (e.g. to its own agency before release); it then holds the eBL."""
    fn, tdr, _ = issue_fn(registry, carrier.org)
    send(fn, carrier)
    ebl = ebl_id_of(carrier.org, tdr)
    assert registry.functions.ownerOf(ebl).call() == carrier.org
    assert registry.functions.balanceOf(carrier.org).call() == 1


@pytest.mark.parametrize("view", ["titleOf", "holderOf", "endorseeOf", "documentHashOf"])
def test_views_revert_for_unknown_ebl(registry, reverts, view):
    """Views of an id that was never issued revert TitleUnknownEbl(eblId)."""
    with reverts("TitleUnknownEbl", 12345):
        getattr(registry.functions, view)(12345).call()


def test_status_of_unknown_ebl_is_none(registry):
    """statusOf answers None (no revert) for an id that was never issued."""
    assert registry.functions.statusOf(12345).call() == Status.NONE


def test_issue_records_no_action_and_starts_sequence_at_zero(registry, send, carrier, shipper):
    """Issuance is action 0: no ActionRecorded event, seq 0."""
    fn, tdr, _ = issue_fn(registry, shipper.org)
    receipt = send(fn, carrier)
    assert events(registry, "ActionRecorded", receipt) == []
    assert title(registry, ebl_id_of(carrier.org, tdr))["seq"] == 0


def test_member_roles_as_onboarded(registry, cast):
    """The cast is onboarded with the roles the issuance rules depend on."""
    for p in cast.values():
        if p.role is not Role.NONE:
            assert registry.functions.organisation(p.org).call()[1] == p.role
