"""The custody rules of audit bundles (registry.proofs.custody), action by action, against the contract's
rule model (tests/contracts/model.py) for the same cases."""

from __future__ import annotations

import pytest

from registry.proofs.custody import STRAIGHT, TO_ORDER, Custody
from registry.proofs.errors import BundleError
from registry.types import Action

CARRIER, SHIPPER, BANK, CONSIGNEE = "0xCa", "0x5h", "0xBa", "0xC0"


def _order() -> Custody:
    return Custody(CARRIER, SHIPPER, SHIPPER, TO_ORDER)


def test_a_to_order_bill_passes_by_endorsement_and_transfer_to_surrender():
    c = _order()
    c.apply(0, Action.ISSUE, CARRIER, SHIPPER)
    c.apply(1, Action.ENDORSE_TO_ORDER, SHIPPER, BANK)
    c.apply(2, Action.TRANSFER, SHIPPER, BANK)
    c.apply(3, Action.SURRENDER_FOR_DELIVERY, BANK, CARRIER)
    c.apply(4, Action.ACCEPT_SURRENDER, CARRIER, BANK)
    assert (c.holder, c.endorsee, c.status) == (CARRIER, BANK, "SURRENDERED")


def test_a_rejected_surrender_returns_possession_to_who_surrendered():
    c = _order()
    c.apply(1, Action.SURRENDER_FOR_AMENDMENT, SHIPPER, CARRIER)
    c.apply(2, Action.REJECT_SURRENDER, CARRIER, SHIPPER)
    assert (c.holder, c.status) == (SHIPPER, "ACTIVE")


@pytest.mark.parametrize(
    ("custody", "seq", "action", "actor", "counterparty"),
    [
        (_order(), 0, Action.ISSUE, SHIPPER, SHIPPER),  # only the carrier issues
        (_order(), 1, Action.TRANSFER, BANK, BANK),  # only the holder transfers
        (_order(), 1, Action.ENDORSE, BANK, BANK),  # only the holder endorses
        (_order(), 1, Action.ACCEPT_SURRENDER, CARRIER, SHIPPER),  # nothing was surrendered
        (Custody(CARRIER, SHIPPER, CONSIGNEE, STRAIGHT), 1, Action.TRANSFER, SHIPPER, BANK),  # not negotiable
        (Custody(CARRIER, SHIPPER, CONSIGNEE, STRAIGHT), 1, Action.ENDORSE, SHIPPER, BANK),  # not endorsable
        (Custody(CARRIER, CARRIER, SHIPPER, TO_ORDER, "SURRENDERED"), 9, Action.TRANSFER, CARRIER, BANK),
    ],
)
def test_an_actor_not_entitled_is_refused_as_custody(custody, seq, action, actor, counterparty):
    with pytest.raises(BundleError) as refused:
        custody.apply(seq, action, actor, counterparty)
    assert refused.value.reason == "custody" and f"action {seq}" in str(refused.value)


def test_actions_without_a_rule_here_are_reported_unchecked():
    c = _order()
    c.apply(1, Action.NOMINATE, SHIPPER, BANK)
    assert c.unchecked == [1]
