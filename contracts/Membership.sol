// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IMembership} from "./interfaces/IMembership.sol";
import {KeyRecord, KeyStatus, OrgStatus, Organisation, Role} from "./lib/TitleTypes.sol";

/// @title Permissioned membership: organisations, their keys, governance and the emergency pause
/// @notice Onboarding, suspension and key management for the title registry. See {IMembership}.
/// @dev Governance holds `DEFAULT_ADMIN_ROLE` (onboard, suspend, reinstate, grant roles); `PAUSER_ROLE`
/// may pause title actions. Neither role can add a key to an existing organisation, so neither can ever
/// act for a member. Key management stays available while paused, so a compromised key can be revoked.
abstract contract Membership is IMembership, AccessControl, Pausable {
    /// @notice Role allowed to pause and unpause title actions in an emergency.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    mapping(address org => Organisation record) internal _orgs;
    mapping(uint32 index => address org) internal _orgAt;
    mapping(address key => KeyRecord record) internal _keys;
    uint32 internal _orgCount;

    /// @param governance The account that receives `DEFAULT_ADMIN_ROLE` and `PAUSER_ROLE`.
    constructor(address governance) {
        if (governance == address(0)) revert MembershipZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(PAUSER_ROLE, governance);
    }

    /// @inheritdoc IMembership
    function registerOrganisation(
        address org,
        Role role,
        bytes32 identifier,
        address initialKey
    ) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        if (org == address(0)) revert MembershipZeroAddress();
        if (role == Role.None) revert MembershipInvalidRole();
        Organisation storage o = _orgs[org];
        if (o.status != OrgStatus.None) revert MembershipOrganisationExists(org);
        uint32 index = ++_orgCount;
        o.index = index;
        o.role = role;
        o.status = OrgStatus.Active;
        _orgAt[index] = org;
        emit OrganisationRegistered(org, role, index, identifier);
        _addKey(org, o, initialKey, msg.sender);
    }

    /// @inheritdoc IMembership
    function suspendOrganisation(address org) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        Organisation storage o = _registered(org);
        if (o.status != OrgStatus.Active) revert MembershipOrganisationNotActive(org);
        o.status = OrgStatus.Suspended;
        emit OrganisationSuspended(org);
    }

    /// @inheritdoc IMembership
    function reinstateOrganisation(address org) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        Organisation storage o = _registered(org);
        if (o.status == OrgStatus.Active) revert MembershipOrganisationExists(org);
        o.status = OrgStatus.Active;
        emit OrganisationReinstated(org);
    }

    /// @inheritdoc IMembership
    function addKey(address key) external virtual {
        _addOwnKey(msg.sender, key);
    }

    /// @inheritdoc IMembership
    function revokeKey(address key) external virtual {
        _revokeOwnKey(msg.sender, key);
    }

    /// @notice Pauses every title action. Membership and key management stay available.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts the emergency pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @inheritdoc IMembership
    function organisation(
        address org
    ) external view returns (uint32 index, Role role, OrgStatus status, uint16 keyCount) {
        Organisation storage o = _orgs[org];
        return (o.index, o.role, o.status, o.keyCount);
    }

    /// @inheritdoc IMembership
    function organisationAt(uint32 index) external view returns (address) {
        return _orgAt[index];
    }

    /// @inheritdoc IMembership
    function organisationCount() external view returns (uint32) {
        return _orgCount;
    }

    /// @inheritdoc IMembership
    function keyInfo(address key) external view returns (address org, KeyStatus status) {
        KeyRecord storage k = _keys[key];
        return (k.org, k.status);
    }

    /// @dev Adds `key` to the organisation that `actorKey` acts for.
    function _addOwnKey(address actorKey, address key) internal virtual {
        (address org, Organisation storage o) = _actor(actorKey);
        _addKey(org, o, key, actorKey);
    }

    /// @dev Revokes `key` of the organisation that `actorKey` acts for; never its last key.
    function _revokeOwnKey(address actorKey, address key) internal virtual {
        (address org, Organisation storage o) = _actor(actorKey);
        KeyRecord storage k = _keys[key];
        if (k.org != org || k.status != KeyStatus.Active) revert MembershipKeyNotOwned(org, key);
        if (o.keyCount == 1) revert MembershipLastKey(org, key);
        k.status = KeyStatus.Revoked;
        --o.keyCount;
        emit KeyRevoked(org, key, actorKey);
    }

    function _addKey(address org, Organisation storage o, address key, address actorKey) private {
        if (key == address(0)) revert MembershipZeroAddress();
        KeyRecord storage k = _keys[key];
        if (k.status != KeyStatus.None) revert MembershipKeyExists(key);
        k.org = org;
        k.status = KeyStatus.Active;
        ++o.keyCount;
        emit KeyAdded(org, key, actorKey);
    }

    /// @dev Resolves an acting key to its active organisation, or reverts.
    function _actor(address key) internal view virtual returns (address org, Organisation storage o) {
        KeyRecord storage k = _keys[key];
        if (k.status != KeyStatus.Active) revert MembershipUnauthorizedKey(key);
        org = k.org;
        o = _orgs[org];
        if (o.status != OrgStatus.Active) revert MembershipOrganisationNotActive(org);
    }

    /// @dev Whether `key` could act now: an active key of an active organisation, the test {_actor}
    /// applies, as a boolean instead of a revert.
    function _isActiveKey(address key) internal view virtual returns (bool) {
        KeyRecord storage k = _keys[key];
        return k.status == KeyStatus.Active && _orgs[k.org].status == OrgStatus.Active;
    }

    /// @dev Resolves an organisation named as a counterparty: it must be an active member.
    function _activeMember(address org) internal view virtual returns (Organisation storage o) {
        o = _registered(org);
        if (o.status != OrgStatus.Active) revert MembershipOrganisationNotActive(org);
    }

    /// @dev Resolves a registered organisation, active or suspended, or reverts.
    function _registered(address org) internal view returns (Organisation storage o) {
        o = _orgs[org];
        if (o.status == OrgStatus.None) revert MembershipUnknownOrganisation(org);
    }
}
