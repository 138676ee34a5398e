// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Role, OrgStatus, KeyStatus} from "../lib/TitleTypes.sol";

/// @title Permissioned membership of the eBL registry
/// @notice Organisations (carriers, banks, traders) are onboarded and suspended by governance. Each
/// acts through one or more signing keys that only the organisation itself can add or revoke, so
/// rotating keys never moves title and governance can never act for a member.
interface IMembership {
    /// @notice Thrown when a key that is not an active key of an organisation tries to act.
    /// @param key The unknown or revoked key.
    error MembershipUnauthorizedKey(address key);

    /// @notice Thrown when an organisation address is not registered.
    /// @param org The organisation identity address.
    error MembershipUnknownOrganisation(address org);

    /// @notice Thrown when a suspended organisation acts or is named to receive title.
    /// @param org The suspended organisation.
    error MembershipOrganisationNotActive(address org);

    /// @notice Thrown when an organisation identity address is registered twice.
    /// @param org The organisation identity address.
    error MembershipOrganisationExists(address org);

    /// @notice Thrown when a key is registered that is (or was) already in use by any organisation.
    /// @param key The key address.
    error MembershipKeyExists(address key);

    /// @notice Thrown when an organisation revokes a key that is not one of its active keys.
    /// @param org The acting organisation.
    /// @param key The key it tried to revoke.
    error MembershipKeyNotOwned(address org, address key);

    /// @notice Thrown when an organisation would revoke its last active key and lock itself out.
    /// @param org The acting organisation.
    /// @param key Its last active key.
    error MembershipLastKey(address org, address key);

    /// @notice Thrown when an action needs a role the acting organisation does not have.
    /// @param org The acting organisation.
    /// @param required The role the action needs.
    error MembershipRoleRequired(address org, Role required);

    /// @notice Thrown when an organisation is registered with role `None`.
    error MembershipInvalidRole();

    /// @notice Thrown when the zero address is given as an organisation or key.
    error MembershipZeroAddress();

    /// @notice Emitted when governance onboards an organisation.
    /// @param org The organisation identity address (stable across key rotation; its ERC-721 owner address).
    /// @param role The organisation's role.
    /// @param index Its dense index inside title records.
    /// @param identifier Hash of its legal identifier (e.g. keccak256 of an LEI or DID); no names on chain.
    event OrganisationRegistered(address indexed org, Role role, uint32 index, bytes32 identifier);

    /// @notice Emitted when governance suspends an organisation.
    /// @param org The suspended organisation.
    event OrganisationSuspended(address indexed org);

    /// @notice Emitted when governance lifts a suspension.
    /// @param org The reinstated organisation.
    event OrganisationReinstated(address indexed org);

    /// @notice Emitted when a signing key is added to an organisation.
    /// @param org The organisation the key acts for.
    /// @param key The new key.
    /// @param actorKey The key that authorised the addition (governance's sender at onboarding).
    event KeyAdded(address indexed org, address indexed key, address actorKey);

    /// @notice Emitted when an organisation revokes one of its keys.
    /// @param org The organisation.
    /// @param key The revoked key.
    /// @param actorKey The key that authorised the revocation.
    event KeyRevoked(address indexed org, address indexed key, address actorKey);

    /// @notice Onboards an organisation with its first signing key. Governance only.
    /// @param org The organisation identity address.
    /// @param role Carrier, Bank or Trader.
    /// @param identifier Hash of the organisation's legal identifier (LEI, DID ...).
    /// @param initialKey Its first signing key.
    function registerOrganisation(address org, Role role, bytes32 identifier, address initialKey) external;

    /// @notice Suspends an organisation: it can no longer act or receive title. Title it holds stays put.
    /// @param org The organisation to suspend.
    function suspendOrganisation(address org) external;

    /// @notice Lifts a suspension. Governance only.
    /// @param org The organisation to reinstate.
    function reinstateOrganisation(address org) external;

    /// @notice Adds a signing key to the caller's organisation. The caller must be an active key of it.
    /// @param key The new key; must never have been registered before.
    function addKey(address key) external;

    /// @notice Revokes one of the caller organisation's keys. Title does not move.
    /// @param key The key to revoke; must not be the organisation's last active key.
    function revokeKey(address key) external;

    /// @notice Returns an organisation's record.
    /// @param org The organisation identity address.
    /// @return index Dense index (0 if unknown).
    /// @return role Its role.
    /// @return status Its standing.
    /// @return keyCount Number of active keys.
    function organisation(
        address org
    ) external view returns (uint32 index, Role role, OrgStatus status, uint16 keyCount);

    /// @notice Returns the organisation at a dense index.
    /// @param index The 1-based index.
    /// @return The organisation identity address (zero if none).
    function organisationAt(uint32 index) external view returns (address);

    /// @notice Number of organisations ever registered.
    /// @return The count (equal to the highest index).
    function organisationCount() external view returns (uint32);

    /// @notice Returns which organisation a key acts for and its standing.
    /// @param key The key address.
    /// @return org The organisation (zero if unknown).
    /// @return status The key's status.
    function keyInfo(address key) external view returns (address org, KeyStatus status);
}
