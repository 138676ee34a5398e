// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {ITitleRegistry} from "./interfaces/ITitleRegistry.sol";
import {Membership} from "./Membership.sol";
import {
    Action,
    DocumentKind,
    Issuance,
    Organisation,
    Role,
    SignedAction,
    SignedIssuance,
    Status,
    SurrenderReason,
    TitleAction,
    TitleFlags,
    TitleRecord,
    TitleView
} from "./lib/TitleTypes.sol";

/// @title eBL title registry
/// @notice One title record per electronic bill of lading. See {ITitleRegistry} for the rules.
/// @dev Storage per eBL: one packed `TitleRecord` slot plus the document hash. Parties are stored as
/// organisation indexes; events carry organisation addresses so an indexer needs no extra calls.
/// Every write path resolves the acting key to its organisation first ({Membership-_actor}), so a
/// revoked key or a suspended organisation can never act, and title belongs to organisations, not keys.
contract TitleRegistry is IERC721, IERC5192, ITitleRegistry, Membership, EIP712 {
    bytes32 private constant _TITLE_ACTION_TYPEHASH = keccak256(
        "TitleAction(uint8 action,uint256 eblId,address party,bytes32 data,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _ISSUANCE_TYPEHASH = keccak256(
        "Issuance(bytes32 tdrHash,bytes32 docHash,address issueTo,address endorsee,uint8 kind,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _SWITCH_TO_PAPER_CODE = "SWTP";

    mapping(uint256 eblId => TitleRecord record) private _records;
    mapping(uint256 eblId => bytes32 documentHash) private _documentHashes;
    mapping(uint256 eblId => uint256 predecessor) private _predecessors;
    mapping(uint256 eblId => bytes32 paperHash) private _paperHashes;
    /// @dev The one record each document hash ever named (issue or amend); never cleared (see
    /// {ITitleRegistry-eblIdOfDocument}).
    mapping(bytes32 documentHash => uint256 eblId) private _eblIdsByDocument;
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonceBits;

    /// @param governance Receives the governance and pauser roles.
    constructor(address governance) Membership(governance) EIP712("EblTitleRegistry", "1") {}

    // ------------------------------------------------------------------ issuance

    /// @inheritdoc ITitleRegistry
    function issue(
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        DocumentKind kind
    ) external returns (uint256 eblId) {
        return _issue(msg.sender, tdrHash, docHash, issueTo, endorsee, uint8(kind));
    }

    /// @inheritdoc ITitleRegistry
    function issueSigned(SignedIssuance calldata signed) external returns (uint256 eblId) {
        return _issueSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function issueBatch(SignedIssuance[] calldata batch) external returns (uint256 succeeded) {
        for (uint256 i = 0; i < batch.length; ++i) {
            try this.issueFromBatch(batch[i]) {
                ++succeeded;
            } catch (bytes memory reason) {
                emit BatchEntryFailed(i, batch[i].signer, batch[i].issuance.nonce, reason);
            }
        }
    }

    /// @inheritdoc ITitleRegistry
    function issueFromBatch(SignedIssuance calldata signed) external returns (uint256 eblId) {
        if (msg.sender != address(this)) revert TitleOnlySelf();
        return _issueSigned(signed);
    }

    // ------------------------------------------------------------------ holder actions (sender-authorised)

    /// @inheritdoc ITitleRegistry
    function transferPossession(uint256 eblId, address to) external {
        _transferPossession(msg.sender, eblId, to);
    }

    /// @inheritdoc ITitleRegistry
    function endorse(uint256 eblId, address endorsee) external {
        _endorse(msg.sender, eblId, endorsee, Action.Endorse);
    }

    /// @inheritdoc ITitleRegistry
    function endorseToOrder(uint256 eblId, address endorsee) external {
        _endorse(msg.sender, eblId, endorsee, Action.EndorseToOrder);
    }

    /// @inheritdoc ITitleRegistry
    function endorseInBlank(uint256 eblId) external {
        _endorse(msg.sender, eblId, address(0), Action.BlankEndorse);
    }

    /// @inheritdoc ITitleRegistry
    function nominate(uint256 eblId, address nominee) external {
        _nominate(msg.sender, eblId, nominee);
    }

    /// @inheritdoc ITitleRegistry
    function rejectTransfer(uint256 eblId) external {
        _rejectTransfer(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function requestSurrenderForDelivery(uint256 eblId) external {
        _requestSurrender(msg.sender, eblId, Action.SurrenderForDelivery, bytes32(0));
    }

    /// @inheritdoc ITitleRegistry
    function requestSurrenderForAmendment(uint256 eblId, bytes32 reasonCode) external {
        _requestSurrender(msg.sender, eblId, Action.SurrenderForAmendment, reasonCode);
    }

    // ------------------------------------------------------------------ carrier actions (sender-authorised)

    /// @inheritdoc ITitleRegistry
    function acceptSurrender(uint256 eblId) external {
        _acceptSurrender(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function rejectSurrender(uint256 eblId) external {
        _rejectSurrender(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function voidEbl(uint256 eblId) external {
        _void(msg.sender, eblId);
    }

    /// @inheritdoc ITitleRegistry
    function amend(uint256 eblId, bytes32 docHash, address endorsee) external returns (uint256 newEblId) {
        return _amend(msg.sender, eblId, docHash, endorsee);
    }

    /// @inheritdoc ITitleRegistry
    function switchToPaper(uint256 eblId, bytes32 paperHash) external {
        _switchToPaper(msg.sender, eblId, paperHash);
    }

    // ------------------------------------------------------------------ signed actions

    /// @inheritdoc ITitleRegistry
    function execute(SignedAction calldata signed) external {
        _executeSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function executeBatch(SignedAction[] calldata batch) external returns (uint256 succeeded) {
        for (uint256 i = 0; i < batch.length; ++i) {
            try this.executeFromBatch(batch[i]) {
                ++succeeded;
            } catch (bytes memory reason) {
                emit BatchEntryFailed(i, batch[i].signer, batch[i].action.nonce, reason);
            }
        }
    }

    /// @inheritdoc ITitleRegistry
    function executeFromBatch(SignedAction calldata signed) external {
        if (msg.sender != address(this)) revert TitleOnlySelf();
        _executeSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function invalidateNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit NonceInvalidated(msg.sender, nonce);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITitleRegistry
    function nonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonceBits[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ITitleRegistry
    function titleOf(uint256 eblId) external view returns (TitleView memory v) {
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
    function statusOf(uint256 eblId) external view returns (Status) {
        return _records[eblId].status;
    }

    /// @inheritdoc ITitleRegistry
    function holderOf(uint256 eblId) external view returns (address) {
        return _orgAt[_existing(eblId).holder];
    }

    /// @inheritdoc ITitleRegistry
    function endorseeOf(uint256 eblId) external view returns (address) {
        return _orgAt[_existing(eblId).endorsee];
    }

    /// @inheritdoc ITitleRegistry
    function documentHashOf(uint256 eblId) external view returns (bytes32) {
        _existing(eblId);
        return _documentHashes[eblId];
    }

    /// @inheritdoc ITitleRegistry
    function eblIdOfDocument(bytes32 docHash) external view returns (uint256) {
        return _eblIdsByDocument[docHash];
    }

    /// @inheritdoc ITitleRegistry
    function eblIdOf(address carrier, bytes32 tdrHash) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(carrier, tdrHash)));
    }

    /// @inheritdoc ITitleRegistry
    function digestTitleAction(TitleAction calldata action) external view returns (bytes32) {
        return _hashTypedDataV4(_hashTitleAction(action));
    }

    /// @inheritdoc ITitleRegistry
    function digestIssuance(Issuance calldata issuance) external view returns (bytes32) {
        return _hashTypedDataV4(_hashIssuance(issuance));
    }

    // ------------------------------------------------------------------ ERC-721 read view (ERC-5192 locked)

    /// @notice Number of live eBLs an organisation holds.
    /// @param owner The organisation identity address.
    /// @return The number of live eBLs it holds (0 for non-members); reverts for the zero address.
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert MembershipZeroAddress();
        return _orgs[owner].balance;
    }

    /// @notice The organisation holding a live eBL. Reverts for unknown and terminal eBLs.
    /// @param tokenId The eBL id.
    /// @return The holder organisation.
    function ownerOf(uint256 tokenId) external view returns (address) {
        TitleRecord memory r = _existing(tokenId);
        if (_isTerminal(r.status)) revert TitleWrongStatus(tokenId, r.status);
        return _orgAt[r.holder];
    }

    /// @notice Disabled: title moves only through title actions.
    function safeTransferFrom(address, address, uint256, bytes calldata) external pure {
        revert TitleERC721Disabled();
    }

    /// @notice Disabled: title moves only through title actions.
    function safeTransferFrom(address, address, uint256) external pure {
        revert TitleERC721Disabled();
    }

    /// @notice Disabled: title moves only through title actions.
    function transferFrom(address, address, uint256) external pure {
        revert TitleERC721Disabled();
    }

    /// @notice Disabled: there are no approvals.
    function approve(address, uint256) external pure {
        revert TitleERC721Disabled();
    }

    /// @notice Disabled: there are no operators.
    function setApprovalForAll(address, bool) external pure {
        revert TitleERC721Disabled();
    }

    /// @notice There are no approvals: always the zero address.
    /// @return The zero address.
    function getApproved(uint256) external pure returns (address) {
        return address(0);
    }

    /// @notice There are no operators: always false.
    /// @return False.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        TitleRecord memory r = _existing(tokenId);
        if (_isTerminal(r.status)) revert TitleWrongStatus(tokenId, r.status);
        return true;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, IERC165) returns (bool) {
        return
            interfaceId == type(IERC721).interfaceId ||
            interfaceId == type(IERC5192).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal: signatures

    function _issueSigned(SignedIssuance calldata signed) private returns (uint256) {
        Issuance calldata i = signed.issuance;
        _useSignature(signed.signer, _hashIssuance(i), i.nonce, i.deadline, signed.signature);
        return _issue(signed.signer, i.tdrHash, i.docHash, i.issueTo, i.endorsee, i.kind);
    }

    function _executeSigned(SignedAction calldata signed) private {
        TitleAction calldata a = signed.action;
        _useSignature(signed.signer, _hashTitleAction(a), a.nonce, a.deadline, signed.signature);
        _dispatch(signed.signer, a);
    }

    function _dispatch(address key, TitleAction calldata a) private {
        uint8 code = a.action;
        if (code == uint8(Action.Issue) || code > uint8(Action.RevokeKey)) revert TitleInvalidAction(code);
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
        } else {
            _revokeOwnKey(key, a.party);
        }
    }

    function _useSignature(
        address signer,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp > deadline) revert TitleExpiredSignature(deadline);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert TitleInvalidSignature(signer);
        }
        _useNonce(signer, nonce);
    }

    /// @dev Unordered nonces: 256 per storage word, so independent signatures never block each other.
    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 word => uint256 bits) storage words = _nonceBits[signer];
        uint256 bits = words[nonce >> 8];
        if (bits & bit != 0) revert TitleNonceUsed(signer, nonce);
        words[nonce >> 8] = bits | bit;
    }

    function _hashTitleAction(TitleAction calldata a) private pure returns (bytes32) {
        return keccak256(abi.encode(_TITLE_ACTION_TYPEHASH, a.action, a.eblId, a.party, a.data, a.nonce, a.deadline));
    }

    function _hashIssuance(Issuance calldata i) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _ISSUANCE_TYPEHASH,
                    i.tdrHash,
                    i.docHash,
                    i.issueTo,
                    i.endorsee,
                    i.kind,
                    i.nonce,
                    i.deadline
                )
            );
    }

    // ------------------------------------------------------------------ internal: title rules

    function _issue(
        address key,
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        uint8 kind
    ) private returns (uint256 eblId) {
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
        ++h.balance;
        emit Transfer(address(0), issueTo, eblId);
        emit Issued(eblId, carrier, issueTo, endorsee, DocumentKind(kind), docHash, tdrHash, 0, key);
    }

    function _transferPossession(address key, uint256 eblId, address to) private {
        (address org, Organisation storage o, TitleRecord memory r) = _holderAction(key, eblId);
        Organisation storage t = _activeMember(to);
        if (t.index == r.holder) revert TitleInvalidCounterparty(eblId, to);
        if (r.kind == DocumentKind.Straight && t.index != r.endorsee) revert TitleStraightBillRecipient(eblId, to);
        r.prevHolder = r.holder;
        r.holder = t.index;
        r.nominee = 0;
        r.flags |= TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        --o.balance;
        ++t.balance;
        emit Transfer(org, to, eblId);
        emit ActionRecorded(eblId, Action.Transfer, org, to, key, bytes32(0), seq);
    }

    function _endorse(address key, uint256 eblId, address endorsee, Action mode) private {
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

    function _nominate(address key, uint256 eblId, address nominee) private {
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

    function _rejectTransfer(address key, uint256 eblId) private {
        (address org, Organisation storage o, TitleRecord memory r) = _holderAction(key, eblId);
        if (r.flags & TitleFlags.REJECTABLE == 0) revert TitleNothingToReject(eblId);
        address sender = _orgAt[r.prevHolder];
        Organisation storage back = _activeMember(sender);
        r.holder = r.prevHolder;
        r.prevHolder = o.index;
        r.nominee = 0;
        r.flags &= ~TitleFlags.REJECTABLE;
        uint32 seq = _commit(eblId, r);
        --o.balance;
        ++back.balance;
        emit Transfer(org, sender, eblId);
        emit ActionRecorded(eblId, Action.Reject, org, sender, key, bytes32(0), seq);
    }

    function _requestSurrender(address key, uint256 eblId, Action action, bytes32 reasonCode) private {
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
        if (r.prevHolder != r.carrier) {
            --o.balance;
            ++c.balance;
            emit Transfer(org, carrier, eblId);
        }
        emit ActionRecorded(eblId, action, org, carrier, key, reasonCode, seq);
    }

    function _acceptSurrender(address key, uint256 eblId) private {
        (address carrier, Organisation storage c, TitleRecord memory r) = _carrierAction(
            key,
            eblId,
            Status.SurrenderRequested
        );
        if (r.reason == SurrenderReason.Delivery) {
            r.status = Status.Surrendered;
            --c.balance;
            emit Transfer(carrier, address(0), eblId);
        } else {
            r.status = Status.SurrenderedForAmendment;
        }
        uint32 seq = _commit(eblId, r);
        emit ActionRecorded(eblId, Action.AcceptSurrender, carrier, _orgAt[r.prevHolder], key, bytes32(0), seq);
    }

    function _rejectSurrender(address key, uint256 eblId) private {
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
        if (r.holder != r.carrier) {
            --c.balance;
            ++q.balance;
            emit Transfer(carrier, requester, eblId);
        }
        emit ActionRecorded(eblId, Action.RejectSurrender, carrier, requester, key, bytes32(0), seq);
    }

    function _void(address key, uint256 eblId) private {
        (address carrier, , , uint32 seq) = _endAmendmentSurrender(
            key,
            eblId,
            SurrenderReason.Amendment,
            Status.Voided
        );
        emit ActionRecorded(eblId, Action.Void, carrier, address(0), key, bytes32(0), seq);
    }

    function _amend(address key, uint256 eblId, bytes32 docHash, address endorsee) private returns (uint256 newId) {
        if (docHash == bytes32(0)) revert TitleZeroHash();
        (address carrier, , TitleRecord memory r, uint32 seq) = _endAmendmentSurrender(
            key,
            eblId,
            SurrenderReason.Amendment,
            Status.Voided
        );
        newId = uint256(keccak256(abi.encode(eblId)));
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
        ++_activeMember(holder).balance;
        emit ActionRecorded(eblId, Action.Amend, carrier, holder, key, bytes32(newId), seq);
        emit Transfer(address(0), holder, newId);
        emit Issued(newId, carrier, holder, _orgAt[n.endorsee], n.kind, docHash, bytes32(0), eblId, key);
    }

    function _switchToPaper(address key, uint256 eblId, bytes32 paperHash) private {
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
        --c.balance;
        emit Transfer(carrier, address(0), eblId);
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
        return s == Status.Surrendered || s == Status.Voided || s == Status.SwitchedToPaper;
    }
}
