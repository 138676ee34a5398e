// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ITitleBridge} from "../interfaces/ITitleBridge.sol";
import {Membership} from "../Membership.sol";
import {ImportedTitle} from "../lib/TitleTypes.sol";

/// @title The registry bridge's entry points and the record of where exported eBLs went (PINT)
/// @notice See {ITitleBridge}.
/// @dev What the bridge may call and what is kept about an export; what an export or an import does
/// to a title record is the deriving contract's business, through the hooks {_endExport} and
/// {_import}, as {SignedActions} leaves `_issue` and `_dispatch` to it. `CROSS_PLATFORM_ROLE` is its own
/// admin and is granted once, in the constructor, so `DEFAULT_ADMIN_ROLE` (governance) can never grant
/// it, to itself or anyone: governance keeps no function that moves title.
abstract contract PlatformBridge is ITitleBridge, Membership {
    /// @notice Role of the registry's bridge key: ends exports and records imported bills.
    bytes32 public constant CROSS_PLATFORM_ROLE = keccak256("CROSS_PLATFORM_ROLE");

    /// @dev Where a pending or closed export went. Two slots: written once per export.
    struct Export {
        bytes32 envelopeChecksum;
        bytes4 platform;
    }

    mapping(uint256 eblId => Export export) private _exports;

    /// @param bridge The registry's bridge key (zero: this registry never exchanges bills with others).
    constructor(address bridge) {
        _setRoleAdmin(CROSS_PLATFORM_ROLE, CROSS_PLATFORM_ROLE);
        if (bridge != address(0)) _grantRole(CROSS_PLATFORM_ROLE, bridge);
    }

    /// @inheritdoc ITitleBridge
    function startExport(uint256 eblId, bytes4 platform, bytes32 envelopeChecksum) external virtual {
        if (platform == bytes4(0)) revert BridgeInvalidPlatform(address(0));
        _startExport(msg.sender, eblId, platform, envelopeChecksum);
    }

    /// @inheritdoc ITitleBridge
    function closeExport(uint256 eblId, bytes32 responseChecksum) external virtual onlyRole(CROSS_PLATFORM_ROLE) {
        _endExport(eblId, true, responseChecksum);
    }

    /// @inheritdoc ITitleBridge
    function cancelExport(uint256 eblId, bytes32 responseChecksum) external virtual onlyRole(CROSS_PLATFORM_ROLE) {
        _endExport(eblId, false, responseChecksum);
    }

    /// @inheritdoc ITitleBridge
    function importTitle(
        ImportedTitle calldata t
    ) external virtual onlyRole(CROSS_PLATFORM_ROLE) returns (uint256 eblId) {
        return _import(t);
    }

    /// @inheritdoc ITitleBridge
    function exportOf(uint256 eblId) external view virtual returns (bytes4 platform, bytes32 envelopeChecksum) {
        Export storage e = _exports[eblId];
        return (e.platform, e.envelopeChecksum);
    }

    /// @inheritdoc ITitleBridge
    function importedEblIdOf(address carrier, bytes32 carrierRef, bytes32 tdrHash) public pure virtual returns (uint256) {
        if (carrier != address(0)) return uint256(keccak256(abi.encode(carrier, tdrHash)));
        return uint256(keccak256(abi.encode(address(0), carrierRef, tdrHash)));
    }

    /// @dev The holder organisation of `key` sends `eblId` to `platform`.
    function _startExport(address key, uint256 eblId, bytes4 platform, bytes32 envelopeChecksum) internal virtual;

    /// @dev Ends the pending export of `eblId`: `accepted` → Exported, else Active with the same holder.
    function _endExport(uint256 eblId, bool accepted, bytes32 responseChecksum) internal virtual;

    /// @dev Records the arriving bill `t`; returns its record's id.
    function _import(ImportedTitle calldata t) internal virtual returns (uint256 eblId);

    /// @dev The platform code a `StartExport` action carries in its `party` field: 1 to 4 bytes,
    /// left-aligned, the other 16 bytes zero. Reverts with {BridgeInvalidPlatform} otherwise.
    function _platformOf(address party) internal pure returns (bytes4 platform) {
        platform = bytes4(bytes20(party));
        if (platform == bytes4(0) || uint160(party) & type(uint128).max != 0) revert BridgeInvalidPlatform(party);
    }

    /// @dev Notes where `eblId` is being sent.
    function _recordExport(uint256 eblId, bytes4 platform, bytes32 envelopeChecksum) internal {
        _exports[eblId] = Export(envelopeChecksum, platform);
    }

    /// @dev The pending export of `eblId`; with `forget` it is cleared (cancelled, or the bill came back).
    function _takeExport(uint256 eblId, bool forget) internal returns (bytes4 platform, bytes32 envelopeChecksum) {
        Export storage e = _exports[eblId];
        (platform, envelopeChecksum) = (e.platform, e.envelopeChecksum);
        if (forget) delete _exports[eblId];
    }
}
