// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ITitleRegistry} from "./interfaces/ITitleRegistry.sol";
import {Membership} from "./Membership.sol";
import {PlatformBridge} from "./abstract/PlatformBridge.sol";
import {SignedActions} from "./abstract/SignedActions.sol";
import {TitleTokenView} from "./abstract/TitleTokenView.sol";
import {
    Action,
    DocumentKind,
    ImportedTitle,
    Organisation,
    Role,
    Status,
    SurrenderReason,
    TitleAction,
    TitleFlags,
    TitleRecord,
    TitleView
} from "./lib/TitleTypes.sol";

/// @title eBL title registry
/// @notice One title record per electronic bill of lading. See {ITitleRegistry} for the rules.
/// @dev The title rules: the life-cycle state machine of a record. Signatures, nonces and batches are in
/// {SignedActions}, the read-only ERC-721 / ERC-5192 view in {TitleTokenView}, organisations and keys in
/// {Membership}, the bridge's entry points and the export record (PINT) in {PlatformBridge}.
/// Storage per eBL: one packed `TitleRecord` slot plus the document hash. Parties are stored as
/// organisation indexes; events carry organisation addresses so an indexer needs no extra calls.
/// Every write path resolves the acting key to its organisation first ({Membership-_actor}), so a
/// revoked key or a suspended organisation can never act, and title belongs to organisations, not keys.
contract TitleRegistry is ITitleRegistry, SignedActions, TitleTokenView, PlatformBridge {
    bytes32 private constant _SWITCH_TO_PAPER_CODE = "SWTP";

    mapping(uint256 eblId => TitleRecord record) private _records;
    mapping(uint256 eblId => bytes32 documentHash) private _documentHashes;
    mapping(uint256 eblId => uint256 predecessor) private _predecessors;
    mapping(uint256 eblId => bytes32 paperHash) private _paperHashes;
    /// @dev The one record each document hash ever named (issue or amend); never cleared (see
    /// {ITitleRegistry-eblIdOfDocument}).
    mapping(bytes32 documentHash => uint256 eblId) private _eblIdsByDocument;

    /// @param governance Receives the governance and pauser roles.
    /// @param bridge The registry's bridge key: receives `CROSS_PLATFORM_ROLE` (zero: none, ever).
    constructor(address governance, address bridge) Membership(governance) PlatformBridge(bridge) {}

    // ------------------------------------------------------------------ issuance

    /// @inheritdoc ITitleRegistry
    function issue(
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        DocumentKind kind
    ) external virtual returns (uint256 eblId) {
        return _issue(msg.sender, tdrHash, docHash, issueTo, endorsee, uint8(kind));
    }

    // ------------------------------------------------------------------ holder actions (sender-authorised)

    /// @inheritdoc ITitleRegistry
    function transferPossession(uint256 eblId, address to) external virtual {
        _transferPossession(msg.sender, eblId, to);
    }

    /// @inheritdoc ITitleRegistry
    function endorse(uint256 eblId, address endorsee) external virtual {
        _endorse(msg.sender, eblId, endorsee, Action.Endorse);
    }

    /// @inheritdoc ITitleRegistry
    function endorseToOrder(uint256 eblId, address endorsee) external virtual {
        _endorse(msg.sender, eblId, endorsee, Action.EndorseToOrder);
    }

    /// @inheritdoc ITitleRegistry
    function endorseInBlank(uint256 eblId) external virtual {
        _endorse(msg.sender, eblId, address(0), Action.BlankEndorse);
    }

    /// @inheritdoc ITitleRegistry
    function nominate(uint256 eblId, address nominee) external virtual {
        _nominate(msg.sender, eblId, nominee);
    }

    /// @inheritdoc ITitleRegistry
    function rejectTransfer(uint256 eblId) external virtual {
        _rejectTransfer(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function requestSurrenderForDelivery(uint256 eblId) external virtual {
        _requestSurrender(msg.sender, eblId, Action.SurrenderForDelivery, bytes32(0));
    }

    /// @inheritdoc ITitleRegistry
    function requestSurrenderForAmendment(uint256 eblId, bytes32 reasonCode) external virtual {
        _requestSurrender(msg.sender, eblId, Action.SurrenderForAmendment, reasonCode);
    }

    // ------------------------------------------------------------------ carrier actions (sender-authorised)

    /// @inheritdoc ITitleRegistry
    function acceptSurrender(uint256 eblId) external virtual {
        _acceptSurrender(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function rejectSurrender(uint256 eblId) external virtual {
        _rejectSurrender(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function voidEbl(uint256 eblId) external virtual {
        _void(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function amend(uint256 eblId, bytes32 docHash, address endorsee) external virtual returns (uint256 newEblId) {
        return _amend(msg.sender, eblId, docHash, endorsee);
    }

    /// @inheritdoc ITitleRegistry
    function switchToPaper(uint256 eblId, bytes32 paperHash) external virtual {
        _switchToPaper(msg.sender, eblId, paperHash);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc TitleTokenView
    function supportsInterface(
        bytes4 interfaceId
    ) public view virtual override(AccessControl, TitleTokenView) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ITitleRegistry
    function titleOf(uint256 eblId) external view virtual returns (TitleView memory v) {
        TitleRecord memory r = _existing(eblId);
        v.status = r.status;
        v.kind = r.kind;
        v.reason = r.reason;
        v.holder = _orgAt[r.holder];
        v.endorsee = _orgAt[r.endorsee];
        v.carrier = _orgAt[r.carrier];
        v.nominee = _orgAt[r.nominee];
        v.previousHolder = _orgAt[r.prevHolder];
        v.endorsable = r.flags & TitleFlags.ENDORSABLE != 0;
        v.blankEndorsed = r.flags & TitleFlags.BLANK != 0;
        v.amended = r.flags & TitleFlags.AMENDED != 0;
        v.rejectable = r.flags & TitleFlags.REJECTABLE != 0;
        v.seq = r.seq;
        v.documentHash = _documentHashes[eblId];
        v.predecessor = _predecessors[eblId];
        v.successor = _successorOf(eblId);
        v.paperDocumentHash = _paperHashes[eblId];
    }

    /// @inheritdoc ITitleRegistry
    function statusOf(uint256 eblId) external view virtual returns (Status) {
        return _records[eblId].status;
    }

    /// @inheritdoc ITitleRegistry
    function holderOf(uint256 eblId) external view virtual returns (address) {
        return _orgAt[_existing(eblId).holder];
    }

    /// @inheritdoc ITitleRegistry
    function endorseeOf(uint256 eblId) external view virtual returns (address) {
        return _orgAt[_existing(eblId).endorsee];
    }

    /// @inheritdoc ITitleRegistry
    function documentHashOf(uint256 eblId) external view virtual returns (bytes32) {
        _existing(eblId);
        return _documentHashes[eblId];
    }

    /// @inheritdoc ITitleRegistry
    function eblIdOfDocument(bytes32 docHash) external view virtual returns (uint256) {
        return _eblIdsByDocument[docHash];
    }

    /// @inheritdoc ITitleRegistry
    function eblIdOf(address carrier, bytes32 tdrHash) public pure virtual returns (uint256) {
        return uint256(keccak256(abi.encode(carrier, tdrHash)));
    }

    // ------------------------------------------------------------------ internal: signed action dispatch

    /**
     * @dev Maps a signed action code to its rule. The chain of comparisons relies on the order of the
     * {Action} enum in `lib/TitleTypes.sol`, which is also the signed wire format (`TitleAction.action`):
     *
     * - `Issue` is 0 and is not a title action (issuances are signed as `Issuance`);
     * - `Endorse`, `EndorseToOrder` and `BlankEndorse` directly follow `Transfer`, so `action <=
     *   Action.BlankEndorse` after the `Transfer` test selects exactly the three endorsements;
     * - `StartExport` is the last member a signature may carry, so the final `else` is `StartExport`;
     *   the members after it (`CloseExport`, `CancelExport`, `ImportTitle`) are the registry bridge's,
     *   which it calls directly ({PlatformBridge}), and are never signed actions.
     *
     * Solidity has no compile-time check on an enum's members, so `tests/contracts/test_action_enum.py`
     * pins these three facts against the source. Reordering or inserting members would change the
     * meaning of every signature already made and of every recorded `ActionRecorded.action`, so it is
     * never done: a new action is appended after the last member and given its own branch here (the
     * range test at its top then names the last signable member).
     */
    function _dispatch(address key, TitleAction calldata a) internal virtual override {
        uint8 code = a.action;
        if (code == uint8(Action.Issue) || code > uint8(Action.StartExport)) revert TitleInvalidAction(code);
        Action action = Action(code);
        if (action == Action.Transfer) {
            _transferPossession(key, a.eblId, a.party);
        } else if (action <= Action.BlankEndorse) {
            _endorse(key, a.eblId, a.party, action);
        } else if (action == Action.Nominate) {
            _nominate(key, a.eblId, a.party);
        } else if (action == Action.Reject) {
            _rejectTransfer(key, a.eblId);
        } else if (action == Action.SurrenderForDelivery) {
            _requestSurrender(key, a.eblId, action, bytes32(0));
        } else if (action == Action.SurrenderForAmendment) {
            _requestSurrender(key, a.eblId, action, a.data);
        } else if (action == Action.AcceptSurrender) {
            _acceptSurrender(key, a.eblId);
        } else if (action == Action.RejectSurrender) {
            _rejectSurrender(key, a.eblId);
        } else if (action == Action.Void) {
            _void(key, a.eblId);
        } else if (action == Action.Amend) {
            _amend(key, a.eblId, a.data, a.party);
        } else if (action == Action.SwitchToPaper) {
            _switchToPaper(key, a.eblId, a.data);
        } else if (action == Action.AddKey) {
            _addOwnKey(key, a.party);
        } else if (action == Action.RevokeKey) {
            _revokeOwnKey(key, a.party);
        } else {
            _startExport(key, a.eblId, _platformOf(a.party), a.data);
        }
    }

    // ------------------------------------------------------------------ internal: title rules

    function _issue(
        address key,
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        uint8 kind
    ) internal virtual override returns (uint256 eblId) {
        _requireNotPaused();
        (address carrier, Organisation storage c) = _actor(key);
        if (c.role != Role.Carrier) revert MembershipRoleRequired(carrier, Role.Carrier);
        if (docHash == bytes32(0)) revert TitleZeroHash();
        if (kind > uint8(DocumentKind.ToOrder)) revert TitleInvalidKind(kind);
        eblId = eblIdOf(carrier, tdrHash);
        if (_records[eblId].status != Status.None) revert TitleAlreadyIssued(eblId);
        _claimDocument(docHash, eblId);

        Organisation storage h = _activeMember(issueTo);
        uint32 endorseeIndex;
        uint8 flags;
        if (kind == uint8(DocumentKind.Straight)) {
            if (endorsee == address(0)) revert TitleInvalidCounterparty(eblId, endorsee);
            endorseeIndex = _activeMember(endorsee).index;
        } else {
            if (endorsee == address(0)) endorsee = issueTo;
            endorseeIndex = endorsee == issueTo ? h.index : _activeMember(endorsee).index;
            flags = TitleFlags.ENDORSABLE;
        }
        _records[eblId] = TitleRecord({
            holder: h.index,
            endorsee: endorseeIndex,
            carrier: c.index,
            nominee: 0,
            prevHolder: 0,
            status: Status.Active,
            kind: DocumentKind(kind),
            reason: SurrenderReason.None,
            flags: flags,
            seq: 0
        });
        _documentHashes[eblId] = docHash;
        _mintHolding(issueTo, h, eblId);
        emit Issued(eblId, carrier, issueTo, endorsee, DocumentKind(kind), docHash, tdrHash, 0, key);
    }

    function _transferPossession(address key, uint256 eblId, address to) internal virtual {
        (address org, Organisation storage o, TitleRecord memory r) = _holderAction(key, eblId);
        Organisation storage t = _activeMember(to);
        if (t.index == r.holder) revert TitleInvalidCounterparty(eblId, to);
        if (r.kind == DocumentKind.Straight && t.index != r.endorsee) revert TitleStraightBillRecipient(eblId, to);
        r.prevHolder = r.holder;
        r.holder = t.index;
        r.nominee = 0;
        r.flags |= TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        _moveHolding(org, o, to, t, eblId);
        emit ActionRecorded(eblId, Action.Transfer, org, to, key, bytes32(0), seq);
    }

    function _endorse(address key, uint256 eblId, address endorsee, Action mode) internal virtual {
        (address org, , TitleRecord memory r) = _holderAction(key, eblId);
        if (r.kind != DocumentKind.ToOrder) revert TitleNotEndorsable(eblId);
        uint32 newIndex;
        if (mode == Action.BlankEndorse) {
            endorsee = address(0);
        } else {
            newIndex = _activeMember(endorsee).index;
            if (newIndex == r.endorsee) revert TitleInvalidCounterparty(eblId, endorsee);
        }
        if (_entitled(r)) {
            if (r.flags & TitleFlags.ENDORSABLE == 0) revert TitleNotEndorsable(eblId);
        } else if (r.nominee == 0 || newIndex != r.nominee) {
            revert TitleNotEntitled(eblId, org);
        }
        r.endorsee = newIndex;
        if (mode == Action.BlankEndorse) {
            r.flags |= TitleFlags.BLANK | TitleFlags.ENDORSABLE;
        } else if (mode == Action.EndorseToOrder) {
            r.flags = (r.flags & ~TitleFlags.BLANK) | TitleFlags.ENDORSABLE;
        } else {
            r.flags &= ~(TitleFlags.BLANK | TitleFlags.ENDORSABLE);
        }
        r.flags &= ~TitleFlags.REJECTABLE;
        r.nominee = 0;
        uint32 seq = _commit(eblId, r);
        emit ActionRecorded(eblId, mode, org, endorsee, key, bytes32(0), seq);
    }

    function _nominate(address key, uint256 eblId, address nominee) internal virtual {
        _requireNotPaused();
        (address org, Organisation storage o) = _actor(key);
        TitleRecord memory r = _live(eblId);
        if (r.kind != DocumentKind.ToOrder || r.flags & TitleFlags.ENDORSABLE == 0 || r.flags & TitleFlags.BLANK != 0) {
            revert TitleNotEndorsable(eblId);
        }
        if (r.endorsee != o.index) revert TitleNotEndorsee(eblId, org);
        r.nominee = nominee == address(0) ? 0 : _activeMember(nominee).index;
        if (r.holder == o.index) r.flags &= ~TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        emit ActionRecorded(eblId, Action.Nominate, org, nominee, key, bytes32(0), seq);
    }

    function _rejectTransfer(address key, uint256 eblId) internal virtual {
        (address org, Organisation storage o, TitleRecord memory r) = _holderAction(key, eblId);
        if (r.flags & TitleFlags.REJECTABLE == 0) revert TitleNothingToReject(eblId);
        address sender = _orgAt[r.prevHolder];
        Organisation storage back = _activeMember(sender);
        r.holder = r.prevHolder;
        r.prevHolder = o.index;
        r.nominee = 0;
        r.flags &= ~TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        _moveHolding(org, o, sender, back, eblId);
        emit ActionRecorded(eblId, Action.Reject, org, sender, key, bytes32(0), seq);
    }

    function _requestSurrender(address key, uint256 eblId, Action action, bytes32 reasonCode) internal virtual {
        (address org, Organisation storage o, TitleRecord memory r) = _holderAction(key, eblId);
        if (action == Action.SurrenderForDelivery) {
            if (!_entitled(r)) revert TitleNotEntitled(eblId, org);
            r.reason = SurrenderReason.Delivery;
        } else {
            r.reason = reasonCode == _SWITCH_TO_PAPER_CODE
                ? SurrenderReason.SwitchToPaper
                : SurrenderReason.Amendment;
        }
        address carrier = _orgAt[r.carrier];
        Organisation storage c = _activeMember(carrier);
        r.prevHolder = r.holder;
        r.holder = r.carrier;
        r.status = Status.SurrenderRequested;
        r.nominee = 0;
        r.flags &= ~TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        if (r.prevHolder != r.carrier) _moveHolding(org, o, carrier, c, eblId);
        emit ActionRecorded(eblId, action, org, carrier, key, reasonCode, seq);
    }

    function _acceptSurrender(address key, uint256 eblId) internal virtual {
        (address carrier, Organisation storage c, TitleRecord memory r) = _carrierAction(
            key,
            eblId,
            Status.SurrenderRequested
        );
        if (r.reason != SurrenderReason.Delivery) {
            r.status = Status.SurrenderedForAmendment;
        } else {
            r.status = Status.Surrendered;
            _burnHolding(carrier, c, eblId);
        }
        uint32 seq = _commit(eblId, r);
        emit ActionRecorded(eblId, Action.AcceptSurrender, carrier, _orgAt[r.prevHolder], key, bytes32(0), seq);
    }

    function _rejectSurrender(address key, uint256 eblId) internal virtual {
        (address carrier, Organisation storage c, TitleRecord memory r) = _carrierAction(
            key,
            eblId,
            Status.SurrenderRequested
        );
        address requester = _orgAt[r.prevHolder];
        Organisation storage q = _activeMember(requester);
        r.holder = r.prevHolder;
        r.prevHolder = r.carrier;
        r.status = Status.Active;
        r.reason = SurrenderReason.None;
        uint32 seq = _commit(eblId, r);
        if (r.holder != r.carrier) _moveHolding(carrier, c, requester, q, eblId);
        emit ActionRecorded(eblId, Action.RejectSurrender, carrier, requester, key, bytes32(0), seq);
    }

    function _void(address key, uint256 eblId) internal virtual {
        (address carrier, , , uint32 seq) = _endAmendmentSurrender(
            key,
            eblId,
            SurrenderReason.Amendment,
            Status.Voided
        );
        emit ActionRecorded(eblId, Action.Void, carrier, address(0), key, bytes32(0), seq);
    }

    function _amend(address key, uint256 eblId, bytes32 docHash, address endorsee) internal virtual returns (uint256 newId) {
        if (docHash == bytes32(0)) revert TitleZeroHash();
        (address carrier, , TitleRecord memory r, uint32 seq) = _endAmendmentSurrender(
            key,
            eblId,
            SurrenderReason.Amendment,
            Status.Voided
        );
        newId = uint256(keccak256(abi.encode(eblId)));
        // The successor slot is empty: the predecessor was SurrenderedForAmendment until just now and
        // nothing else writes keccak256(abi.encode(eblId)) (an issued id hashes 64 bytes, not 32), so a
        // record is amended at most once. An invariant, not an input check: a Panic if it ever broke.
        assert(_predecessors[newId] == 0);
        _claimDocument(docHash, newId);

        TitleRecord memory n;
        n.holder = r.prevHolder;
        n.carrier = r.carrier;
        n.status = Status.Active;
        n.kind = r.kind;
        if (endorsee == address(0)) {
            // The kept consignee / endorsee must still be able to receive title.
            if (r.endorsee != 0) _activeMember(_orgAt[r.endorsee]);
            n.endorsee = r.endorsee;
            n.flags = (r.flags & (TitleFlags.ENDORSABLE | TitleFlags.BLANK)) | TitleFlags.AMENDED;
        } else {
            n.endorsee = _activeMember(endorsee).index;
            n.flags = r.kind == DocumentKind.ToOrder ? TitleFlags.ENDORSABLE | TitleFlags.AMENDED : TitleFlags.AMENDED;
        }
        _records[newId] = n;
        _documentHashes[newId] = docHash;
        _predecessors[newId] = eblId;

        address holder = _orgAt[n.holder];
        emit ActionRecorded(eblId, Action.Amend, carrier, holder, key, bytes32(newId), seq);
        _mintHolding(holder, _activeMember(holder), newId);
        emit Issued(newId, carrier, holder, _orgAt[n.endorsee], n.kind, docHash, bytes32(0), eblId, key);
    }

    function _switchToPaper(address key, uint256 eblId, bytes32 paperHash) internal virtual {
        if (paperHash == bytes32(0)) revert TitleZeroHash();
        (address carrier, , TitleRecord memory r, uint32 seq) = _endAmendmentSurrender(
            key,
            eblId,
            SurrenderReason.SwitchToPaper,
            Status.SwitchedToPaper
        );
        _paperHashes[eblId] = paperHash;
        emit ActionRecorded(eblId, Action.SwitchToPaper, carrier, _orgAt[r.prevHolder], key, paperHash, seq);
    }

    // ------------------------------------------------------------------ internal: other platforms (PINT)

    /// @dev The holder sends the eBL to another platform: frozen until the bridge ends the export.
    function _startExport(
        address key,
        uint256 eblId,
        bytes4 platform,
        bytes32 envelopeChecksum
    ) internal virtual override {
        if (envelopeChecksum == bytes32(0)) revert TitleZeroHash();
        (address org, , TitleRecord memory r) = _holderAction(key, eblId);
        r.status = Status.ExportPending;
        r.nominee = 0;
        r.flags &= ~TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        _recordExport(eblId, platform, envelopeChecksum);
        emit ActionRecorded(eblId, Action.StartExport, org, address(0), key, envelopeChecksum, seq);
        emit ExportStarted(eblId, org, platform, envelopeChecksum);
    }

    /// @dev The bridge's answer to a pending export. Accepted: the holding ends here (Exported, terminal
    /// until the bill comes back). Refused: Active again, with the same holder, endorsee and flags.
    /// The acting organisation of the recorded action is zero: the bridge acts for no organisation.
    function _endExport(uint256 eblId, bool accepted, bytes32 responseChecksum) internal virtual override {
        _requireNotPaused();
        if (accepted && responseChecksum == bytes32(0)) revert TitleZeroHash();
        TitleRecord memory r = _existing(eblId);
        if (r.status != Status.ExportPending) revert TitleWrongStatus(eblId, r.status);
        (bytes4 platform, bytes32 envelope) = _takeExport(eblId, !accepted);
        address holder = _orgAt[r.holder];
        r.status = accepted ? Status.Exported : Status.Active;
        uint32 seq = _commit(eblId, r);
        if (accepted) _burnHolding(holder, _orgs[holder], eblId);
        Action action = accepted ? Action.CloseExport : Action.CancelExport;
        emit ActionRecorded(eblId, action, address(0), holder, msg.sender, responseChecksum, seq);
        emit ExportClosed(eblId, accepted, platform, envelope, responseChecksum);
    }

    /// @dev A bill arriving from another platform. Its document hash is its identity: a hash this
    /// registry knows names the record it left as, which must be Exported and is re-activated (its
    /// carrier, kind, document and amendment link kept); otherwise a new record is written, issued-like.
    function _import(ImportedTitle calldata t) internal virtual override returns (uint256 eblId) {
        _requireNotPaused();
        if (t.documentHash == bytes32(0) || t.lastEntryChecksum == bytes32(0)) revert TitleZeroHash();
        if (t.platform == bytes4(0)) revert BridgeInvalidPlatform(address(0));
        Organisation storage h = _activeMember(t.holder);
        eblId = _eblIdsByDocument[t.documentHash];
        bool returning = eblId != 0;
        TitleRecord memory r;
        if (returning) {
            r = _records[eblId];
            if (r.status != Status.Exported) revert TitleWrongStatus(eblId, r.status);
            _takeExport(eblId, true);
        } else {
            if (t.carrier != address(0)) {
                Organisation storage c = _registered(t.carrier);
                if (c.role != Role.Carrier) revert MembershipRoleRequired(t.carrier, Role.Carrier);
                r.carrier = c.index;
            }
            eblId = importedEblIdOf(t.carrier, t.carrierRef, t.tdrHash);
            if (_records[eblId].status != Status.None) revert TitleAlreadyIssued(eblId);
            _claimDocument(t.documentHash, eblId);
            _documentHashes[eblId] = t.documentHash;
            r.kind = t.kind;
        }
        address endorsee = t.endorsee;
        uint8 flags = r.flags & TitleFlags.AMENDED;
        if (r.kind == DocumentKind.ToOrder && t.blankEndorsed) {
            endorsee = address(0);
            r.endorsee = 0;
            flags |= TitleFlags.BLANK | TitleFlags.ENDORSABLE;
        } else {
            if (endorsee == address(0)) revert TitleInvalidCounterparty(eblId, endorsee);
            r.endorsee = endorsee == t.holder ? h.index : _activeMember(endorsee).index;
            if (r.kind == DocumentKind.ToOrder && t.endorsable) flags |= TitleFlags.ENDORSABLE;
        }
        r.holder = h.index;
        r.prevHolder = 0;
        r.nominee = 0;
        r.status = Status.Active;
        r.reason = SurrenderReason.None;
        r.flags = flags;
        uint32 seq = 0;
        if (returning) {
            seq = _commit(eblId, r);
        } else {
            _records[eblId] = r;
        }
        _mintHolding(t.holder, h, eblId);
        emit TitleImported(
            eblId,
            t.holder,
            _orgAt[r.carrier],
            endorsee,
            r.kind,
            t.documentHash,
            t.tdrHash,
            t.platform,
            t.lastEntryChecksum,
            returning
        );
        emit ActionRecorded(eblId, Action.ImportTitle, address(0), t.holder, msg.sender, t.lastEntryChecksum, seq);
    }

    /// @dev Ends an eBL the issuing carrier holds after accepting a surrender for amendment: checks the
    /// carrier, the status and the surrender `reason`, moves it to the terminal `status` and burns it.
    function _endAmendmentSurrender(
        address key,
        uint256 eblId,
        SurrenderReason reason,
        Status status
    ) private returns (address carrier, Organisation storage c, TitleRecord memory r, uint32 seq) {
        (carrier, c, r) = _carrierAction(key, eblId, Status.SurrenderedForAmendment);
        if (r.reason != reason) revert TitleWrongSurrenderReason(eblId);
        r.status = status;
        seq = _commit(eblId, r);
        _burnHolding(carrier, c, eblId);
    }

    // ------------------------------------------------------------------ internal: helpers

    /// @dev Binds a document hash to the record it is issued as, for good: a hash already bound to
    /// any record, live or terminal, of any carrier, reverts with {TitleDuplicateDocument}.
    function _claimDocument(bytes32 docHash, uint256 eblId) private {
        uint256 existing = _eblIdsByDocument[docHash];
        if (existing != 0) revert TitleDuplicateDocument(docHash, existing);
        _eblIdsByDocument[docHash] = eblId;
    }

    /// @dev Acting key → organisation, which must hold the live eBL.
    function _holderAction(
        address key,
        uint256 eblId
    ) private view returns (address org, Organisation storage o, TitleRecord memory r) {
        _requireNotPaused();
        (org, o) = _actor(key);
        r = _live(eblId);
        if (r.holder != o.index) revert TitleNotHolder(eblId, org);
    }

    /// @dev Acting key → organisation, which must be the issuing carrier; the eBL must be in `required`.
    function _carrierAction(
        address key,
        uint256 eblId,
        Status required
    ) private view returns (address org, Organisation storage o, TitleRecord memory r) {
        _requireNotPaused();
        (org, o) = _actor(key);
        r = _existing(eblId);
        if (r.status != required) revert TitleWrongStatus(eblId, r.status);
        if (r.carrier != o.index) revert TitleNotIssuingCarrier(eblId, org);
    }

    /// @dev The holder of a live eBL, for the ERC-721 view ({TitleTokenView-_requireOwned}).
    function _requireOwned(uint256 tokenId) internal view virtual override returns (address) {
        TitleRecord memory r = _existing(tokenId);
        if (_isTerminal(r.status)) revert TitleWrongStatus(tokenId, r.status);
        return _orgAt[r.holder];
    }

    function _live(uint256 eblId) private view returns (TitleRecord memory r) {
        r = _existing(eblId);
        if (r.status != Status.Active) revert TitleWrongStatus(eblId, r.status);
    }

    function _existing(uint256 eblId) private view returns (TitleRecord memory r) {
        r = _records[eblId];
        if (r.status == Status.None) revert TitleUnknownEbl(eblId);
    }

    /// @dev Bumps the action sequence and writes the record back in one slot write.
    function _commit(uint256 eblId, TitleRecord memory r) private returns (uint32 seq) {
        seq = ++r.seq;
        _records[eblId] = r;
    }

    /// @dev The holder may deal with title: it is the consignee / endorsee, or the bill is blank-endorsed.
    function _entitled(TitleRecord memory r) private pure returns (bool) {
        return r.flags & TitleFlags.BLANK != 0 || r.endorsee == r.holder;
    }

    function _successorOf(uint256 eblId) private view returns (uint256) {
        uint256 candidate = uint256(keccak256(abi.encode(eblId)));
        return _predecessors[candidate] == eblId && _records[candidate].status != Status.None ? candidate : 0;
    }

    function _isTerminal(Status s) private pure returns (bool) {
        return s == Status.Surrendered || s == Status.Voided || s == Status.SwitchedToPaper || s == Status.Exported;
    }
}
