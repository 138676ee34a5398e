"""First end-to-end check of the deployed registry."""

from registry.types import DocumentKind, Status


def test_carrier_issues_to_shipper_and_shipper_holds(registry, issue, shipper, carrier):
    """A to-order eBL issued to the shipper is held and endorsed to the shipper."""
    ebl = issue(shipper)
    view = registry.functions.titleOf(ebl).call()
    assert view[0] == Status.ACTIVE
    assert view[1] == DocumentKind.TO_ORDER
    assert view[3] == shipper.org and view[4] == shipper.org and view[5] == carrier.org
    assert registry.functions.ownerOf(ebl).call() == shipper.org


def test_bank_cannot_transfer_what_it_does_not_hold(registry, issue, shipper, bank, reverts):
    """Only the holder moves possession."""
    ebl = issue(shipper)
    with reverts("TitleNotHolder", ebl, bank.org):
        registry.functions.transferPossession(ebl, bank.org).transact({"from": bank.address})
