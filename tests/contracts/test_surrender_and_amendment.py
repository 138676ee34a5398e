"""Surrender for delivery and for amendment, the carrier's answers (SACC, SREJ, void, amend, switch to
paper), carrier authority, wrong statuses and the absorbing terminal states."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils import keccak

from registry.types import Action, DocumentKind, Status, SurrenderReason
from tests.contracts.helpers import (
    AMENDED_DOC,
    CARRIER_ACTIONS,
    HOLDER_ACTIONS,
    PAPER_DOC,
    TITLE_ACTIONS,
    ZERO_ADDRESS,
    ZERO_HASH,
    action_id,
    amended_id_of,
    attempt,
    ebl_id_of,
    event_names,
    events,
    fresh_tdr,
    recorded,
    text32,
    title,
    title_call,
)

STATE_OF = {
    "active": Status.ACTIVE,
    "delivery_requested": Status.SURRENDER_REQUESTED,
    "amendment_requested": Status.SURRENDER_REQUESTED,
    "surrendered_for_amendment": Status.SURRENDERED_FOR_AMENDMENT,
    "surrendered_for_paper": Status.SURRENDERED_FOR_AMENDMENT,
    "surrendered": Status.SURRENDERED,
    "voided": Status.VOIDED,
    "amended_predecessor": Status.VOIDED,
    "switched_to_paper": Status.SWITCHED_TO_PAPER,
}
TERMINAL = ("surrendered", "voided", "amended_predecessor", "switched_to_paper")


@pytest.fixture
def reach(registry, send, issue, carrier, shipper) -> Callable[[str], int]:
    """``reach(state)`` -> a to-order eBL issued to the shipper and driven into `state` (see STATE_OF)."""

    def _reach(state: str) -> int:
        f = registry.functions
        ebl = issue(shipper)
        steps = {
            "active": [],
            "delivery_requested": [(f.requestSurrenderForDelivery(ebl), shipper)],
            "amendment_requested": [(f.requestSurrenderForAmendment(ebl, text32("COD")), shipper)],
            "surrendered": [(f.requestSurrenderForDelivery(ebl), shipper), (f.acceptSurrender(ebl), carrier)],
            "surrendered_for_amendment": [
                (f.requestSurrenderForAmendment(ebl, text32("COD")), shipper),
                (f.acceptSurrender(ebl), carrier),
            ],
            "surrendered_for_paper": [
                (f.requestSurrenderForAmendment(ebl, text32("SWTP")), shipper),
                (f.acceptSurrender(ebl), carrier),
            ],
        }
        steps["voided"] = [*steps["surrendered_for_amendment"], (f.voidEbl(ebl), carrier)]
        steps["amended_predecessor"] = [
            *steps["surrendered_for_amendment"],
            (f.amend(ebl, AMENDED_DOC, ZERO_ADDRESS), carrier),
        ]
        steps["switched_to_paper"] = [
            *steps["surrendered_for_paper"],
            (f.switchToPaper(ebl, PAPER_DOC), carrier),
        ]
        for fn, who in steps[state]:
            send(fn, who)
        assert registry.functions.statusOf(ebl).call() == STATE_OF[state]
        return ebl

    return _reach


# ----------------------------------------------------------------------------- surrender for delivery


def test_shipper_requests_surrender_for_delivery_and_carrier_takes_possession(
    registry, send, issue, carrier, shipper
):
    """Surrender request: possession passes to the issuing carrier (Transfer), status SurrenderRequested."""
    ebl = issue(shipper)
    receipt = send(registry.functions.requestSurrenderForDelivery(ebl), shipper)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [{"from": shipper.org, "to": carrier.org, "tokenId": ebl}]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.SURRENDER_FOR_DELIVERY, shipper, carrier.org, 1)
    ]
    view = title(registry, ebl)
    assert (view["status"], view["reason"]) == (Status.SURRENDER_REQUESTED, SurrenderReason.DELIVERY)
    assert (view["holder"], view["previousHolder"], view["endorsee"]) == (
        carrier.org,
        shipper.org,
        shipper.org,
    )
    assert registry.functions.balanceOf(carrier.org).call() == 1
    assert registry.functions.balanceOf(shipper.org).call() == 0


@pytest.mark.parametrize("case", ["pledgee_bank", "straight_bill_shipper"])
def test_request_surrender_for_delivery_reverts_when_holder_not_entitled(
    registry, send, reverts, issue, shipper, consignee, bank, case
):
    """Only an entitled holder takes delivery: pledgee bank or straight-bill shipper gets TitleNotEntitled."""
    if case == "pledgee_bank":
        ebl, holder = issue(shipper), bank
        send(registry.functions.transferPossession(ebl, bank.org), shipper)
    else:
        ebl, holder = issue(shipper, consignee, DocumentKind.STRAIGHT), shipper
    with reverts("TitleNotEntitled", ebl, holder.org):
        registry.functions.requestSurrenderForDelivery(ebl).transact({"from": holder.address})


def test_straight_bill_consignee_surrenders_for_delivery(registry, send, issue, carrier, shipper, consignee):
    """The consignee holding a straight bill is entitled: surrender accepted, bill accomplished."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    send(registry.functions.transferPossession(ebl, consignee.org), shipper)
    send(registry.functions.requestSurrenderForDelivery(ebl), consignee)
    send(registry.functions.acceptSurrender(ebl), carrier)
    assert registry.functions.statusOf(ebl).call() == Status.SURRENDERED


@pytest.mark.parametrize("fn", ["requestSurrenderForDelivery", "requestSurrenderForAmendment"])
def test_request_surrender_reverts_when_caller_not_holder(registry, reverts, issue, shipper, consignee, fn):
    """Only the holder requests surrender: TitleNotHolder(eblId, org)."""
    ebl = issue(shipper, consignee)
    args = (ebl,) if fn == "requestSurrenderForDelivery" else (ebl, text32("COD"))
    with reverts("TitleNotHolder", ebl, consignee.org):
        getattr(registry.functions, fn)(*args).transact({"from": consignee.address})


def test_carrier_accepts_surrender_for_delivery_and_ebl_is_burned(
    registry, send, reverts, reach, carrier, shipper
):
    """SACC for delivery: Surrendered (terminal), Transfer(carrier, 0), ownerOf reverts, holder kept."""
    ebl = reach("delivery_requested")
    receipt = send(registry.functions.acceptSurrender(ebl), carrier)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [
        {"from": carrier.org, "to": ZERO_ADDRESS, "tokenId": ebl}
    ]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.ACCEPT_SURRENDER, carrier, shipper.org, 2)
    ]
    view = title(registry, ebl)
    assert (view["status"], view["reason"], view["holder"]) == (
        Status.SURRENDERED,
        SurrenderReason.DELIVERY,
        carrier.org,
    )
    assert registry.functions.balanceOf(carrier.org).call() == 0
    with reverts("TitleWrongStatus", ebl, int(Status.SURRENDERED)):
        registry.functions.ownerOf(ebl).call()


@pytest.mark.parametrize("state", ["delivery_requested", "amendment_requested"])
def test_carrier_rejects_surrender_and_possession_returns_to_requester(
    registry, send, reach, carrier, shipper, bank, state
):
    """SREJ: Active again, possession back to the requester (Transfer), reason cleared; it acts again."""
    ebl = reach(state)
    receipt = send(registry.functions.rejectSurrender(ebl), carrier)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [{"from": carrier.org, "to": shipper.org, "tokenId": ebl}]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.REJECT_SURRENDER, carrier, shipper.org, 2)
    ]
    view = title(registry, ebl)
    assert (view["status"], view["reason"]) == (Status.ACTIVE, SurrenderReason.NONE)
    assert (view["holder"], view["previousHolder"], view["rejectable"]) == (shipper.org, carrier.org, False)
    assert registry.functions.balanceOf(shipper.org).call() == 1
    send(registry.functions.transferPossession(ebl, bank.org), shipper)


def test_rejected_surrender_cannot_be_bounced_back_by_reject_transfer(
    registry, send, reverts, issue, carrier, shipper, buyer
):
    """A requester that received by transfer loses its right to reject: after SREJ, TitleNothingToReject."""
    ebl = issue(shipper)
    send(registry.functions.endorseToOrder(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    send(registry.functions.requestSurrenderForDelivery(ebl), buyer)
    assert title(registry, ebl)["rejectable"] is False
    send(registry.functions.rejectSurrender(ebl), carrier)
    with reverts("TitleNothingToReject", ebl):
        registry.functions.rejectTransfer(ebl).transact({"from": buyer.address})


def test_surrender_request_clears_nomination(registry, send, reverts, issue, carrier, shipper, bank, buyer):
    """A pending nomination dies with the surrender request: after SREJ the bank cannot endorse to it."""
    ebl = issue(shipper)
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    send(registry.functions.nominate(ebl, buyer.org), shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), bank)
    assert title(registry, ebl)["nominee"] == ZERO_ADDRESS
    send(registry.functions.rejectSurrender(ebl), carrier)
    with reverts("TitleNotEntitled", ebl, bank.org):
        registry.functions.endorse(ebl, buyer.org).transact({"from": bank.address})


def test_carrier_holding_own_ebl_surrenders_without_change_of_possession(registry, send, issue, carrier):
    """When the carrier itself holds, a surrender request emits no Transfer and keeps its balance."""
    ebl = issue(carrier)
    receipt = send(registry.functions.requestSurrenderForDelivery(ebl), carrier)
    assert event_names(registry, receipt) == ["ActionRecorded"]
    assert registry.functions.balanceOf(carrier.org).call() == 1
    receipt = send(registry.functions.rejectSurrender(ebl), carrier)
    assert event_names(registry, receipt) == ["ActionRecorded"]
    assert registry.functions.balanceOf(carrier.org).call() == 1


# ----------------------------------------------------------------------------- surrender for amendment


@pytest.mark.parametrize(
    "code,reason",
    [
        ("SWTP", SurrenderReason.SWITCH_TO_PAPER),
        ("COD", SurrenderReason.AMENDMENT),
        ("SWI", SurrenderReason.AMENDMENT),
        ("", SurrenderReason.AMENDMENT),
        ("swtp", SurrenderReason.AMENDMENT),
    ],
    ids=["SWTP", "COD", "SWI", "zero", "lowercase_swtp"],
)
def test_request_surrender_for_amendment_maps_reason_code(
    registry, send, issue, carrier, shipper, code, reason
):
    """The bytes32 reason code "SWTP" means switch to paper; any other code (or zero) means amendment."""
    ebl = issue(shipper)
    receipt = send(registry.functions.requestSurrenderForAmendment(ebl, text32(code)), shipper)
    assert events(registry, "Transfer", receipt) == [{"from": shipper.org, "to": carrier.org, "tokenId": ebl}]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.SURRENDER_FOR_AMENDMENT, shipper, carrier.org, 1, data=text32(code))
    ]
    view = title(registry, ebl)
    assert (view["status"], view["reason"], view["holder"]) == (
        Status.SURRENDER_REQUESTED,
        reason,
        carrier.org,
    )


def test_pledgee_bank_may_request_surrender_for_amendment(registry, send, issue, carrier, shipper, bank):
    """Amendment needs possession only (holder), not entitlement: the pledgee bank may request it."""
    ebl = issue(shipper)
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), bank)
    assert title(registry, ebl)["previousHolder"] == bank.org


@pytest.mark.parametrize("state", ["amendment_requested"])
def test_carrier_accepts_surrender_for_amendment_and_keeps_possession(
    registry, send, reach, carrier, shipper, state
):
    """SACC for amendment: status SurrenderedForAmendment, the carrier keeps it (no Transfer, still owner)."""
    ebl = reach(state)
    receipt = send(registry.functions.acceptSurrender(ebl), carrier)
    assert event_names(registry, receipt) == ["ActionRecorded"]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.ACCEPT_SURRENDER, carrier, shipper.org, 2)
    ]
    assert registry.functions.statusOf(ebl).call() == Status.SURRENDERED_FOR_AMENDMENT
    assert registry.functions.ownerOf(ebl).call() == carrier.org
    assert registry.functions.balanceOf(carrier.org).call() == 1


def test_carrier_amends_ebl_voiding_it_and_reissuing_to_requester(registry, send, reach, carrier, shipper):
    """Amend: old Voided (burned), new eBL Active held by the requester, linked both ways, new doc hash."""
    old = reach("surrendered_for_amendment")
    old_doc = registry.functions.documentHashOf(old).call()
    fn = registry.functions.amend(old, AMENDED_DOC, ZERO_ADDRESS)
    new = fn.call({"from": carrier.address})
    receipt = send(fn, carrier)
    assert new == amended_id_of(old)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded", "Transfer", "Issued"]
    assert events(registry, "Transfer", receipt) == [
        {"from": carrier.org, "to": ZERO_ADDRESS, "tokenId": old},
        {"from": ZERO_ADDRESS, "to": shipper.org, "tokenId": new},
    ]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(old, Action.AMEND, carrier, shipper.org, 3, data=new.to_bytes(32, "big"))
    ]
    assert events(registry, "Issued", receipt) == [
        {
            "eblId": new,
            "carrier": carrier.org,
            "holder": shipper.org,
            "endorsee": shipper.org,
            "kind": DocumentKind.TO_ORDER,
            "documentHash": AMENDED_DOC,
            "tdrHash": ZERO_HASH,
            "predecessor": old,
            "actorKey": carrier.address,
        }
    ]
    old_view = title(registry, old)
    assert (old_view["status"], old_view["successor"], old_view["documentHash"]) == (
        Status.VOIDED,
        new,
        old_doc,
    )
    assert title(registry, new) == {
        "status": Status.ACTIVE,
        "kind": DocumentKind.TO_ORDER,
        "reason": SurrenderReason.NONE,
        "holder": shipper.org,
        "endorsee": shipper.org,
        "carrier": carrier.org,
        "nominee": ZERO_ADDRESS,
        "previousHolder": ZERO_ADDRESS,
        "endorsable": True,
        "blankEndorsed": False,
        "amended": True,
        "rejectable": False,
        "seq": 0,
        "documentHash": AMENDED_DOC,
        "predecessor": old,
        "successor": 0,
        "paperDocumentHash": ZERO_HASH,
    }
    assert registry.functions.balanceOf(carrier.org).call() == 0
    assert registry.functions.balanceOf(shipper.org).call() == 1


@pytest.mark.parametrize("kind", list(DocumentKind), ids=lambda k: k.name.lower())
def test_carrier_amends_ebl_naming_new_endorsee(
    registry, send, issue, carrier, shipper, consignee, buyer, kind
):
    """Amend with an endorsee: the reissue names it (straight: new consignee, not endorsable)."""
    ebl = issue(shipper, consignee, kind)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), shipper)
    send(registry.functions.acceptSurrender(ebl), carrier)
    receipt = send(registry.functions.amend(ebl, AMENDED_DOC, buyer.org), carrier)
    (issued,) = events(registry, "Issued", receipt)
    assert (issued["endorsee"], issued["kind"]) == (buyer.org, kind)
    view = title(registry, amended_id_of(ebl))
    assert (view["holder"], view["endorsee"], view["kind"]) == (shipper.org, buyer.org, kind)
    assert view["endorsable"] is (kind == DocumentKind.TO_ORDER)
    assert view["amended"] is True


def test_amend_keeps_blank_endorsement_when_no_endorsee_given(registry, send, issue, carrier, shipper, bank):
    """A blank-endorsed bill amended without an endorsee stays a bearer bill, held by the requester."""
    ebl = issue(shipper)
    send(registry.functions.endorseInBlank(ebl), shipper)
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), bank)
    send(registry.functions.acceptSurrender(ebl), carrier)
    send(registry.functions.amend(ebl, AMENDED_DOC, ZERO_ADDRESS), carrier)
    view = title(registry, amended_id_of(ebl))
    assert (view["holder"], view["endorsee"], view["blankEndorsed"], view["endorsable"]) == (
        bank.org,
        ZERO_ADDRESS,
        True,
        True,
    )


def test_amended_ebl_can_be_amended_again_forming_a_chain(registry, send, reach, carrier, shipper):
    """The reissue is a full eBL: surrendered and amended again, it links predecessor -> successor."""
    first = reach("amended_predecessor")
    second = amended_id_of(first)
    send(registry.functions.requestSurrenderForAmendment(second, text32("SWI")), shipper)
    send(registry.functions.acceptSurrender(second), carrier)
    send(registry.functions.amend(second, PAPER_DOC, ZERO_ADDRESS), carrier)
    third = amended_id_of(second)
    assert title(registry, first)["successor"] == second
    assert (title(registry, second)["predecessor"], title(registry, second)["successor"]) == (first, third)
    assert title(registry, third)["predecessor"] == second
    assert registry.functions.statusOf(second).call() == Status.VOIDED


def test_amend_reverts_for_zero_document_hash(registry, reverts, reach, carrier):
    """The amended document hash cannot be zero: TitleZeroHash()."""
    ebl = reach("surrendered_for_amendment")
    with reverts("TitleZeroHash"):
        registry.functions.amend(ebl, ZERO_HASH, ZERO_ADDRESS).transact({"from": carrier.address})


def test_amend_reverts_when_amended_document_is_the_predecessors_own(registry, send, reverts, reach, carrier):
    """An amendment is a new document: amending to the voided predecessor's own hash reverts
    TitleDuplicateDocument(docHash, predecessor), and the eBL stays surrendered for amendment."""
    ebl = reach("surrendered_for_amendment")
    doc = registry.functions.documentHashOf(ebl).call()
    with reverts("TitleDuplicateDocument", doc, ebl):
        registry.functions.amend(ebl, doc, ZERO_ADDRESS).transact({"from": carrier.address})
    assert registry.functions.statusOf(ebl).call() == Status.SURRENDERED_FOR_AMENDMENT
    send(registry.functions.amend(ebl, AMENDED_DOC, ZERO_ADDRESS), carrier)
    assert registry.functions.eblIdOfDocument(AMENDED_DOC).call() == amended_id_of(ebl)


def test_amend_reverts_when_amended_document_is_another_carriers_record(
    registry, send, reverts, reach, carrier, other_carrier, bank
):
    """Amending to a document another record carries (here another carrier's live eBL) reverts
    TitleDuplicateDocument naming that record."""
    ebl = reach("surrendered_for_amendment")
    tdr = fresh_tdr()
    theirs = keccak(b"the other carrier's document" + tdr)
    send(
        registry.functions.issue(tdr, theirs, bank.org, ZERO_ADDRESS, int(DocumentKind.TO_ORDER)),
        other_carrier,
    )
    with reverts("TitleDuplicateDocument", theirs, ebl_id_of(other_carrier.org, tdr)):
        registry.functions.amend(ebl, theirs, ZERO_ADDRESS).transact({"from": carrier.address})


@pytest.mark.parametrize(
    "state,whose", [*((state, "own") for state in TERMINAL), ("amended_predecessor", "amended")]
)
def test_terminal_record_never_frees_its_document_hash(
    registry, send, reverts, reach, carrier, other_carrier, shipper, state, whose
):
    """A hash is never freed: after delivery, void, amendment or switch to paper, the ended record's
    document (and an amendment's document) still cannot be issued again, by any carrier."""
    ebl = reach(state)
    doc, owner = registry.functions.documentHashOf(ebl).call(), ebl
    if whose == "amended":
        doc, owner = AMENDED_DOC, amended_id_of(ebl)
    assert registry.functions.eblIdOfDocument(doc).call() == owner
    for who in (carrier, other_carrier):
        with reverts("TitleDuplicateDocument", doc, owner):
            registry.functions.issue(fresh_tdr(), doc, shipper.org, ZERO_ADDRESS, 1).transact(
                {"from": who.address}
            )


def test_amend_reverts_for_outsider_endorsee(registry, reverts, reach, carrier, outsider):
    """The amended endorsee must be a member: MembershipUnknownOrganisation."""
    ebl = reach("surrendered_for_amendment")
    with reverts("MembershipUnknownOrganisation", outsider.org):
        registry.functions.amend(ebl, AMENDED_DOC, outsider.org).transact({"from": carrier.address})


def test_amend_reverts_when_requester_suspended(registry, send, reverts, reach, governance, carrier, shipper):
    """The amended reissue is an issuance: it cannot go to a suspended requester (NotActive)."""
    ebl = reach("surrendered_for_amendment")
    send(registry.functions.suspendOrganisation(shipper.org), governance)
    with reverts("MembershipOrganisationNotActive", shipper.org):
        registry.functions.amend(ebl, AMENDED_DOC, ZERO_ADDRESS).transact({"from": carrier.address})


def test_amend_reverts_when_new_endorsee_suspended(registry, send, reverts, reach, governance, carrier, bank):
    """The amended reissue cannot name a suspended endorsee: MembershipOrganisationNotActive."""
    ebl = reach("surrendered_for_amendment")
    send(registry.functions.suspendOrganisation(bank.org), governance)
    with reverts("MembershipOrganisationNotActive", bank.org):
        registry.functions.amend(ebl, AMENDED_DOC, bank.org).transact({"from": carrier.address})


def test_reject_surrender_reverts_when_requester_suspended(
    registry, send, reverts, reach, governance, carrier, shipper
):
    """A carrier's SREJ cannot hand title back to a suspended requester (NotActive)."""
    ebl = reach("delivery_requested")
    send(registry.functions.suspendOrganisation(shipper.org), governance)
    with reverts("MembershipOrganisationNotActive", shipper.org):
        registry.functions.rejectSurrender(ebl).transact({"from": carrier.address})


@pytest.mark.parametrize("fn", ["requestSurrenderForDelivery", "requestSurrenderForAmendment"])
def test_request_surrender_reverts_when_issuing_carrier_suspended(
    registry, send, reverts, issue, governance, carrier, shipper, fn
):
    """A surrender cannot pass possession to a suspended carrier: MembershipOrganisationNotActive(carrier)."""
    ebl = issue(shipper)
    send(registry.functions.suspendOrganisation(carrier.org), governance)
    args = (ebl,) if fn == "requestSurrenderForDelivery" else (ebl, text32("COD"))
    with reverts("MembershipOrganisationNotActive", carrier.org):
        getattr(registry.functions, fn)(*args).transact({"from": shipper.address})


def test_carrier_voids_ebl_surrendered_for_amendment(registry, send, reach, carrier):
    """Void: Voided, burned (Transfer(carrier, 0)), ActionRecorded(VOID, counterparty 0), no successor."""
    ebl = reach("surrendered_for_amendment")
    receipt = send(registry.functions.voidEbl(ebl), carrier)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [
        {"from": carrier.org, "to": ZERO_ADDRESS, "tokenId": ebl}
    ]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.VOID, carrier, ZERO_ADDRESS, 3)
    ]
    view = title(registry, ebl)
    assert (view["status"], view["successor"]) == (Status.VOIDED, 0)
    assert registry.functions.balanceOf(carrier.org).call() == 0


def test_carrier_switches_ebl_to_paper(registry, send, reach, carrier, shipper):
    """switchToPaper (SWTP): status SwitchedToPaper, paper hash recorded, burned, original doc hash kept."""
    ebl = reach("surrendered_for_paper")
    doc = registry.functions.documentHashOf(ebl).call()
    receipt = send(registry.functions.switchToPaper(ebl, PAPER_DOC), carrier)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [
        {"from": carrier.org, "to": ZERO_ADDRESS, "tokenId": ebl}
    ]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.SWITCH_TO_PAPER, carrier, shipper.org, 3, data=PAPER_DOC)
    ]
    view = title(registry, ebl)
    assert (view["status"], view["reason"]) == (Status.SWITCHED_TO_PAPER, SurrenderReason.SWITCH_TO_PAPER)
    assert (view["paperDocumentHash"], view["documentHash"]) == (PAPER_DOC, doc)
    assert registry.functions.balanceOf(carrier.org).call() == 0


@pytest.mark.parametrize("code", ["COD", "SWI", ""])
def test_switch_to_paper_reverts_for_amendment_reason(registry, send, reverts, issue, carrier, shipper, code):
    """Only a surrender requested with "SWTP" can be switched to paper: TitleWrongSurrenderReason."""
    ebl = issue(shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32(code)), shipper)
    send(registry.functions.acceptSurrender(ebl), carrier)
    with reverts("TitleWrongSurrenderReason", ebl):
        registry.functions.switchToPaper(ebl, PAPER_DOC).transact({"from": carrier.address})


@pytest.mark.parametrize("action", [Action.VOID, Action.AMEND], ids=action_id)
def test_void_and_amend_revert_for_switch_to_paper_reason(registry, reverts, reach, carrier, buyer, action):
    """A "SWTP" surrender can only be switched to paper: void / amend revert TitleWrongSurrenderReason."""
    ebl = reach("surrendered_for_paper")
    with reverts("TitleWrongSurrenderReason", ebl):
        title_call(registry, action, ebl, buyer.org).transact({"from": carrier.address})


def test_switch_to_paper_reverts_for_zero_paper_hash(registry, reverts, reach, carrier):
    """The paper document hash cannot be zero: TitleZeroHash()."""
    ebl = reach("surrendered_for_paper")
    with reverts("TitleZeroHash"):
        registry.functions.switchToPaper(ebl, ZERO_HASH).transact({"from": carrier.address})


# ----------------------------------------------------------------------------- carrier authority and statuses

PENDING_STATE_FOR = {
    Action.ACCEPT_SURRENDER: "delivery_requested",
    Action.REJECT_SURRENDER: "delivery_requested",
    Action.VOID: "surrendered_for_amendment",
    Action.AMEND: "surrendered_for_amendment",
    Action.SWITCH_TO_PAPER: "surrendered_for_paper",
}


@pytest.mark.parametrize("via", ["direct", "signed"])
@pytest.mark.parametrize("who", ["other_carrier", "shipper", "bank"])
@pytest.mark.parametrize("action", CARRIER_ACTIONS, ids=action_id)
def test_carrier_action_reverts_for_other_than_issuing_carrier(
    registry, reverts, reach, cast, governance, buyer, action, who, via
):
    """Only the issuing carrier answers a surrender: another carrier or member gets TitleNotIssuingCarrier."""
    ebl = reach(PENDING_STATE_FOR[action])
    actor = cast[who]
    with reverts("TitleNotIssuingCarrier", ebl, actor.org):
        attempt(registry, action, ebl, buyer.org, actor, via, relayer=governance.address)


WRONG_STATES = [
    (action, state)
    for action in CARRIER_ACTIONS
    for state in ("active", "delivery_requested", "surrendered_for_amendment", "surrendered_for_paper")
    if STATE_OF[state] != STATE_OF[PENDING_STATE_FOR[action]]
]


@pytest.mark.parametrize("action,state", WRONG_STATES, ids=[f"{a.name.lower()}-{s}" for a, s in WRONG_STATES])
def test_carrier_action_reverts_in_wrong_status(registry, reverts, reach, carrier, buyer, action, state):
    """SACC/SREJ need SurrenderRequested; void/amend/switch need SurrenderedForAmendment: TitleWrongStatus."""
    ebl = reach(state)
    with reverts("TitleWrongStatus", ebl, int(STATE_OF[state])):
        title_call(registry, action, ebl, buyer.org).transact({"from": carrier.address})


@pytest.mark.parametrize("state", ["delivery_requested", "surrendered_for_amendment"])
@pytest.mark.parametrize("action", [*HOLDER_ACTIONS, Action.NOMINATE], ids=action_id)
def test_holder_action_reverts_while_surrender_pending(
    registry, reverts, reach, carrier, shipper, buyer, action, state
):
    """While the carrier holds a surrendered bill, no holder action or nomination: TitleWrongStatus."""
    ebl = reach(state)
    actor = shipper if action == Action.NOMINATE else carrier
    with reverts("TitleWrongStatus", ebl, int(STATE_OF[state])):
        title_call(registry, action, ebl, buyer.org).transact({"from": actor.address})


@pytest.mark.parametrize("action", CARRIER_ACTIONS, ids=action_id)
def test_carrier_action_reverts_for_unknown_ebl(registry, reverts, carrier, buyer, action):
    """A carrier action on an id never issued reverts TitleUnknownEbl."""
    with reverts("TitleUnknownEbl", 4242):
        title_call(registry, action, 4242, buyer.org).transact({"from": carrier.address})


# ----------------------------------------------------------------------------- terminal states


@pytest.mark.parametrize("via", ["direct", "signed"])
@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
@pytest.mark.parametrize("state", TERMINAL)
def test_every_write_on_terminal_ebl_reverts_wrong_status(
    registry, reverts, reach, governance, carrier, shipper, buyer, state, action, via
):
    """Terminal states absorb: every holder, carrier or signed action reverts TitleWrongStatus(id, status)."""
    ebl = reach(state)
    assert registry.functions.holderOf(ebl).call() == carrier.org
    actor = shipper if action == Action.NOMINATE else carrier
    with reverts("TitleWrongStatus", ebl, int(STATE_OF[state])):
        attempt(registry, action, ebl, buyer.org, actor, via, relayer=governance.address)


@pytest.mark.parametrize("state", TERMINAL)
def test_terminal_ebl_cannot_be_reissued_under_its_tdr(registry, send, reverts, carrier, shipper, state):
    """A finished eBL's TDR stays taken: reissuing it reverts TitleAlreadyIssued."""
    tdr = fresh_tdr()
    f = registry.functions
    send(f.issue(tdr, AMENDED_DOC, shipper.org, ZERO_ADDRESS, int(DocumentKind.TO_ORDER)), carrier)
    ebl = registry.functions.eblIdOf(carrier.org, tdr).call()
    code = "SWTP" if state == "switched_to_paper" else "COD"
    if state == "surrendered":
        send(f.requestSurrenderForDelivery(ebl), shipper)
    else:
        send(f.requestSurrenderForAmendment(ebl, text32(code)), shipper)
    send(f.acceptSurrender(ebl), carrier)
    last = {
        "voided": f.voidEbl(ebl),
        "amended_predecessor": f.amend(ebl, PAPER_DOC, ZERO_ADDRESS),
        "switched_to_paper": f.switchToPaper(ebl, PAPER_DOC),
    }
    if state in last:
        send(last[state], carrier)
    assert registry.functions.statusOf(ebl).call() == STATE_OF[state]
    with reverts("TitleAlreadyIssued", ebl):
        f.issue(tdr, PAPER_DOC, shipper.org, ZERO_ADDRESS, int(DocumentKind.TO_ORDER)).transact(
            {"from": carrier.address}
        )


@pytest.mark.parametrize("ending", ["delivery", "void", "amend", "paper"])
def test_document_hash_never_changes_through_life_cycle(
    registry, send, issue, carrier, shipper, bank, buyer, ending
):
    """documentHashOf is the issued hash after every action, terminal state included."""
    f = registry.functions
    ebl = issue(shipper)
    doc = f.documentHashOf(ebl).call()
    code = {"delivery": None, "void": "COD", "amend": "SWI", "paper": "SWTP"}[ending]
    steps = [
        (f.transferPossession(ebl, bank.org), shipper),
        (f.rejectTransfer(ebl), bank),
        (f.transferPossession(ebl, bank.org), shipper),
        (f.nominate(ebl, buyer.org), shipper),
        (f.endorseToOrder(ebl, buyer.org), bank),
        (f.transferPossession(ebl, buyer.org), bank),
        (f.requestSurrenderForDelivery(ebl), buyer),
        (f.rejectSurrender(ebl), carrier),
        (f.endorseInBlank(ebl), buyer),
        (
            f.requestSurrenderForDelivery(ebl)
            if code is None
            else f.requestSurrenderForAmendment(ebl, text32(code)),
            buyer,
        ),
        (f.acceptSurrender(ebl), carrier),
    ]
    final = {
        "void": f.voidEbl(ebl),
        "amend": f.amend(ebl, AMENDED_DOC, ZERO_ADDRESS),
        "paper": f.switchToPaper(ebl, PAPER_DOC),
    }
    if ending in final:
        steps.append((final[ending], carrier))
    for fn, who in steps:
        send(fn, who)
        assert f.documentHashOf(ebl).call() == doc
        assert title(registry, ebl)["documentHash"] == doc
    assert title(registry, ebl)["seq"] == len(steps)
    assert Status(f.statusOf(ebl).call()).is_terminal


def test_amend_never_names_a_suspended_endorsee(
    registry, issue, send, reverts, carrier, shipper, bank, governance
):
    """The amended reissue of a bill endorsed to a now-suspended bank must not name the bank again (a
    divergence the invariant machine found)."""
    ebl = issue(shipper, endorsee=bank)  # to-order: the shipper holds, the bank is the endorsee
    send(registry.functions.requestSurrenderForAmendment(ebl, b"COD".ljust(32, b"\0")), shipper)
    send(registry.functions.acceptSurrender(ebl), carrier)
    send(registry.functions.suspendOrganisation(bank.org), governance)
    with reverts("MembershipOrganisationNotActive", bank.org):
        registry.functions.amend(ebl, keccak(text="amended document"), ZERO_ADDRESS).transact(
            {"from": carrier.address}
        )
