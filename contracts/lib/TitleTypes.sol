// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev Role of a member organisation. Only members can ever hold or be endorsed title.
enum Role {
    None,
    Carrier,
    Bank,
    Trader
}

/// @dev Standing of a member organisation. A suspended organisation can neither act nor receive title.
enum OrgStatus {
    None,
    Active,
    Suspended
}

/// @dev Standing of a signing key. Revoked keys are never reusable.
enum KeyStatus {
    None,
    Active,
    Revoked
}

/// @dev Negotiability of a bill: a straight bill goes only to its named consignee.
enum DocumentKind {
    Straight,
    ToOrder
}

/// @dev Life-cycle status of a title record. Surrendered, Voided and SwitchedToPaper are terminal.
/// ExportPending: the holder has sent the bill to another platform (PINT) and awaits its answer; the
/// record is frozen. Exported: the other platform accepted it (RECE), so it is held there, not here;
/// terminal here, until the same bill is imported back (the same record, re-activated).
/// Members are only ever appended: the values are stored and emitted.
enum Status {
    None,
    Active,
    SurrenderRequested,
    Surrendered,
    SurrenderedForAmendment,
    Voided,
    SwitchedToPaper,
    ExportPending,
    Exported
}

/// @dev Why a surrender was requested.
enum SurrenderReason {
    None,
    Delivery,
    Amendment,
    SwitchToPaper
}

/// @dev Every recorded action, in DCSA eBL 3.0 words (AcceptSurrender = SACC, RejectSurrender = SREJ).
/// StartExport is the holder's (signed like a transfer); CloseExport, CancelExport and ImportTitle are
/// the registry bridge's (CROSS_PLATFORM_ROLE, plain calls, never signed actions).
enum Action {
    Issue,
    Transfer,
    Endorse,
    EndorseToOrder,
    BlankEndorse,
    Nominate,
    Reject,
    SurrenderForDelivery,
    SurrenderForAmendment,
    AcceptSurrender,
    RejectSurrender,
    Void,
    Amend,
    SwitchToPaper,
    AddKey,
    RevokeKey,
    StartExport,
    CloseExport,
    CancelExport,
    ImportTitle
}

/// @dev A member organisation, packed in one storage slot.
/// @param index Dense 1-based index used inside title records (0 means none).
/// @param role What the organisation is.
/// @param status Active or suspended.
/// @param keyCount Number of active signing keys.
/// @param balance Number of live eBLs it holds (ERC-721 `balanceOf`).
struct Organisation {
    uint32 index;
    Role role;
    OrgStatus status;
    uint16 keyCount;
    uint64 balance;
}

/// @dev A signing key and the organisation it acts for.
struct KeyRecord {
    address org;
    KeyStatus status;
}

/// @dev One eBL title record, packed in exactly one storage slot. Parties are organisation indexes.
/// @param holder Organisation in possession (control, MLETR Art. 11).
/// @param endorsee Straight bill: the consignee. To-order bill: the current endorsee (0 when blank-endorsed).
/// @param carrier The issuing carrier.
/// @param nominee Next endorsee nominated by the endorsee while another party holds (0 when none).
/// @param prevHolder Holder before the last change of possession (for reject and surrender rejection).
/// @param status Life-cycle status.
/// @param kind Straight or to-order.
/// @param reason Reason of a pending or accepted surrender.
/// @param flags Bit field, see `TitleFlags`.
/// @param seq Number of actions recorded on this eBL so far (the issuance is action 0).
struct TitleRecord {
    uint32 holder;
    uint32 endorsee;
    uint32 carrier;
    uint32 nominee;
    uint32 prevHolder;
    Status status;
    DocumentKind kind;
    SurrenderReason reason;
    uint8 flags;
    uint32 seq;
}

/// @title TitleFlags
/// @notice Bits of `TitleRecord.flags`.
library TitleFlags {
    /// @dev The endorsee may endorse further (ENDORSE_TO_ORDER, or a bearer bill).
    uint8 internal constant ENDORSABLE = 1;
    /// @dev Endorsed in blank: whoever holds is entitled (bearer).
    uint8 internal constant BLANK = 2;
    /// @dev This eBL is the amended reissue of a voided predecessor.
    uint8 internal constant AMENDED = 4;
    /// @dev The holder received possession by the last action and may still reject it.
    uint8 internal constant REJECTABLE = 8;
}

/// @dev A holder, carrier or key action authorised by an EIP-712 signature.
/// Fields are the EIP-712 `TitleAction` struct. `action` is an `Action`; `party` the counterparty
/// (recipient, endorsee, nominee, new key ...); `data` a reason code, document hash or paper hash.
struct TitleAction {
    uint8 action;
    uint256 eblId;
    address party;
    bytes32 data;
    uint256 nonce;
    uint256 deadline;
}

/// @dev A `TitleAction` with the key that signed it.
struct SignedAction {
    TitleAction action;
    address signer;
    bytes signature;
}

/// @dev An issuance authorised by a carrier's EIP-712 signature (the EIP-712 `Issuance` struct).
struct Issuance {
    bytes32 tdrHash;
    bytes32 docHash;
    address issueTo;
    address endorsee;
    uint8 kind;
    uint256 nonce;
    uint256 deadline;
}

/// @dev An `Issuance` with the carrier key that signed it.
struct SignedIssuance {
    Issuance issuance;
    address signer;
    bytes signature;
}

/// @dev Read model of one title record, with parties resolved to organisation addresses.
struct TitleView {
    Status status;
    DocumentKind kind;
    SurrenderReason reason;
    address holder;
    address endorsee;
    address carrier;
    address nominee;
    address previousHolder;
    bool endorsable;
    bool blankEndorsed;
    bool amended;
    bool rejectable;
    uint32 seq;
    bytes32 documentHash;
    uint256 predecessor;
    uint256 successor;
    bytes32 paperDocumentHash;
}

/// @dev A bill arriving from another platform through PINT, as the registry bridge records it.
/// @param documentHash SHA-256 of the RFC 8785 canonical transport document (PINT's
/// `transportDocumentChecksum`): the bill's identity across platforms.
/// @param tdrHash keccak256 of the transport document reference.
/// @param carrier The issuing carrier if it is a member carrier here; zero for a foreign carrier.
/// @param carrierRef For a foreign carrier: keccak256 of its code and code list ("MSK@SMDG"); else zero.
/// @param holder The member the envelope's last transaction names as recipient: the new holder.
/// @param endorsee Straight: the consignee. To-order: the endorsee (zero when blank-endorsed).
/// @param kind Straight or to-order.
/// @param endorsable To-order: whether the endorsee may endorse further (false after a plain ENDORSE).
/// @param blankEndorsed Whether the to-order bill arrives endorsed in blank (then `endorsee` is ignored).
/// @param platform The sending platform's DCSA code (e.g. "WAVE"), left-aligned.
/// @param lastEntryChecksum SHA-256 of the envelope's last transfer-chain entry (the signed JWS).
struct ImportedTitle {
    bytes32 documentHash;
    bytes32 tdrHash;
    address carrier;
    bytes32 carrierRef;
    address holder;
    address endorsee;
    DocumentKind kind;
    bool endorsable;
    bool blankEndorsed;
    bytes4 platform;
    bytes32 lastEntryChecksum;
}
