"""Governance (DEFAULT_ADMIN_ROLE + PAUSER_ROLE) manages membership and the pause, but can never move,
void or surrender title, nor act for a member."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from registry.types import Action, DocumentKind, Role
from tests.contracts.helpers import (
    CARRIER_ACTIONS,
    DEFAULT_ADMIN_ROLE,
    PAUSER_ROLE,
    TITLE_ACTIONS,
    ZERO_ADDRESS,
    action_id,
    attempt,
    event_names,
    fresh_tdr,
    issuance,
    sign_action,
    sign_issuance,
    text32,
    title_action,
)
from tests.contracts.parties import Party, org_address

MEMBERS = ["carrier", "other_carrier", "shipper", "bank", "consignee", "buyer"]


def test_governance_holds_admin_and_pauser_roles_but_no_member_key(registry, governance, cast):
    """Governance has DEFAULT_ADMIN_ROLE and PAUSER_ROLE, is no member's key; members hold no role."""
    assert registry.functions.hasRole(DEFAULT_ADMIN_ROLE, governance.address).call() is True
    assert registry.functions.hasRole(PAUSER_ROLE, governance.address).call() is True
    assert registry.functions.keyInfo(governance.address).call() == [ZERO_ADDRESS, 0]
    for name in MEMBERS:
        for role in (DEFAULT_ADMIN_ROLE, PAUSER_ROLE):
            assert registry.functions.hasRole(role, cast[name].address).call() is False


@pytest.mark.parametrize("via", ["direct", "signed"])
@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
def test_governance_key_cannot_take_any_title_action(
    registry, reverts, issue, governance, shipper, bank, action, via
):
    """Every title action by governance's key reverts MembershipUnauthorizedKey(governance), even signed."""
    ebl = issue(shipper)
    with reverts("MembershipUnauthorizedKey", governance.address):
        attempt(registry, action, ebl, bank.org, governance, via, relayer=governance.address)


@pytest.mark.parametrize("via", ["direct", "signed"])
def test_governance_key_cannot_issue(registry, reverts, governance, shipper, via):
    """Governance cannot issue title: MembershipUnauthorizedKey(governance)."""
    with reverts("MembershipUnauthorizedKey", governance.address):
        if via == "direct":
            tdr = fresh_tdr()
            registry.functions.issue(tdr, keccak(tdr), shipper.org, ZERO_ADDRESS, 1).transact(
                {"from": governance.address}
            )
        else:
            signed = sign_issuance(registry, governance, issuance(fresh_tdr(), shipper.org))
            registry.functions.issueSigned(signed).transact({"from": governance.address})


@pytest.mark.parametrize("op", ["addKey", "revokeKey", "signedAddKey", "signedRevokeKey"])
def test_governance_cannot_add_or_revoke_a_member_key(registry, reverts, governance, shipper, op):
    """Key management belongs to the org: governance's addKey / revokeKey revert MembershipUnauthorizedKey."""
    f = registry.functions
    calls = {
        "addKey": lambda: f.addKey(governance.address),
        "revokeKey": lambda: f.revokeKey(shipper.address),
        "signedAddKey": lambda: f.execute(
            sign_action(registry, governance, title_action(Action.ADD_KEY, party=governance.address))
        ),
        "signedRevokeKey": lambda: f.execute(
            sign_action(registry, governance, title_action(Action.REVOKE_KEY, party=shipper.address))
        ),
    }
    with reverts("MembershipUnauthorizedKey", governance.address):
        calls[op]().transact({"from": governance.address})


@pytest.mark.parametrize("suspended", [False, True], ids=["active", "suspended"])
@pytest.mark.parametrize("name", MEMBERS)
def test_governance_cannot_reregister_existing_org_to_inject_its_key(
    registry, send, reverts, governance, cast, name, suspended
):
    """registerOrganisation on an existing (even suspended) org reverts MembershipOrganisationExists."""
    org = cast[name].org
    if suspended:
        send(registry.functions.suspendOrganisation(org), governance)
    with reverts("MembershipOrganisationExists", org):
        registry.functions.registerOrganisation(
            org, int(Role.CARRIER), bytes(32), governance.address
        ).transact({"from": governance.address})
    assert registry.functions.keyInfo(governance.address).call() == [ZERO_ADDRESS, 0]


def test_governance_cannot_hijack_a_member_key_for_a_new_org(registry, reverts, governance, shipper):
    """A new org cannot be given an existing member's key: MembershipKeyExists."""
    with reverts("MembershipKeyExists", shipper.address):
        registry.functions.registerOrganisation(
            org_address("puppet"), int(Role.TRADER), bytes(32), shipper.address
        ).transact({"from": governance.address})


PUPPET_SETUP = {
    Action.ACCEPT_SURRENDER: "SURRENDER",
    Action.REJECT_SURRENDER: "SURRENDER",
    Action.VOID: "COD",
    Action.AMEND: "COD",
    Action.SWITCH_TO_PAPER: "SWTP",
}


@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
def test_org_governance_onboards_for_itself_cannot_touch_existing_title(
    registry, send, reverts, issue, governance, carrier, shipper, bank, action
):
    """A carrier org governance onboards with its own key gets NotHolder / NotEndorsee / NotIssuingCarrier."""
    puppet = Party("puppet", Role.CARRIER, org_address("puppet"), governance)
    send(
        registry.functions.registerOrganisation(puppet.org, int(Role.CARRIER), bytes(32), governance.address),
        governance,
    )
    ebl = issue(shipper)
    setup = PUPPET_SETUP.get(action)
    if setup == "SURRENDER":
        send(registry.functions.requestSurrenderForDelivery(ebl), shipper)
    elif setup:
        send(registry.functions.requestSurrenderForAmendment(ebl, text32(setup)), shipper)
        send(registry.functions.acceptSurrender(ebl), carrier)
    if action in CARRIER_ACTIONS:
        error = ("TitleNotIssuingCarrier", ebl, puppet.org)
    elif action == Action.NOMINATE:
        error = ("TitleNotEndorsee", ebl, puppet.org)
    else:
        error = ("TitleNotHolder", ebl, puppet.org)
    before = registry.functions.titleOf(ebl).call()
    with reverts(*error):
        attempt(registry, action, ebl, bank.org, governance, "direct", relayer=governance.address)
    assert registry.functions.titleOf(ebl).call() == before


def test_suspension_pause_and_role_changes_never_move_title(registry, send, issue, governance, shipper, bank):
    """Suspend, pause, unpause, reinstate and role changes leave every title record untouched, no Transfer."""
    f = registry.functions
    ebls = [issue(shipper), issue(shipper, bank, DocumentKind.STRAIGHT)]
    send(f.transferPossession(ebls[1], bank.org), shipper)
    before = [f.titleOf(e).call() for e in ebls]
    for fn in (
        f.suspendOrganisation(shipper.org),
        f.suspendOrganisation(bank.org),
        f.pause(),
        f.grantRole(DEFAULT_ADMIN_ROLE, bank.address),
        f.revokeRole(PAUSER_ROLE, governance.address),
        f.grantRole(PAUSER_ROLE, governance.address),
        f.unpause(),
        f.reinstateOrganisation(shipper.org),
        f.reinstateOrganisation(bank.org),
    ):
        receipt = send(fn, governance)
        assert "Transfer" not in event_names(registry, receipt)
        assert [f.titleOf(e).call() for e in ebls] == before
    assert [f.balanceOf(p.org).call() for p in (shipper, bank)] == [1, 1]


def test_admin_role_granted_to_a_member_key_confers_no_title_power(
    registry, send, reverts, issue, governance, shipper, bank
):
    """A bank key also holding DEFAULT_ADMIN_ROLE still cannot move the shipper's title (TitleNotHolder)."""
    ebl = issue(shipper)
    send(registry.functions.grantRole(DEFAULT_ADMIN_ROLE, bank.address), governance)
    with reverts("TitleNotHolder", ebl, bank.org):
        registry.functions.transferPossession(ebl, bank.org).transact({"from": bank.address})


MEMBER_KEY_GATED = {
    "issue",
    "issueSigned",
    "transferPossession",
    "endorse",
    "endorseToOrder",
    "endorseInBlank",
    "nominate",
    "rejectTransfer",
    "requestSurrenderForDelivery",
    "requestSurrenderForAmendment",
    "acceptSurrender",
    "rejectSurrender",
    "voidEbl",
    "amend",
    "switchToPaper",
    "startExport",
    "execute",
    "addKey",
    "revokeKey",
}
BRIDGE_KEY_GATED = {"closeExport", "cancelExport", "importTitle"}
"""CROSS_PLATFORM_ROLE only: a role that administers itself (see the tests below)."""
PER_ENTRY_SIGNED = {"executeBatch", "issueBatch", "executeFromBatch", "issueFromBatch"}
OWN_NONCES = {"invalidateNonce"}
ERC721_DISABLED = {"approve", "setApprovalForAll", "transferFrom", "safeTransferFrom"}
GOVERNANCE = {
    "registerOrganisation",
    "suspendOrganisation",
    "reinstateOrganisation",
    "pause",
    "unpause",
    "grantRole",
    "revokeRole",
    "renounceRole",
}


def test_every_state_changing_function_is_member_gated_or_governance_admin(registry):
    """No other writer exists: governance's are membership, pause and roles; ERC-721 writers are pure."""
    writers = {
        e["name"]
        for e in registry.abi
        if e["type"] == "function" and e["stateMutability"] in ("nonpayable", "payable")
    }
    assert writers == MEMBER_KEY_GATED | BRIDGE_KEY_GATED | PER_ENTRY_SIGNED | OWN_NONCES | GOVERNANCE
    pure = {e["name"] for e in registry.abi if e["type"] == "function" and e["stateMutability"] == "pure"}
    assert pure >= ERC721_DISABLED
    assert not any(e["type"] in ("fallback", "receive") for e in registry.abi)
