// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DocumentKind, ImportedTitle} from "../lib/TitleTypes.sol";

/// @title Cross-platform title: eBLs leaving for and arriving from other platforms (DCSA PINT 3.0)
/// @notice A bill has exactly one holder across all platforms. The holder starts an export (signed
/// action `StartExport`, as for a transfer): the record is frozen in `ExportPending` while the envelope
/// travels. Only the registry bridge knows the receiving platform's answer, so only it ends the export:
/// {closeExport} (RECE: `Exported`, held on the other platform, terminal here) or {cancelExport}
/// (refused or undeliverable: back to `Active` with the same holder). {importTitle} records a bill that
/// arrived, held by the member the envelope names; a bill this registry exported before comes back as
/// the same record, re-activated.
///
/// The bridge key holds `CROSS_PLATFORM_ROLE`, granted once at deployment. The role administers itself:
/// governance can neither grant nor revoke it, so it is no governance power over title. The bridge can
/// only end exports holders started and record bills arriving with a signed envelope checked off chain.
interface ITitleBridge {
    /// @notice Thrown when a `StartExport` action's `party` does not carry a platform code: a DCSA
    /// code of 1 to 4 ASCII bytes, left-aligned in the 20 address bytes, the rest zero.
    /// @param party The `party` field given.
    error BridgeInvalidPlatform(address party);

    /// @notice Emitted when the holder sends an eBL to another platform: it is frozen (`ExportPending`).
    /// @param eblId The eBL id.
    /// @param holder The holder organisation (it keeps holding until the export is closed).
    /// @param platform The receiving platform's DCSA code (e.g. "WAVE").
    /// @param envelopeChecksum SHA-256 of the envelope's last transfer-chain entry this registry signed
    /// (PINT `lastEnvelopeTransferChainEntrySignedContentChecksum`).
    event ExportStarted(uint256 indexed eblId, address indexed holder, bytes4 platform, bytes32 envelopeChecksum);

    /// @notice Emitted when the bridge ends an export with the receiving platform's answer.
    /// @param eblId The eBL id.
    /// @param accepted True: RECE, the eBL is `Exported`; false: it is `Active` again with the same holder.
    /// @param platform The receiving platform's DCSA code.
    /// @param envelopeChecksum The checksum recorded by {ExportStarted}.
    /// @param responseChecksum SHA-256 of the platform's signed response (zero when none arrived).
    event ExportClosed(
        uint256 indexed eblId,
        bool indexed accepted,
        bytes4 platform,
        bytes32 envelopeChecksum,
        bytes32 responseChecksum
    );

    /// @notice Emitted when a bill arrives from another platform (a new record, or one this registry
    /// exported before, re-activated).
    /// @param eblId The eBL id.
    /// @param holder The new holder organisation.
    /// @param carrier The issuing carrier organisation; zero for a foreign carrier.
    /// @param endorsee Straight: the consignee. To-order: the endorsee (zero when blank-endorsed).
    /// @param kind Straight or to-order.
    /// @param documentHash SHA-256 of the RFC 8785 canonical transport document.
    /// @param tdrHash keccak256 of the transport document reference.
    /// @param platform The sending platform's DCSA code.
    /// @param lastEntryChecksum SHA-256 of the envelope's last transfer-chain entry.
    /// @param returning True when the record existed (exported from here before).
    event TitleImported(
        uint256 indexed eblId,
        address indexed holder,
        address indexed carrier,
        address endorsee,
        DocumentKind kind,
        bytes32 documentHash,
        bytes32 tdrHash,
        bytes4 platform,
        bytes32 lastEntryChecksum,
        bool returning
    );

    /// @notice The holder sends the eBL to another platform (PINT): it is frozen in `ExportPending`
    /// until the registry bridge ends the export. Also a signed action (`StartExport`, with the platform
    /// code in `party`, see {BridgeInvalidPlatform}, and the envelope checksum in `data`).
    /// @dev Holder only, `Active` only; zero `platform` reverts with {BridgeInvalidPlatform}, a zero
    /// checksum with {ITitleRegistry-TitleZeroHash}.
    /// @param eblId The eBL id.
    /// @param platform The receiving platform's DCSA code (e.g. "WAVE"), left-aligned.
    /// @param envelopeChecksum SHA-256 of the envelope's last transfer-chain entry.
    function startExport(uint256 eblId, bytes4 platform, bytes32 envelopeChecksum) external;

    /// @notice The bridge ends an export the receiving platform accepted (RECE): the eBL becomes
    /// `Exported`, held on that platform; nothing can act on it here any more.
    /// @dev `CROSS_PLATFORM_ROLE` only; the eBL must be `ExportPending` ({ITitleRegistry-TitleWrongStatus}).
    /// @param eblId The eBL id.
    /// @param responseChecksum SHA-256 of the signed `EnvelopeTransferFinishedResponse`; not zero.
    function closeExport(uint256 eblId, bytes32 responseChecksum) external;

    /// @notice The bridge ends an export that did not go through (refused, or never delivered): the eBL
    /// is `Active` again with the same holder.
    /// @dev `CROSS_PLATFORM_ROLE` only; the eBL must be `ExportPending`.
    /// @param eblId The eBL id.
    /// @param responseChecksum SHA-256 of the signed refusal; zero when no response arrived.
    function cancelExport(uint256 eblId, bytes32 responseChecksum) external;

    /// @notice The bridge records a bill that arrived from another platform (after answering RECE).
    /// @dev `CROSS_PLATFORM_ROLE` only. A document hash this registry knows must name an `Exported`
    /// record, which is re-activated (same id, same carrier, next `seq`); any other status reverts with
    /// {ITitleRegistry-TitleWrongStatus}. A new bill's id is {ITitleRegistry-eblIdOf} for a member
    /// carrier, and keccak256(abi.encode(address(0), carrierRef, tdrHash)) for a foreign one (a bill of a
    /// foreign carrier cannot be surrendered here). Holder and endorsee must be active members.
    /// @param t The arriving bill.
    /// @return eblId The record now holding it.
    function importTitle(ImportedTitle calldata t) external returns (uint256 eblId);

    /// @notice Where an eBL was last sent: the platform and envelope checksum of its pending or closed
    /// export (zero when none, or after it came back or the export was cancelled).
    /// @param eblId The eBL id.
    /// @return platform The receiving platform's DCSA code.
    /// @return envelopeChecksum The envelope checksum of {ExportStarted}.
    function exportOf(uint256 eblId) external view returns (bytes4 platform, bytes32 envelopeChecksum);

    /// @notice The id a bill arriving from another platform gets here when it is new.
    /// @param carrier The member carrier (zero for a foreign one).
    /// @param carrierRef keccak256 of the foreign carrier's code and code list (ignored for a member).
    /// @param tdrHash keccak256 of the transport document reference.
    /// @return The eBL id.
    function importedEblIdOf(address carrier, bytes32 carrierRef, bytes32 tdrHash) external pure returns (uint256);
}
