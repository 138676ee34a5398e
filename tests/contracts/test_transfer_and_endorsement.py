"""Possession and title of a live eBL: transfer, endorsement (named, to order, blank), nomination,
rejection, the straight-bill rules and the transferor's loss of power (LR-05)."""

from __future__ import annotations

import itertools

import pytest

from registry.types import Action, DocumentKind, Status
from tests.contracts.helpers import (
    HOLDER_ACTIONS,
    ZERO_ADDRESS,
    action_id,
    attempt,
    event_names,
    events,
    recorded,
    title,
)

ENDORSE_FNS = {
    Action.ENDORSE: "endorse",
    Action.ENDORSE_TO_ORDER: "endorseToOrder",
}


def endorse_fn(registry, mode: Action, ebl: int, endorsee: str):
    """The call for one endorsement mode (blank ignores `endorsee`)."""
    if mode == Action.BLANK_ENDORSE:
        return registry.functions.endorseInBlank(ebl)
    return getattr(registry.functions, ENDORSE_FNS[mode])(ebl, endorsee)


ALL_MODES = (Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.BLANK_ENDORSE)
NAMED_MODES = (Action.ENDORSE, Action.ENDORSE_TO_ORDER)


def history(registry, ebl: int) -> list[tuple[int, str, str, int]]:
    """(action, actor, counterparty, seq) of every ActionRecorded of an eBL, oldest first."""
    logs = registry.events.ActionRecorded().get_logs(from_block=0, argument_filters={"eblId": ebl})
    return [(e.args.action, e.args.actor, e.args.counterparty, e.args.seq) for e in logs]


@pytest.fixture
def pledged(registry, send, issue, shipper, bank):
    """A to-order eBL endorsed to the shipper and held by the bank (pledge): the bank is not entitled."""
    ebl = issue(shipper)
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    return ebl


# ----------------------------------------------------------------------------- transfer of possession


def test_shipper_transfers_possession_to_bank_and_bank_holds(registry, send, issue, shipper, bank):
    """TRANSFER: holder becomes the bank, endorsee unchanged, rejectable; Transfer + ActionRecorded(seq 1)."""
    ebl = issue(shipper)
    receipt = send(registry.functions.transferPossession(ebl, bank.org), shipper)
    assert event_names(registry, receipt) == ["Transfer", "ActionRecorded"]
    assert events(registry, "Transfer", receipt) == [{"from": shipper.org, "to": bank.org, "tokenId": ebl}]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.TRANSFER, shipper, bank.org, 1)
    ]
    view = title(registry, ebl)
    assert (view["holder"], view["previousHolder"], view["endorsee"]) == (bank.org, shipper.org, shipper.org)
    assert (view["rejectable"], view["seq"], view["status"]) == (True, 1, Status.ACTIVE)
    assert registry.functions.balanceOf(shipper.org).call() == 0
    assert registry.functions.balanceOf(bank.org).call() == 1


@pytest.mark.parametrize("caller", ["consignee", "bank", "carrier", "other_carrier"])
def test_transfer_possession_reverts_when_caller_not_holder(registry, reverts, issue, cast, shipper, caller):
    """Only the holder transfers: anyone else (even the issuing carrier) gets TitleNotHolder(eblId, org)."""
    ebl = issue(shipper)
    who = cast[caller]
    with reverts("TitleNotHolder", ebl, who.org):
        registry.functions.transferPossession(ebl, cast["buyer"].org).transact({"from": who.address})


@pytest.mark.parametrize("kind", list(DocumentKind), ids=lambda k: k.name.lower())
def test_transfer_possession_reverts_for_transfer_to_self(registry, reverts, issue, shipper, consignee, kind):
    """Transferring to oneself reverts TitleInvalidCounterparty(eblId, holder)."""
    ebl = issue(shipper, consignee, kind)
    with reverts("TitleInvalidCounterparty", ebl, shipper.org):
        registry.functions.transferPossession(ebl, shipper.org).transact({"from": shipper.address})


@pytest.mark.parametrize("recipient", ["outsider", "zero"])
def test_transfer_possession_reverts_for_non_member_recipient(
    registry, reverts, issue, shipper, outsider, recipient
):
    """Possession only goes to members: outsider or zero reverts MembershipUnknownOrganisation."""
    ebl = issue(shipper)
    to = outsider.org if recipient == "outsider" else ZERO_ADDRESS
    with reverts("MembershipUnknownOrganisation", to):
        registry.functions.transferPossession(ebl, to).transact({"from": shipper.address})


def test_transfer_possession_reverts_for_unknown_ebl(registry, reverts, shipper, bank):
    """An id never issued reverts TitleUnknownEbl(eblId)."""
    with reverts("TitleUnknownEbl", 777):
        registry.functions.transferPossession(777, bank.org).transact({"from": shipper.address})


def test_to_order_bill_passes_through_any_members(registry, send, issue, shipper, bank, buyer, other_carrier):
    """A to-order bill's possession may pass shipper -> bank -> other carrier -> buyer, each a TRANSFER."""
    ebl = issue(shipper)
    path = [shipper, bank, other_carrier, buyer]
    for frm, to in itertools.pairwise(path):
        send(registry.functions.transferPossession(ebl, to.org), frm)
    assert registry.functions.holderOf(ebl).call() == buyer.org
    assert history(registry, ebl) == [
        (Action.TRANSFER, frm.org, to.org, seq)
        for seq, (frm, to) in enumerate(itertools.pairwise(path), start=1)
    ]


# ----------------------------------------------------------------------------- straight bills


def test_shipper_transfers_straight_bill_to_its_consignee(registry, send, issue, shipper, consignee):
    """A straight bill goes to its named consignee, who then holds and is entitled."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    send(registry.functions.transferPossession(ebl, consignee.org), shipper)
    view = title(registry, ebl)
    assert (view["holder"], view["endorsee"]) == (consignee.org, consignee.org)


@pytest.mark.parametrize("recipient", ["bank", "buyer", "carrier"])
def test_transfer_possession_of_straight_bill_reverts_for_other_than_consignee(
    registry, reverts, issue, cast, shipper, consignee, recipient
):
    """A straight bill to anyone but its consignee reverts TitleStraightBillRecipient(eblId, to)."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    to = cast[recipient].org
    with reverts("TitleStraightBillRecipient", ebl, to):
        registry.functions.transferPossession(ebl, to).transact({"from": shipper.address})


@pytest.mark.parametrize("recipient", ["shipper", "bank"])
def test_consignee_cannot_pass_straight_bill_on(
    registry, send, reverts, issue, cast, shipper, consignee, recipient
):
    """Once the consignee holds a straight bill it cannot transfer it anywhere: TitleStraightBillRecipient."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    send(registry.functions.transferPossession(ebl, consignee.org), shipper)
    to = cast[recipient].org
    with reverts("TitleStraightBillRecipient", ebl, to):
        registry.functions.transferPossession(ebl, to).transact({"from": consignee.address})


@pytest.mark.parametrize("holder", ["shipper", "consignee"])
@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_endorse_reverts_on_straight_bill(
    registry, send, reverts, issue, cast, shipper, consignee, buyer, mode, holder
):
    """A straight bill is never endorsable, by the shipper or the consignee: TitleNotEndorsable(eblId)."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    if holder == "consignee":
        send(registry.functions.transferPossession(ebl, consignee.org), shipper)
    with reverts("TitleNotEndorsable", ebl):
        endorse_fn(registry, mode, ebl, buyer.org).transact({"from": cast[holder].address})


# ----------------------------------------------------------------------------- endorsement


@pytest.mark.parametrize("mode", NAMED_MODES, ids=action_id)
def test_shipper_endorses_buyer_without_moving_possession(registry, send, issue, shipper, buyer, mode):
    """ENDORSE / ENDORSE_TO_ORDER name the buyer as endorsee; the shipper keeps possession (no Transfer)."""
    ebl = issue(shipper)
    receipt = send(endorse_fn(registry, mode, ebl, buyer.org), shipper)
    assert event_names(registry, receipt) == ["ActionRecorded"]
    assert events(registry, "ActionRecorded", receipt) == [recorded(ebl, mode, shipper, buyer.org, 1)]
    view = title(registry, ebl)
    assert (view["holder"], view["endorsee"]) == (shipper.org, buyer.org)
    assert view["endorsable"] is (mode == Action.ENDORSE_TO_ORDER)
    assert view["blankEndorsed"] is False


def test_endorsee_to_order_endorses_further(registry, send, issue, shipper, buyer, consignee):
    """After ENDORSE_TO_ORDER + transfer, the buyer (holder and endorsee) endorses on to the consignee."""
    ebl = issue(shipper)
    send(registry.functions.endorseToOrder(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    send(registry.functions.endorse(ebl, consignee.org), buyer)
    send(registry.functions.transferPossession(ebl, consignee.org), buyer)
    send(registry.functions.requestSurrenderForDelivery(ebl), consignee)
    assert registry.functions.statusOf(ebl).call() == Status.SURRENDER_REQUESTED


@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_endorsee_of_plain_endorsement_cannot_endorse_further(
    registry, send, reverts, issue, shipper, buyer, consignee, mode
):
    """After a plain ENDORSE the endorsee, even holding, cannot endorse in any mode: TitleNotEndorsable."""
    ebl = issue(shipper)
    send(registry.functions.endorse(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    with reverts("TitleNotEndorsable", ebl):
        endorse_fn(registry, mode, ebl, consignee.org).transact({"from": buyer.address})


def test_endorsee_of_plain_endorsement_takes_delivery(registry, send, issue, shipper, buyer, carrier):
    """The plain endorsee, once holding, is entitled and surrenders for delivery."""
    ebl = issue(shipper)
    send(registry.functions.endorse(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    send(registry.functions.requestSurrenderForDelivery(ebl), buyer)
    assert registry.functions.holderOf(ebl).call() == carrier.org


@pytest.mark.parametrize("mode", NAMED_MODES, ids=action_id)
def test_endorse_reverts_to_current_endorsee(registry, reverts, issue, shipper, mode):
    """Endorsing to the current endorsee reverts TitleInvalidCounterparty(eblId, endorsee)."""
    ebl = issue(shipper)
    with reverts("TitleInvalidCounterparty", ebl, shipper.org):
        endorse_fn(registry, mode, ebl, shipper.org).transact({"from": shipper.address})


@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_endorse_reverts_when_caller_not_holder(registry, reverts, issue, shipper, bank, buyer, mode):
    """Only the holder endorses: TitleNotHolder(eblId, org)."""
    ebl = issue(shipper, bank)
    with reverts("TitleNotHolder", ebl, bank.org):
        endorse_fn(registry, mode, ebl, buyer.org).transact({"from": bank.address})


@pytest.mark.parametrize("endorsee", ["outsider", "zero"])
@pytest.mark.parametrize("mode", NAMED_MODES, ids=action_id)
def test_endorse_reverts_for_non_member_endorsee(registry, reverts, issue, shipper, outsider, mode, endorsee):
    """A named endorsee must be a member (zero is not blank): MembershipUnknownOrganisation."""
    ebl = issue(shipper)
    to = outsider.org if endorsee == "outsider" else ZERO_ADDRESS
    with reverts("MembershipUnknownOrganisation", to):
        endorse_fn(registry, mode, ebl, to).transact({"from": shipper.address})


# ----------------------------------------------------------------------------- blank endorsement (bearer)


def test_shipper_endorses_in_blank_and_every_later_holder_is_entitled(
    registry, send, issue, shipper, bank, buyer, carrier
):
    """BLANK_ENDORSE clears the endorsee; the bearer bill passes by delivery and its holder surrenders."""
    ebl = issue(shipper)
    receipt = send(registry.functions.endorseInBlank(ebl), shipper)
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(ebl, Action.BLANK_ENDORSE, shipper, ZERO_ADDRESS, 1)
    ]
    view = title(registry, ebl)
    assert (view["endorsee"], view["blankEndorsed"], view["endorsable"]) == (ZERO_ADDRESS, True, True)
    assert registry.functions.endorseeOf(ebl).call() == ZERO_ADDRESS
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), bank)
    send(registry.functions.requestSurrenderForDelivery(ebl), buyer)
    assert registry.functions.holderOf(ebl).call() == carrier.org


@pytest.mark.parametrize("mode", NAMED_MODES, ids=action_id)
def test_bearer_endorses_blank_bill_to_named_endorsee(
    registry, send, reverts, issue, shipper, bank, buyer, mode
):
    """The bearer may endorse a blank bill to a name; it stops being bearer and the bank loses entitlement."""
    ebl = issue(shipper)
    send(registry.functions.endorseInBlank(ebl), shipper)
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    send(endorse_fn(registry, mode, ebl, buyer.org), bank)
    view = title(registry, ebl)
    assert (view["endorsee"], view["blankEndorsed"]) == (buyer.org, False)
    assert view["endorsable"] is (mode == Action.ENDORSE_TO_ORDER)
    with reverts("TitleNotEntitled", ebl, bank.org):
        registry.functions.requestSurrenderForDelivery(ebl).transact({"from": bank.address})


# ----------------------------------------------------------------------------- entitlement and nomination


@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_pledgee_bank_cannot_endorse_without_nomination(registry, reverts, pledged, bank, buyer, mode):
    """The bank holds but is not endorsee: every endorsement reverts TitleNotEntitled(eblId, bank)."""
    with reverts("TitleNotEntitled", pledged, bank.org):
        endorse_fn(registry, mode, pledged, buyer.org).transact({"from": bank.address})


@pytest.mark.parametrize("mode", NAMED_MODES, ids=action_id)
def test_bank_endorses_to_nominee_after_shipper_nominates(
    registry, send, pledged, shipper, bank, buyer, carrier, mode
):
    """The endorsee (shipper) nominates the buyer; the pledgee bank endorses to it; buyer takes delivery."""
    receipt = send(registry.functions.nominate(pledged, buyer.org), shipper)
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(pledged, Action.NOMINATE, shipper, buyer.org, 2)
    ]
    assert title(registry, pledged)["nominee"] == buyer.org
    receipt = send(endorse_fn(registry, mode, pledged, buyer.org), bank)
    assert events(registry, "ActionRecorded", receipt) == [recorded(pledged, mode, bank, buyer.org, 3)]
    view = title(registry, pledged)
    assert (view["holder"], view["endorsee"], view["nominee"]) == (bank.org, buyer.org, ZERO_ADDRESS)
    assert view["endorsable"] is (mode == Action.ENDORSE_TO_ORDER)
    send(registry.functions.transferPossession(pledged, buyer.org), bank)
    send(registry.functions.requestSurrenderForDelivery(pledged), buyer)
    assert registry.functions.holderOf(pledged).call() == carrier.org


@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_bank_endorsement_reverts_when_not_to_nominee(
    registry, send, reverts, pledged, shipper, bank, buyer, consignee, mode
):
    """With the buyer nominated, the bank endorsing anyone else (or in blank) reverts TitleNotEntitled."""
    send(registry.functions.nominate(pledged, buyer.org), shipper)
    with reverts("TitleNotEntitled", pledged, bank.org):
        endorse_fn(registry, mode, pledged, consignee.org).transact({"from": bank.address})


def test_bank_endorsement_to_current_endorsee_reverts_invalid_counterparty(
    registry, reverts, pledged, shipper, bank
):
    """The bank endorsing back to the current endorsee reverts TitleInvalidCounterparty, not NotEntitled."""
    with reverts("TitleInvalidCounterparty", pledged, shipper.org):
        registry.functions.endorse(pledged, shipper.org).transact({"from": bank.address})


@pytest.mark.parametrize("caller", ["bank", "buyer", "carrier"])
def test_nominate_reverts_when_caller_not_endorsee(registry, reverts, pledged, cast, caller):
    """Only the current endorsee nominates (not the holder, nor anyone else): TitleNotEndorsee(eblId, org)."""
    who = cast[caller]
    with reverts("TitleNotEndorsee", pledged, who.org):
        registry.functions.nominate(pledged, cast["consignee"].org).transact({"from": who.address})


def test_shipper_cancels_nomination_with_zero(registry, send, reverts, pledged, shipper, bank, buyer):
    """Nominating zero cancels: ActionRecorded(NOMINATE, counterparty 0); the bank may no longer endorse."""
    send(registry.functions.nominate(pledged, buyer.org), shipper)
    receipt = send(registry.functions.nominate(pledged, ZERO_ADDRESS), shipper)
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(pledged, Action.NOMINATE, shipper, ZERO_ADDRESS, 3)
    ]
    assert title(registry, pledged)["nominee"] == ZERO_ADDRESS
    with reverts("TitleNotEntitled", pledged, bank.org):
        registry.functions.endorse(pledged, buyer.org).transact({"from": bank.address})


def test_nominate_reverts_for_outsider_nominee(registry, reverts, pledged, shipper, outsider):
    """A nominee must be a member: MembershipUnknownOrganisation."""
    with reverts("MembershipUnknownOrganisation", outsider.org):
        registry.functions.nominate(pledged, outsider.org).transact({"from": shipper.address})


@pytest.mark.parametrize("bill", ["straight", "blank", "plainly_endorsed"])
def test_nominate_reverts_when_bill_not_endorsable(
    registry, send, reverts, issue, cast, shipper, consignee, buyer, bank, bill
):
    """No nomination on a straight, blank-endorsed or plainly endorsed bill: TitleNotEndorsable(eblId)."""
    if bill == "straight":
        ebl, nominator = issue(shipper, consignee, DocumentKind.STRAIGHT), consignee
    elif bill == "blank":
        ebl, nominator = issue(shipper), shipper
        send(registry.functions.endorseInBlank(ebl), shipper)
    else:
        ebl, nominator = issue(shipper), buyer
        send(registry.functions.endorse(ebl, buyer.org), shipper)
    with reverts("TitleNotEndorsable", ebl):
        registry.functions.nominate(ebl, bank.org).transact({"from": nominator.address})


@pytest.mark.parametrize("how", ["transfer", "reject"])
def test_change_of_possession_clears_nomination(
    registry, send, pledged, shipper, bank, buyer, consignee, how
):
    """A nomination binds the current holder only: a transfer or a reject clears it."""
    send(registry.functions.nominate(pledged, buyer.org), shipper)
    if how == "transfer":
        send(registry.functions.transferPossession(pledged, consignee.org), bank)
    else:
        send(registry.functions.rejectTransfer(pledged), bank)
    assert title(registry, pledged)["nominee"] == ZERO_ADDRESS


# ----------------------------------------------------------------------------- rejection


def test_bank_rejects_transfer_and_possession_returns_to_shipper(registry, send, pledged, shipper, bank):
    """REJECT: possession returns to the sender; Transfer(bank, shipper); history is TRANSFER then REJECT."""
    receipt = send(registry.functions.rejectTransfer(pledged), bank)
    assert events(registry, "Transfer", receipt) == [
        {"from": bank.org, "to": shipper.org, "tokenId": pledged}
    ]
    assert events(registry, "ActionRecorded", receipt) == [
        recorded(pledged, Action.REJECT, bank, shipper.org, 2)
    ]
    view = title(registry, pledged)
    assert (view["holder"], view["previousHolder"], view["rejectable"]) == (shipper.org, bank.org, False)
    assert history(registry, pledged) == [
        (Action.TRANSFER, shipper.org, bank.org, 1),
        (Action.REJECT, bank.org, shipper.org, 2),
    ]
    assert registry.functions.balanceOf(bank.org).call() == 0
    assert registry.functions.balanceOf(shipper.org).call() == 1


def test_reject_transfer_reverts_on_second_reject(registry, send, reverts, pledged, shipper, bank):
    """After a reject, the sender cannot bounce it back (TitleNothingToReject); the bank no longer holds."""
    send(registry.functions.rejectTransfer(pledged), bank)
    with reverts("TitleNothingToReject", pledged):
        registry.functions.rejectTransfer(pledged).transact({"from": shipper.address})
    with reverts("TitleNotHolder", pledged, bank.org):
        registry.functions.rejectTransfer(pledged).transact({"from": bank.address})


def test_reject_transfer_reverts_for_first_holder_of_fresh_issuance(registry, reverts, issue, shipper):
    """The issue-to party did not receive by transfer: TitleNothingToReject."""
    ebl = issue(shipper)
    with reverts("TitleNothingToReject", ebl):
        registry.functions.rejectTransfer(ebl).transact({"from": shipper.address})


@pytest.mark.parametrize("mode", ALL_MODES, ids=action_id)
def test_reject_transfer_reverts_after_holder_endorsed(
    registry, send, reverts, issue, shipper, buyer, consignee, mode
):
    """Once the recipient acts on the bill (endorses it), it can no longer reject: TitleNothingToReject."""
    ebl = issue(shipper)
    send(registry.functions.endorseToOrder(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    assert title(registry, ebl)["rejectable"] is True
    send(endorse_fn(registry, mode, ebl, consignee.org), buyer)
    assert title(registry, ebl)["rejectable"] is False
    with reverts("TitleNothingToReject", ebl):
        registry.functions.rejectTransfer(ebl).transact({"from": buyer.address})


def test_reject_transfer_reverts_after_holder_nominated(
    registry, send, reverts, issue, shipper, buyer, consignee
):
    """A recipient that nominates (acts as endorsee) has accepted the bill: TitleNothingToReject."""
    ebl = issue(shipper)
    send(registry.functions.endorseToOrder(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    send(registry.functions.nominate(ebl, consignee.org), buyer)
    with reverts("TitleNothingToReject", ebl):
        registry.functions.rejectTransfer(ebl).transact({"from": buyer.address})


def test_pledgee_bank_may_still_reject_after_shipper_nominates(registry, send, pledged, shipper, bank, buyer):
    """Only the holder's own acts end its right to reject: the endorsee's nomination does not."""
    send(registry.functions.nominate(pledged, buyer.org), shipper)
    assert title(registry, pledged)["rejectable"] is True
    send(registry.functions.rejectTransfer(pledged), bank)
    assert registry.functions.holderOf(pledged).call() == shipper.org


def test_reject_returns_to_the_latest_sender_only(registry, send, reverts, pledged, bank, buyer):
    """shipper -> bank -> buyer: the buyer's reject returns it to the bank, which cannot reject again."""
    send(registry.functions.transferPossession(pledged, buyer.org), bank)
    send(registry.functions.rejectTransfer(pledged), buyer)
    assert registry.functions.holderOf(pledged).call() == bank.org
    with reverts("TitleNothingToReject", pledged):
        registry.functions.rejectTransfer(pledged).transact({"from": bank.address})


def test_reject_after_plain_endorsement_leaves_shipper_holding_without_entitlement(
    registry, send, reverts, issue, shipper, buyer, bank
):
    """Current rule (questionable): REJECT undoes possession only; the refused plain endorsement stays put."""
    ebl = issue(shipper)
    send(registry.functions.endorse(ebl, buyer.org), shipper)
    send(registry.functions.transferPossession(ebl, buyer.org), shipper)
    send(registry.functions.rejectTransfer(ebl), buyer)
    view = title(registry, ebl)
    assert (view["holder"], view["endorsee"], view["endorsable"]) == (shipper.org, buyer.org, False)
    with reverts("TitleNotEntitled", ebl, shipper.org):
        registry.functions.endorse(ebl, bank.org).transact({"from": shipper.address})
    with reverts("TitleNotEntitled", ebl, shipper.org):
        registry.functions.requestSurrenderForDelivery(ebl).transact({"from": shipper.address})
    with reverts("TitleNotEndorsable", ebl):
        registry.functions.nominate(ebl, shipper.org).transact({"from": buyer.address})


def test_consignee_rejects_straight_bill_and_shipper_holds_again(registry, send, issue, shipper, consignee):
    """A straight bill's consignee may reject; possession returns to the shipper."""
    ebl = issue(shipper, consignee, DocumentKind.STRAIGHT)
    send(registry.functions.transferPossession(ebl, consignee.org), shipper)
    send(registry.functions.rejectTransfer(ebl), consignee)
    assert registry.functions.holderOf(ebl).call() == shipper.org


def test_reject_transfer_reverts_when_sender_suspended(
    registry, send, reverts, pledged, governance, shipper, bank
):
    """A reject cannot hand title back to a suspended sender: MembershipOrganisationNotActive(sender)."""
    send(registry.functions.suspendOrganisation(shipper.org), governance)
    with reverts("MembershipOrganisationNotActive", shipper.org):
        registry.functions.rejectTransfer(pledged).transact({"from": bank.address})


# ----------------------------------------------------------------------------- LR-05


@pytest.mark.parametrize("via", ["direct", "signed"])
@pytest.mark.parametrize("action", HOLDER_ACTIONS, ids=action_id)
def test_transferor_has_no_holder_power_after_transfer(
    registry, reverts, pledged, governance, shipper, buyer, action, via
):
    """LR-05: after transferring, the shipper takes no holder action (TitleNotHolder), by key or signature."""
    with reverts("TitleNotHolder", pledged, shipper.org):
        attempt(registry, action, pledged, buyer.org, shipper, via, relayer=governance.address)
