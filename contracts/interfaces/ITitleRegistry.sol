// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    Action,
    DocumentKind,
    Issuance,
    SignedAction,
    SignedIssuance,
    Status,
    TitleAction,
    TitleView
} from "../lib/TitleTypes.sol";

/// @title eBL title registry
/// @notice One title record per electronic bill of lading (DCSA eBL 3.0, MLETR). The record holds only
/// hashes and organisation ids: the document's SHA-256 (RFC 8785, PINT's transportDocumentChecksum),
/// the issuing carrier, the holder (possession / control) and the endorsee (title of a to-order bill).
///
/// Every holder action is authorised by a key of the acting organisation, either as the transaction
/// sender or through an EIP-712 signature (domain "EblTitleRegistry" v1, chain id and this contract;
/// unordered per-signer nonces; deadlines) that any relayer may submit, alone or in a batch.
/// Governance can pause and manage membership but has no function that moves, voids or surrenders title.
///
/// One record per document (MLETR art. 10, one authoritative record): a document hash names at most
/// one title record, ever. Issuing (`issue`, `issueSigned`, each `issueBatch` entry) or amending to a
/// document whose hash any record already carries, of any carrier and in any status, reverts with
/// {TitleDuplicateDocument}. Nothing frees a hash again: a terminal record (surrendered, voided,
/// amended, switched to paper) keeps its document for good, because the document it was issued as
/// stays identified by its hash; an amendment is a new document with a new hash, and a return to
/// electronic form after a switch to paper carries a change-of-medium statement, so it hashes anew.
interface ITitleRegistry {
    /// @notice Thrown when an eBL id has no title record.
    /// @param eblId The eBL id.
    error TitleUnknownEbl(uint256 eblId);

    /// @notice Thrown when the same carrier issues the same transport document reference twice.
    /// @param eblId The id that already exists.
    error TitleAlreadyIssued(uint256 eblId);

    /// @notice Thrown when a document is issued, or an eBL amended to a document, whose hash another
    /// title record already carries (any carrier, any status, terminal ones included): one record per
    /// document, and a hash is never freed again.
    /// @param docHash The document hash.
    /// @param existingEblId The record that carries it ({eblIdOfDocument}).
    error TitleDuplicateDocument(bytes32 docHash, uint256 existingEblId);

    /// @notice Thrown when an action is not allowed in the eBL's current status (terminal states included).
    /// @param eblId The eBL id.
    /// @param status Its current status.
    error TitleWrongStatus(uint256 eblId, Status status);

    /// @notice Thrown when an organisation other than the holder tries a holder action.
    /// @param eblId The eBL id.
    /// @param org The acting organisation.
    error TitleNotHolder(uint256 eblId, address org);

    /// @notice Thrown when an organisation other than the issuing carrier tries a carrier action.
    /// @param eblId The eBL id.
    /// @param org The acting organisation.
    error TitleNotIssuingCarrier(uint256 eblId, address org);

    /// @notice Thrown when the holder is not entitled to the action: it is neither the consignee /
    /// endorsee nor holding a blank-endorsed bill (and no matching nomination exists).
    /// @param eblId The eBL id.
    /// @param org The holder.
    error TitleNotEntitled(uint256 eblId, address org);

    /// @notice Thrown when a straight bill is endorsed, or endorsed further after a plain ENDORSE.
    /// @param eblId The eBL id.
    error TitleNotEndorsable(uint256 eblId);

    /// @notice Thrown when a straight bill is sent to anyone but its named consignee.
    /// @param eblId The eBL id.
    /// @param to The refused recipient.
    error TitleStraightBillRecipient(uint256 eblId, address to);

    /// @notice Thrown when the counterparty of an action is not acceptable (e.g. the holder itself).
    /// @param eblId The eBL id.
    /// @param party The refused counterparty.
    error TitleInvalidCounterparty(uint256 eblId, address party);

    /// @notice Thrown when someone other than the current endorsee nominates the next endorsee.
    /// @param eblId The eBL id.
    /// @param org The acting organisation.
    error TitleNotEndorsee(uint256 eblId, address org);

    /// @notice Thrown when the holder rejects but did not receive possession by the last action.
    /// @param eblId The eBL id.
    error TitleNothingToReject(uint256 eblId);

    /// @notice Thrown when a carrier action does not match the reason the surrender was requested for.
    /// @param eblId The eBL id.
    error TitleWrongSurrenderReason(uint256 eblId);

    /// @notice Thrown when a document or paper hash is zero.
    error TitleZeroHash();

    /// @notice Thrown when a signed action carries an action code it cannot be used for.
    /// @param action The action code.
    error TitleInvalidAction(uint8 action);

    /// @notice Thrown when an issuance names a document kind that does not exist.
    /// @param kind The kind code.
    error TitleInvalidKind(uint8 kind);

    /// @notice Thrown when a signed action or issuance is submitted after its deadline.
    /// @param deadline The signed deadline (unix seconds).
    error TitleExpiredSignature(uint256 deadline);

    /// @notice Thrown when a signature does not verify for the claimed signer. A contract signer is asked
    /// through ERC-1271 only when it is an active key of an active member; any other contract is refused
    /// with this error without being called.
    /// @param signer The claimed signer.
    error TitleInvalidSignature(address signer);

    /// @notice Thrown when a signer's nonce has already been used or invalidated.
    /// @param signer The signer.
    /// @param nonce The nonce.
    error TitleNonceUsed(address signer, uint256 nonce);

    /// @notice Thrown when the batch self-call entry point is called from outside.
    error TitleOnlySelf();

    /// @notice Thrown by the ERC-721 approval and transfer functions: title moves only by title actions.
    error TitleERC721Disabled();

    /// @notice Emitted when an eBL is issued (also for an amended reissue, with its predecessor).
    /// @param eblId The new eBL id.
    /// @param carrier The issuing carrier organisation.
    /// @param holder The "issue to" party, first holder.
    /// @param endorsee Straight: the consignee. To-order: the first endorsee.
    /// @param kind Straight or to-order.
    /// @param documentHash SHA-256 of the RFC 8785 canonical transport document.
    /// @param tdrHash keccak256 of the transport document reference (zero for an amended reissue).
    /// @param predecessor The voided eBL this one amends (zero for an original issuance).
    /// @param actorKey The carrier key that authorised the issuance.
    event Issued(
        uint256 indexed eblId,
        address indexed carrier,
        address indexed holder,
        address endorsee,
        DocumentKind kind,
        bytes32 documentHash,
        bytes32 tdrHash,
        uint256 predecessor,
        address actorKey
    );

    /// @notice Emitted for every title action after issuance (transfer, endorse, nominate, reject,
    /// surrender requests, SACC, SREJ, void, amend, switch to paper).
    /// @param eblId The eBL id.
    /// @param action The action.
    /// @param actor The acting organisation.
    /// @param counterparty The recipient, endorsee, nominee or requester (zero when none, e.g. blank endorsement).
    /// @param actorKey The key that authorised the action.
    /// @param data Surrender reason code, paper document hash or the amended eBL id; zero otherwise.
    /// @param seq The eBL's action sequence number after this action.
    event ActionRecorded(
        uint256 indexed eblId,
        Action indexed action,
        address indexed actor,
        address counterparty,
        address actorKey,
        bytes32 data,
        uint32 seq
    );

    /// @notice Emitted when one entry of a batch failed and was skipped; the rest of the batch stands.
    /// @param index Position of the entry in the batch.
    /// @param signer The entry's claimed signer.
    /// @param nonce The entry's nonce (still unused, so the entry can be corrected and resubmitted).
    /// @param reason The revert data of the entry (a custom error of this registry).
    event BatchEntryFailed(uint256 indexed index, address indexed signer, uint256 nonce, bytes reason);

    /// @notice Emitted when a signer cancels one of its nonces.
    /// @param signer The signer.
    /// @param nonce The cancelled nonce.
    event NonceInvalidated(address indexed signer, uint256 nonce);

    /// @notice Issues an eBL as the carrier key sending the transaction.
    /// @dev The id is keccak256(abi.encode(carrier organisation, tdrHash)), so a carrier can never issue
    /// the same transport document reference twice ({TitleAlreadyIssued}); a document hash that any
    /// record already carries reverts with {TitleDuplicateDocument}.
    /// @param tdrHash keccak256 of the transport document reference.
    /// @param docHash SHA-256 of the RFC 8785 canonical transport document.
    /// @param issueTo The "issue to" party, first holder; a member.
    /// @param endorsee Straight: the named consignee (required). To-order: first endorsee (zero: `issueTo`).
    /// @param kind Straight or to-order.
    /// @return eblId The new eBL id.
    function issue(
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        DocumentKind kind
    ) external returns (uint256 eblId);

    /// @notice Issues an eBL authorised by a carrier key's EIP-712 `Issuance` signature.
    /// @param signed The issuance, signer and signature.
    /// @return eblId The new eBL id.
    function issueSigned(SignedIssuance calldata signed) external returns (uint256 eblId);

    /// @notice Issues many signed eBLs; a failing entry is skipped with {BatchEntryFailed}.
    /// @dev Each entry runs with at most 300,000 gas (see {SignedActions-_BATCH_ENTRY_GAS}).
    /// @param batch The signed issuances.
    /// @return succeeded Number of entries that took effect.
    function issueBatch(SignedIssuance[] calldata batch) external returns (uint256 succeeded);

    /// @notice Entry point the registry calls on itself for each batch entry, so that a failing entry
    /// rolls back alone. Reverts with {TitleOnlySelf} for any other caller.
    /// @param signed The signed issuance.
    /// @return eblId The new eBL id.
    function issueFromBatch(SignedIssuance calldata signed) external returns (uint256 eblId);

    /// @notice Transfers possession (TRANSFER). Holder only; a straight bill only to its consignee.
    /// Possession never moves to a suspended organisation, by this or any other action.
    /// @param eblId The eBL id.
    /// @param to The receiving member organisation.
    function transferPossession(uint256 eblId, address to) external;

    /// @notice Endorses a to-order bill to a named endorsee who may NOT endorse further (ENDORSE).
    /// @param eblId The eBL id.
    /// @param endorsee The new endorsee.
    function endorse(uint256 eblId, address endorsee) external;

    /// @notice Endorses a to-order bill to the order of a named endorsee, who may endorse further
    /// (ENDORSE_TO_ORDER).
    /// @param eblId The eBL id.
    /// @param endorsee The new endorsee.
    function endorseToOrder(uint256 eblId, address endorsee) external;

    /// @notice Endorses a to-order bill in blank: it becomes a bearer bill (BLANK_ENDORSE).
    /// @param eblId The eBL id.
    function endorseInBlank(uint256 eblId) external;

    /// @notice The endorsee, while another party holds the bill (e.g. a pledgee bank), nominates the
    /// next endorsee; the holder may then endorse to that nominee. Zero cancels the nomination.
    /// @param eblId The eBL id.
    /// @param nominee The nominated next endorsee.
    function nominate(uint256 eblId, address nominee) external;

    /// @notice The holder rejects the possession it has just received; it returns to the sender.
    /// @param eblId The eBL id.
    function rejectTransfer(uint256 eblId) external;

    /// @notice Requests surrender for delivery to the issuing carrier. Entitled holder only.
    /// @param eblId The eBL id.
    function requestSurrenderForDelivery(uint256 eblId) external;

    /// @notice Requests surrender for amendment to the issuing carrier. Holder only.
    /// @param eblId The eBL id.
    /// @param reasonCode DCSA reason code as bytes32 text: "SWTP" (switch to paper), "COD", "SWI" or zero.
    function requestSurrenderForAmendment(uint256 eblId, bytes32 reasonCode) external;

    /// @notice The issuing carrier accepts a surrender request (SACC). Delivery ends the record.
    /// @param eblId The eBL id.
    function acceptSurrender(uint256 eblId) external;

    /// @notice The issuing carrier rejects a surrender request (SREJ); possession returns to the requester.
    /// @param eblId The eBL id.
    function rejectSurrender(uint256 eblId) external;

    /// @notice The issuing carrier voids an eBL surrendered for amendment, without reissue.
    /// @param eblId The eBL id.
    function voidEbl(uint256 eblId) external;

    /// @notice The issuing carrier voids an eBL surrendered for amendment and issues the amended
    /// document, linked to it, to the party that surrendered it.
    /// @param eblId The voided eBL id.
    /// @param docHash Hash of the amended transport document: a new document, so a hash any record
    /// already carries (the voided predecessor's included) reverts with {TitleDuplicateDocument}.
    /// @param endorsee New consignee / endorsee (zero keeps the predecessor's).
    /// @return newEblId The amended eBL id, keccak256(abi.encode(eblId)).
    function amend(uint256 eblId, bytes32 docHash, address endorsee) external returns (uint256 newEblId);

    /// @notice The issuing carrier ends an eBL surrendered with reason SWTP: it is replaced by paper.
    /// @param eblId The eBL id.
    /// @param paperHash Hash of the printed paper document, which carries the change-of-medium statement.
    function switchToPaper(uint256 eblId, bytes32 paperHash) external;

    /// @notice Executes one signed action; reverts if it fails.
    /// @param signed The action, signer and signature.
    function execute(SignedAction calldata signed) external;

    /// @notice Executes many signed actions in order; a failing entry is skipped with {BatchEntryFailed}
    /// and its state changes and nonce are rolled back. A bad entry can never authorise another.
    /// @dev Each entry runs with at most 300,000 gas (see {SignedActions-_BATCH_ENTRY_GAS}), so an entry
    /// whose ERC-1271 signer burns gas fails alone, with {TitleInvalidSignature}.
    /// @param batch The signed actions.
    /// @return succeeded Number of entries that took effect.
    function executeBatch(SignedAction[] calldata batch) external returns (uint256 succeeded);

    /// @notice Entry point the registry calls on itself for each batch entry. Reverts with
    /// {TitleOnlySelf} for any other caller.
    /// @param signed The signed action.
    function executeFromBatch(SignedAction calldata signed) external;

    /// @notice Cancels one of the caller's unused nonces, so a signature made with it can never be used.
    /// @param nonce The nonce.
    function invalidateNonce(uint256 nonce) external;

    /// @notice Whether a signer's nonce is used or invalidated.
    /// @param signer The signer.
    /// @param nonce The nonce.
    /// @return True if used.
    function nonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice The full title state of an eBL, parties as organisation addresses.
    /// @param eblId The eBL id.
    /// @return The title view; reverts for unknown ids.
    function titleOf(uint256 eblId) external view returns (TitleView memory);

    /// @notice The status of an eBL (None for unknown ids).
    /// @param eblId The eBL id.
    /// @return The status.
    function statusOf(uint256 eblId) external view returns (Status);

    /// @notice The organisation in possession of an eBL (its last holder once terminal).
    /// @param eblId The eBL id.
    /// @return The holder organisation.
    function holderOf(uint256 eblId) external view returns (address);

    /// @notice The consignee (straight) or current endorsee (to-order; zero when blank-endorsed).
    /// @param eblId The eBL id.
    /// @return The endorsee organisation.
    function endorseeOf(uint256 eblId) external view returns (address);

    /// @notice The document hash recorded at issuance; it never changes.
    /// @param eblId The eBL id.
    /// @return The SHA-256 document hash.
    function documentHashOf(uint256 eblId) external view returns (bytes32);

    /// @notice The record a document hash was issued as (by `issue`, a signed issuance or `amend`), in
    /// any status: what a verifier holding only the document looks up. A hash is bound to its record
    /// for good; it is never freed, so the answer never changes once nonzero.
    /// @param docHash SHA-256 of the RFC 8785 canonical transport document.
    /// @return The eBL id, or zero when no record carries this document.
    function eblIdOfDocument(bytes32 docHash) external view returns (uint256);

    /// @notice The eBL id a carrier's transport document reference maps to.
    /// @param carrier The carrier organisation.
    /// @param tdrHash keccak256 of the transport document reference.
    /// @return The eBL id.
    function eblIdOf(address carrier, bytes32 tdrHash) external pure returns (uint256);

    /// @notice The EIP-712 digest a key signs for a `TitleAction`.
    /// @param action The action.
    /// @return The digest.
    function digestTitleAction(TitleAction calldata action) external view returns (bytes32);

    /// @notice The EIP-712 digest a carrier key signs for an `Issuance`.
    /// @param issuance The issuance.
    /// @return The digest.
    function digestIssuance(Issuance calldata issuance) external view returns (bytes32);
}
