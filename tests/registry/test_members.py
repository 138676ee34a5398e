"""Membership through the registry layer: governance onboards and suspends, members rotate keys."""

from __future__ import annotations

import pytest

from registry.chain.errors import error_class
from registry.keys import LocalSigner
from registry.members import MembershipService, org_address_for
from registry.types import OrgStatus, Role, Status
from tests.fixtures.dcsa import issued_example


@pytest.fixture
def members(w3, deployment, governance, keystore, service) -> MembershipService:
    return MembershipService(w3, deployment, LocalSigner(governance.key), keystore, service)


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
