"""Membership: onboarding, suspension, signing keys, non-members, roles and the emergency pause."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from registry.types import Action, DocumentKind, OrgStatus, Role
from tests.contracts.helpers import (
    CARRIER_ACTIONS,
    DEFAULT_ADMIN_ROLE,
    PAUSER_ROLE,
    TITLE_ACTIONS,
    ZERO_ADDRESS,
    action_id,
    attempt,
    events,
    fresh_tdr,
    issuance,
    send_from,
    sign_action,
    sign_issuance,
    title_action,
)
from tests.contracts.parties import Party, org_address
from tests.contracts.parties import test_key as key_of

KEY_NONE, KEY_ACTIVE, KEY_REVOKED = 0, 1, 2
VIAS = ("direct", "signed")


@pytest.fixture
def newcomer() -> Party:
    """An organisation not yet onboarded, with a fresh key."""
    return Party("newcomer", Role.BANK, org_address("newcomer"), key_of("newcomer"))


@pytest.fixture
def second_key():
    """A second key for the shipper, not yet registered."""
    return key_of("shipper", 1)


def actor_for(action: Action, shipper: Party, carrier: Party) -> Party:
    """Who would normally take `action` on an eBL the shipper holds and is endorsed to."""
    return carrier if action in CARRIER_ACTIONS else shipper


def issue_call(registry, to: Party, kind: DocumentKind = DocumentKind.TO_ORDER, endorsee: str = ZERO_ADDRESS):
    tdr = fresh_tdr()
    return registry.functions.issue(tdr, keccak(tdr), to.org, endorsee, int(kind))


# ----------------------------------------------------------------------------- onboarding


def test_register_organisation_onboards_org_with_role_index_and_first_key(
    registry, send, governance, newcomer
):
    """Governance onboards an org: events, dense index, role, Active status and its first active key."""
    index = registry.functions.organisationCount().call() + 1
    identifier = keccak(text="LEI:newcomer")
    receipt = send(
        registry.functions.registerOrganisation(newcomer.org, int(Role.BANK), identifier, newcomer.address),
        governance,
    )
    assert events(registry, "OrganisationRegistered", receipt) == [
        {"org": newcomer.org, "role": Role.BANK, "index": index, "identifier": identifier}
    ]
    assert events(registry, "KeyAdded", receipt) == [
        {"org": newcomer.org, "key": newcomer.address, "actorKey": governance.address}
    ]
    assert registry.functions.organisation(newcomer.org).call() == [index, Role.BANK, OrgStatus.ACTIVE, 1]
    assert registry.functions.organisationAt(index).call() == newcomer.org
    assert registry.functions.organisationCount().call() == index
    assert registry.functions.keyInfo(newcomer.address).call() == [newcomer.org, KEY_ACTIVE]


@pytest.mark.parametrize("caller", ["carrier", "bank", "outsider"])
def test_register_organisation_reverts_when_caller_lacks_admin_role(
    registry, reverts, cast, newcomer, caller
):
    """Only DEFAULT_ADMIN_ROLE onboards: members and outsiders get AccessControlUnauthorizedAccount."""
    who = cast[caller]
    with reverts("AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE):
        registry.functions.registerOrganisation(
            newcomer.org, int(Role.CARRIER), bytes(32), newcomer.address
        ).transact({"from": who.address})


@pytest.mark.parametrize("fn", ["suspendOrganisation", "reinstateOrganisation"])
def test_suspend_and_reinstate_revert_when_caller_lacks_admin_role(registry, reverts, carrier, bank, fn):
    """A member key cannot suspend or reinstate anyone."""
    with reverts("AccessControlUnauthorizedAccount", carrier.address, DEFAULT_ADMIN_ROLE):
        getattr(registry.functions, fn)(bank.org).transact({"from": carrier.address})


@pytest.mark.parametrize("zero", ["org", "key"])
def test_register_organisation_reverts_for_zero_org_or_zero_key(
    registry, reverts, governance, newcomer, zero
):
    """The zero address is neither an organisation nor a key."""
    org = ZERO_ADDRESS if zero == "org" else newcomer.org
    key = ZERO_ADDRESS if zero == "key" else newcomer.address
    with reverts("MembershipZeroAddress"):
        registry.functions.registerOrganisation(org, int(Role.TRADER), bytes(32), key).transact(
            {"from": governance.address}
        )


def test_register_organisation_reverts_for_role_none(registry, reverts, governance, newcomer):
    """Role None is refused with MembershipInvalidRole."""
    with reverts("MembershipInvalidRole"):
        registry.functions.registerOrganisation(
            newcomer.org, int(Role.NONE), bytes(32), newcomer.address
        ).transact({"from": governance.address})


@pytest.mark.parametrize("name", ["carrier", "other_carrier", "shipper", "bank", "consignee", "buyer"])
def test_register_organisation_reverts_for_existing_org(registry, reverts, governance, cast, newcomer, name):
    """An onboarded org cannot be registered again, even with a fresh key (no key injection)."""
    org = cast[name].org
    with reverts("MembershipOrganisationExists", org):
        registry.functions.registerOrganisation(org, int(Role.BANK), bytes(32), newcomer.address).transact(
            {"from": governance.address}
        )


def test_register_organisation_reverts_for_suspended_existing_org(
    registry, send, reverts, governance, bank, newcomer
):
    """A suspended org still exists: re-registering it (to swap its keys) is refused."""
    send(registry.functions.suspendOrganisation(bank.org), governance)
    with reverts("MembershipOrganisationExists", bank.org):
        registry.functions.registerOrganisation(
            bank.org, int(Role.BANK), bytes(32), newcomer.address
        ).transact({"from": governance.address})


def test_register_organisation_reverts_for_key_of_another_org(
    registry, reverts, governance, shipper, newcomer
):
    """A key already acting for one org cannot be given to a new org."""
    with reverts("MembershipKeyExists", shipper.address):
        registry.functions.registerOrganisation(
            newcomer.org, int(Role.TRADER), bytes(32), shipper.address
        ).transact({"from": governance.address})


def test_revoked_key_can_never_be_reused_by_any_org(
    registry, send, reverts, w3, governance, shipper, bank, newcomer, second_key
):
    """After the shipper revokes a key, neither onboarding nor addKey (by anyone) can register it again."""
    send(registry.functions.addKey(second_key.address), shipper)
    send_from(w3, registry.functions.revokeKey(shipper.address), second_key)
    assert registry.functions.keyInfo(shipper.address).call() == [shipper.org, KEY_REVOKED]
    with reverts("MembershipKeyExists", shipper.address):
        registry.functions.registerOrganisation(
            newcomer.org, int(Role.TRADER), bytes(32), shipper.address
        ).transact({"from": governance.address})
    with reverts("MembershipKeyExists", shipper.address):
        registry.functions.addKey(shipper.address).transact({"from": bank.address})
    with reverts("MembershipKeyExists", shipper.address):
        registry.functions.addKey(shipper.address).call({"from": second_key.address})


# ----------------------------------------------------------------------------- suspension


def test_suspend_organisation_emits_event_and_sets_status(registry, send, governance, bank):
    """Suspension is recorded with OrganisationSuspended and status Suspended; keys stay registered."""
    receipt = send(registry.functions.suspendOrganisation(bank.org), governance)
    assert events(registry, "OrganisationSuspended", receipt) == [{"org": bank.org}]
    assert registry.functions.organisation(bank.org).call()[2] == OrgStatus.SUSPENDED
    assert registry.functions.keyInfo(bank.address).call() == [bank.org, KEY_ACTIVE]


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
def test_suspended_org_key_cannot_take_any_title_action(
    registry, send, reverts, issue, governance, shipper, carrier, bank, action, via
):
    """Every title action by a key of a suspended org reverts MembershipOrganisationNotActive(org)."""
    ebl = issue(shipper)
    actor = actor_for(action, shipper, carrier)
    send(registry.functions.suspendOrganisation(actor.org), governance)
    with reverts("MembershipOrganisationNotActive", actor.org):
        attempt(registry, action, ebl, bank.org, actor, via, relayer=governance.address)


@pytest.mark.parametrize("via", VIAS)
def test_suspended_carrier_cannot_issue(registry, send, reverts, governance, carrier, shipper, via):
    """A suspended carrier's key cannot issue, directly or by signature."""
    send(registry.functions.suspendOrganisation(carrier.org), governance)
    with reverts("MembershipOrganisationNotActive", carrier.org):
        if via == "direct":
            issue_call(registry, shipper).transact({"from": carrier.address})
        else:
            signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
            registry.functions.issueSigned(signed).transact({"from": governance.address})


def test_suspended_org_cannot_manage_its_keys(registry, send, reverts, governance, shipper, second_key):
    """While suspended, an org can neither add nor revoke keys (it cannot act at all)."""
    send(registry.functions.suspendOrganisation(shipper.org), governance)
    with reverts("MembershipOrganisationNotActive", shipper.org):
        registry.functions.addKey(second_key.address).transact({"from": shipper.address})
    with reverts("MembershipOrganisationNotActive", shipper.org):
        registry.functions.revokeKey(shipper.address).transact({"from": shipper.address})


RECEIVE_PATHS = [
    "transferPossession",
    "endorse",
    "endorseToOrder",
    "nominate",
    "issue_to",
    "issue_endorsee_to_order",
    "issue_endorsee_straight",
]


@pytest.mark.parametrize("path", RECEIVE_PATHS)
def test_suspended_org_cannot_be_named_to_receive_title(
    registry, send, reverts, issue, governance, carrier, shipper, bank, path
):
    """Naming a suspended bank as recipient, endorsee, nominee or first holder reverts NotActive(bank)."""
    ebl = issue(shipper)
    if path == "nominate":
        send(registry.functions.transferPossession(ebl, carrier.org), shipper)
    send(registry.functions.suspendOrganisation(bank.org), governance)
    f = registry.functions
    calls = {
        "transferPossession": (f.transferPossession(ebl, bank.org), shipper),
        "endorse": (f.endorse(ebl, bank.org), shipper),
        "endorseToOrder": (f.endorseToOrder(ebl, bank.org), shipper),
        "nominate": (f.nominate(ebl, bank.org), shipper),
        "issue_to": (issue_call(registry, bank), carrier),
        "issue_endorsee_to_order": (issue_call(registry, shipper, endorsee=bank.org), carrier),
        "issue_endorsee_straight": (issue_call(registry, shipper, DocumentKind.STRAIGHT, bank.org), carrier),
    }
    fn, sender = calls[path]
    with reverts("MembershipOrganisationNotActive", bank.org):
        fn.transact({"from": sender.address})


def test_suspension_leaves_held_title_in_place_and_reinstatement_restores_acting(
    registry, send, governance, issue, shipper, bank
):
    """Suspending the holder moves nothing; after OrganisationReinstated it acts again."""
    ebl = issue(shipper)
    before = registry.functions.titleOf(ebl).call()
    send(registry.functions.suspendOrganisation(shipper.org), governance)
    assert registry.functions.titleOf(ebl).call() == before
    assert registry.functions.ownerOf(ebl).call() == shipper.org
    assert registry.functions.balanceOf(shipper.org).call() == 1
    receipt = send(registry.functions.reinstateOrganisation(shipper.org), governance)
    assert events(registry, "OrganisationReinstated", receipt) == [{"org": shipper.org}]
    assert registry.functions.organisation(shipper.org).call()[2] == OrgStatus.ACTIVE
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    assert registry.functions.holderOf(ebl).call() == bank.org


def test_suspend_organisation_reverts_for_unknown_org(registry, reverts, governance, outsider):
    """Suspending a non-member reverts MembershipUnknownOrganisation."""
    with reverts("MembershipUnknownOrganisation", outsider.org):
        registry.functions.suspendOrganisation(outsider.org).transact({"from": governance.address})


def test_suspend_organisation_reverts_when_already_suspended(registry, send, reverts, governance, bank):
    """A second suspension reverts MembershipOrganisationNotActive."""
    send(registry.functions.suspendOrganisation(bank.org), governance)
    with reverts("MembershipOrganisationNotActive", bank.org):
        registry.functions.suspendOrganisation(bank.org).transact({"from": governance.address})


def test_reinstate_organisation_reverts_for_unknown_org(registry, reverts, governance, outsider):
    """Reinstating a non-member reverts MembershipUnknownOrganisation."""
    with reverts("MembershipUnknownOrganisation", outsider.org):
        registry.functions.reinstateOrganisation(outsider.org).transact({"from": governance.address})


def test_reinstate_organisation_reverts_for_active_org(registry, reverts, governance, bank):
    """Reinstating an active org reverts MembershipOrganisationExists."""
    with reverts("MembershipOrganisationExists", bank.org):
        registry.functions.reinstateOrganisation(bank.org).transact({"from": governance.address})


# ----------------------------------------------------------------------------- keys


def test_add_key_by_own_key_registers_it_and_new_key_acts_for_org(
    registry, send, w3, issue, shipper, bank, second_key
):
    """The shipper's key adds a key (KeyAdded); the new key then moves the shipper's title."""
    ebl = issue(shipper)
    receipt = send(registry.functions.addKey(second_key.address), shipper)
    assert events(registry, "KeyAdded", receipt) == [
        {"org": shipper.org, "key": second_key.address, "actorKey": shipper.address}
    ]
    assert registry.functions.keyInfo(second_key.address).call() == [shipper.org, KEY_ACTIVE]
    assert registry.functions.organisation(shipper.org).call()[3] == 2
    receipt = send_from(w3, registry.functions.transferPossession(ebl, bank.org), second_key)
    assert registry.functions.holderOf(ebl).call() == bank.org
    (recorded,) = events(registry, "ActionRecorded", receipt)
    assert (recorded["actor"], recorded["actorKey"]) == (shipper.org, second_key.address)


@pytest.mark.parametrize("key", ["zero", "own", "other_org"])
def test_add_key_reverts_for_zero_or_registered_key(registry, reverts, shipper, bank, key):
    """addKey refuses the zero address and any key already registered (own or another org's)."""
    if key == "zero":
        ctx = reverts("MembershipZeroAddress")
        target = ZERO_ADDRESS
    else:
        target = shipper.address if key == "own" else bank.address
        ctx = reverts("MembershipKeyExists", target)
    with ctx:
        registry.functions.addKey(target).transact({"from": shipper.address})


def test_revoke_key_emits_event_and_revoked_key_cannot_act(
    registry, send, reverts, w3, issue, governance, shipper, bank, second_key
):
    """After KeyRevoked the old key is refused (MembershipUnauthorizedKey) directly and by signature."""
    ebl = issue(shipper)
    send(registry.functions.addKey(second_key.address), shipper)
    receipt = send_from(w3, registry.functions.revokeKey(shipper.address), second_key)
    assert events(registry, "KeyRevoked", receipt) == [
        {"org": shipper.org, "key": shipper.address, "actorKey": second_key.address}
    ]
    assert registry.functions.keyInfo(shipper.address).call() == [shipper.org, KEY_REVOKED]
    assert registry.functions.organisation(shipper.org).call()[3] == 1
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.transferPossession(ebl, bank.org).transact({"from": shipper.address})
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.addKey(key_of("shipper", 2).address).transact({"from": shipper.address})
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.execute(signed).transact({"from": governance.address})


def test_org_revokes_the_key_it_sends_from_when_another_remains(registry, send, reverts, shipper, second_key):
    """A key may revoke itself if the org keeps another key; it is unusable right after."""
    send(registry.functions.addKey(second_key.address), shipper)
    send(registry.functions.revokeKey(shipper.address), shipper)
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.revokeKey(second_key.address).transact({"from": shipper.address})


def test_revoke_key_reverts_for_last_key(registry, reverts, shipper):
    """An org cannot lock itself out: revoking its only key reverts MembershipLastKey."""
    with reverts("MembershipLastKey", shipper.org, shipper.address):
        registry.functions.revokeKey(shipper.address).transact({"from": shipper.address})


@pytest.mark.parametrize("key", ["other_org", "unknown", "already_revoked"])
def test_revoke_key_reverts_for_key_not_owned(registry, send, reverts, w3, shipper, bank, outsider, key):
    """Revoking another org's key, an unknown key or an already revoked key reverts MembershipKeyNotOwned."""
    keys = [key_of("shipper", 1), key_of("shipper", 2)]
    for k in keys:
        send(registry.functions.addKey(k.address), shipper)
    send(registry.functions.revokeKey(keys[0].address), shipper)
    target = {"other_org": bank.address, "unknown": outsider.address, "already_revoked": keys[0].address}[key]
    with reverts("MembershipKeyNotOwned", shipper.org, target):
        registry.functions.revokeKey(target).transact({"from": shipper.address})


def test_key_rotation_never_moves_title(registry, send, reverts, w3, issue, consignee, shipper, second_key):
    """Rotating the shipper's key leaves every title record unchanged; the new key acts, the old cannot."""
    ebls = [issue(shipper), issue(shipper, consignee, DocumentKind.STRAIGHT)]
    before = [registry.functions.titleOf(e).call() for e in ebls]
    send(registry.functions.addKey(second_key.address), shipper)
    send_from(w3, registry.functions.revokeKey(shipper.address), second_key)
    assert [registry.functions.titleOf(e).call() for e in ebls] == before
    assert registry.functions.balanceOf(shipper.org).call() == 2
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.transferPossession(ebls[1], consignee.org).transact({"from": shipper.address})
    send_from(w3, registry.functions.transferPossession(ebls[1], consignee.org), second_key)
    assert registry.functions.holderOf(ebls[1]).call() == consignee.org


# ----------------------------------------------------------------------------- non-members and roles


def test_outsider_has_no_org_and_no_key(registry, outsider):
    """The outsider is not onboarded: no org record, no key record."""
    assert registry.functions.organisation(outsider.org).call() == [0, Role.NONE, OrgStatus.NONE, 0]
    assert registry.functions.keyInfo(outsider.address).call() == [ZERO_ADDRESS, KEY_NONE]


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
def test_outsider_key_cannot_take_any_title_action(
    registry, reverts, issue, shipper, bank, outsider, action, via
):
    """Every title action by a non-member key reverts MembershipUnauthorizedKey(key), even validly signed."""
    ebl = issue(shipper)
    with reverts("MembershipUnauthorizedKey", outsider.address):
        attempt(registry, action, ebl, bank.org, outsider, via, relayer=bank.address)


@pytest.mark.parametrize(
    "op", ["issue", "issueSigned", "addKey", "revokeKey", "signedAddKey", "signedRevokeKey"]
)
def test_outsider_key_cannot_issue_or_manage_keys(registry, reverts, shipper, bank, outsider, op):
    """A non-member key can neither issue nor add or revoke keys, directly or by signature."""
    f = registry.functions
    new_key = key_of("outsider", 1).address
    calls = {
        "issue": lambda: issue_call(registry, shipper),
        "issueSigned": lambda: f.issueSigned(
            sign_issuance(registry, outsider, issuance(fresh_tdr(), shipper.org))
        ),
        "addKey": lambda: f.addKey(new_key),
        "revokeKey": lambda: f.revokeKey(shipper.address),
        "signedAddKey": lambda: f.execute(
            sign_action(registry, outsider, title_action(Action.ADD_KEY, party=new_key))
        ),
        "signedRevokeKey": lambda: f.execute(
            sign_action(registry, outsider, title_action(Action.REVOKE_KEY, party=shipper.address))
        ),
    }
    with reverts("MembershipUnauthorizedKey", outsider.address):
        calls[op]().transact({"from": outsider.address})


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("name", ["shipper", "bank", "consignee", "buyer"])
def test_issue_reverts_for_non_carrier_org(registry, reverts, cast, governance, name, via):
    """Only a Carrier issues: a trader or bank key gets MembershipRoleRequired(org, Carrier)."""
    who = cast[name]
    with reverts("MembershipRoleRequired", who.org, int(Role.CARRIER)):
        if via == "direct":
            issue_call(registry, cast["buyer"]).transact({"from": who.address})
        else:
            signed = sign_issuance(registry, who, issuance(fresh_tdr(), cast["buyer"].org))
            registry.functions.issueSigned(signed).transact({"from": governance.address})


# ----------------------------------------------------------------------------- emergency pause


@pytest.mark.parametrize("fn", ["pause", "unpause"])
def test_pause_and_unpause_revert_when_caller_lacks_pauser_role(registry, reverts, carrier, fn):
    """Only PAUSER_ROLE pauses or unpauses."""
    with reverts("AccessControlUnauthorizedAccount", carrier.address, PAUSER_ROLE):
        getattr(registry.functions, fn)().transact({"from": carrier.address})


@pytest.fixture
def paused(registry, send, governance):
    """The registry paused by governance (PAUSER_ROLE)."""
    receipt = send(registry.functions.pause(), governance)
    assert events(registry, "Paused", receipt) == [{"account": governance.address}]
    assert registry.functions.paused().call() is True
    return receipt


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("action", TITLE_ACTIONS, ids=action_id)
def test_pause_blocks_every_title_action(
    registry, reverts, issue, send, governance, carrier, shipper, bank, action, via
):
    """While paused, every title action by its rightful actor reverts EnforcedPause()."""
    ebl = issue(shipper)
    send(registry.functions.pause(), governance)
    with reverts("EnforcedPause"):
        attempt(registry, action, ebl, bank.org, actor_for(action, shipper, carrier), via, governance.address)


@pytest.mark.parametrize("via", VIAS)
def test_pause_blocks_issuance(registry, reverts, paused, governance, carrier, shipper, via):
    """While paused, a carrier cannot issue, directly or by signature."""
    with reverts("EnforcedPause"):
        if via == "direct":
            issue_call(registry, shipper).transact({"from": carrier.address})
        else:
            signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
            registry.functions.issueSigned(signed).transact({"from": governance.address})


def test_key_management_and_membership_work_while_paused(
    registry, send, w3, paused, governance, shipper, bank, newcomer, second_key
):
    """Pause leaves addKey, revokeKey, signed AddKey, invalidateNonce, onboarding and suspension usable."""
    send(registry.functions.addKey(second_key.address), shipper)
    send_from(w3, registry.functions.revokeKey(shipper.address), second_key)
    third = key_of("bank", 1)
    send(
        registry.functions.execute(
            sign_action(registry, bank, title_action(Action.ADD_KEY, party=third.address))
        ),
        governance,
    )
    send(registry.functions.invalidateNonce(42), bank)
    send(
        registry.functions.registerOrganisation(newcomer.org, int(Role.TRADER), bytes(32), newcomer.address),
        governance,
    )
    send(registry.functions.suspendOrganisation(newcomer.org), governance)
    assert registry.functions.keyInfo(shipper.address).call() == [shipper.org, KEY_REVOKED]
    assert registry.functions.keyInfo(third.address).call() == [bank.org, KEY_ACTIVE]
    assert registry.functions.nonceUsed(bank.address, 42).call() is True
    assert registry.functions.organisation(newcomer.org).call()[2] == OrgStatus.SUSPENDED


def test_unpause_restores_title_actions(registry, send, issue, governance, shipper, bank):
    """After Unpaused, title actions work again."""
    ebl = issue(shipper)
    send(registry.functions.pause(), governance)
    receipt = send(registry.functions.unpause(), governance)
    assert events(registry, "Unpaused", receipt) == [{"account": governance.address}]
    send(registry.functions.transferPossession(ebl, bank.org), shipper)
    assert registry.functions.holderOf(ebl).call() == bank.org


def test_pause_reverts_when_already_paused_and_unpause_when_not_paused(registry, send, reverts, governance):
    """pause twice reverts EnforcedPause(); unpause while running reverts ExpectedPause()."""
    with reverts("ExpectedPause"):
        registry.functions.unpause().transact({"from": governance.address})
    send(registry.functions.pause(), governance)
    with reverts("EnforcedPause"):
        registry.functions.pause().transact({"from": governance.address})
