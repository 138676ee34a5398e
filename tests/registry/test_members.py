"""Membership through the registry layer: governance onboards and suspends, members rotate keys."""

from __future__ import annotations

import pytest

from registry.chain.errors import error_class
from registry.documents import CarrierCode
from registry.errors import CarrierCodeTakenError
from registry.keys import LocalSigner
from registry.members import MembershipService, org_address_for
from registry.types import OrgStatus, Role, Status
from tests.fixtures.dcsa import issued_example


@pytest.fixture
def members(w3, deployment, governance, keystore, service, carrier_codes) -> MembershipService:
    return MembershipService(
        w3, deployment, LocalSigner(governance.key), keystore, service, carrier_codes=carrier_codes
    )


def test_governance_onboards_a_forwarder_with_a_fresh_custodial_key(members, keystore):
    """Onboarding derives the identity address from the LEI and registers a new keystore key."""
    org, key = members.onboard("LEI:5493001KJTIIGC8Y1R12", Role.TRADER)
    assert org.address == org_address_for("LEI:5493001KJTIIGC8Y1R12")
    assert (org.role, org.status, org.key_count) == (Role.TRADER, OrgStatus.ACTIVE, 1)
    assert [k.address for k in keystore.list_keys(org.address)] == [key.address]
    with pytest.raises(error_class("MembershipOrganisationExists")):
        members.onboard("LEI:5493001KJTIIGC8Y1R12", Role.BANK)


def test_suspended_shipper_cannot_act_until_reinstated(members, service, carrier, shipper, bank):
    """Suspension freezes the shipper's title in place; reinstatement lets it act again."""
    ebl = service.issue(
        carrier.org, issued_example(transportDocumentReference="MEM-SUSP-1"), shipper.org
    ).ebl_id
    assert members.suspend(shipper.org).status is OrgStatus.SUSPENDED
    with pytest.raises(error_class("MembershipOrganisationNotActive")):
        service.transfer(shipper.org, ebl, bank.org)
    assert service.verify(ebl).holder == shipper.org
    members.reinstate(shipper.org)
    assert service.transfer(shipper.org, ebl, bank.org).status == "final"


def test_key_rotation_never_moves_title(members, service, carrier, shipper, bank):
    """The shipper rotates its key: the old key is revoked on chain, title stays, the new key acts."""
    ebl = service.issue(
        carrier.org, issued_example(transportDocumentReference="MEM-ROT-1"), shipper.org
    ).ebl_id
    old = service.signing_key(shipper.org)
    new = members.rotate_key(shipper.org)
    assert members.organisation(shipper.org).key_count == 1
    assert service.verify(ebl).holder == shipper.org and service.verify(ebl).status is Status.ACTIVE
    assert service.signing_key(shipper.org) == new.address != old
    assert service.transfer(shipper.org, ebl, bank.org).status == "final"
    key_status = service.registry.functions.keyInfo(old).call()
    assert key_status == [shipper.org, 2] or tuple(key_status) == (shipper.org, 2)


# ------------------------------------------------------------------ carrier codes


def test_a_carrier_is_onboarded_with_its_codes_and_a_code_names_one_carrier(members, keystore):
    """A carrier's codes are recorded at onboarding; a second carrier claiming one of them is refused
    with CarrierCodeTakenError before any key or on-chain record is made."""
    first, _ = members.onboard("LEI:CARRIER-CODES-1", Role.CARRIER, [CarrierCode("ONE", "SMDG")])
    assert members.carrier_codes.codes_of(first.address) == (CarrierCode("ONE", "SMDG"),)
    second = org_address_for("LEI:CARRIER-CODES-2")
    with pytest.raises(CarrierCodeTakenError) as taken:
        members.onboard(
            "LEI:CARRIER-CODES-2", Role.CARRIER, [CarrierCode("TWO", "SMDG"), CarrierCode("ONE", "SMDG")]
        )
    assert (taken.value.carrier_code, taken.value.owner) == ("SMDG:ONE", first.address)
    assert members.organisation(second).status is OrgStatus.NONE
    assert keystore.list_keys(second) == []
    assert members.carrier_codes.owner_of(CarrierCode("TWO", "SMDG")) is None  # all or nothing
    several, _ = members.onboard(
        "LEI:CARRIER-CODES-2", Role.CARRIER, [CarrierCode("TWO", "SMDG"), CarrierCode("TWOC", "NMFTA")]
    )
    assert set(members.carrier_codes.codes_of(several.address)) == {
        CarrierCode("TWO", "SMDG"),
        CarrierCode("TWOC", "NMFTA"),
    }


@pytest.mark.parametrize(
    "role,codes,message",
    [
        (Role.CARRIER, [], "carrierCode and carrierCodeListProvider"),
        (Role.BANK, [CarrierCode("BNK", "SMDG")], "only carriers"),
        (Role.CARRIER, [CarrierCode("MSC", "IATA")], "SMDG or NMFTA"),
        (Role.CARRIER, [CarrierCode("TOOLONG", "SMDG")], "1 to 4 characters"),
        (Role.CARRIER, [CarrierCode("M C", "SMDG")], "without blanks"),
    ],
    ids=["carrier-without-codes", "bank-with-codes", "unknown-list", "too-long", "blank"],
)
def test_onboarding_refuses_codes_that_do_not_fit(members, role, codes, message):
    """Carriers need codes, others have none, and a code is what the DCSA schema allows."""
    with pytest.raises(ValueError, match=message):
        members.onboard("LEI:CARRIER-CODES-BAD", role, codes)
    assert members.organisation(org_address_for("LEI:CARRIER-CODES-BAD")).status is OrgStatus.NONE
