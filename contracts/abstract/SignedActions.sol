// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ITitleRegistry} from "../interfaces/ITitleRegistry.sol";
import {Membership} from "../Membership.sol";
import {Issuance, SignedAction, SignedIssuance, TitleAction} from "../lib/TitleTypes.sol";

/// @title Signed title actions: EIP-712 domain, unordered nonces, deadlines, single and batched execution
/// @notice Lets any relayer submit the title actions and issuances that member keys signed off-chain.
/// @dev What is signed and checked here; what an action does is the deriving contract's business, through
/// the two hooks {_issue} and {_dispatch}. Each batch entry runs as a self-call with a gas cap
/// ({_BATCH_ENTRY_GAS}) inside `try/catch`, so a failing entry is rolled back alone (its nonce unused) and
/// reported with {ITitleRegistry-BatchEntryFailed}.
abstract contract SignedActions is ITitleRegistry, Membership, EIP712 {
    bytes32 private constant _TITLE_ACTION_TYPEHASH = keccak256(
        "TitleAction(uint8 action,uint256 eblId,address party,bytes32 data,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _ISSUANCE_TYPEHASH = keccak256(
        "Issuance(bytes32 tdrHash,bytes32 docHash,address issueTo,address endorsee,uint8 kind,uint256 nonce,uint256 deadline)"
    );

    /**
     * @dev Gas given to each batch entry's self-call ({executeFromBatch}, {issueFromBatch}).
     *
     * The most expensive legitimate entry, measured on anvil (cancun, via-IR, 1000 runs;
     * `tests/contracts/test_contract_signers.py`), is a signed amendment with an EOA signer and a fresh
     * nonce word: 156,462 gas inside the self-call (it voids the old record and writes a new record,
     * document hash, predecessor link, document index entry and nonce word, with four events); a signed
     * issuance takes 115,270. A smart-account signer adds its ERC-1271 check, for which the cap leaves
     * over 140,000 (a Safe's check costs a few tens of thousands). An entry that needs more fails alone
     * with empty revert data (out of gas) and stays retryable (its nonce unused), e.g. through {execute}.
     *
     * The cap exists because {SignatureChecker} forwards all remaining gas to an ERC-1271 signer: without
     * it, one contract key whose `isValidSignature` loops would burn the whole relayed batch. With it, a
     * bad entry costs the relayer at most this much, and the 1/64 of it kept back by EIP-150 is enough
     * for the entry to revert with {ITitleRegistry-TitleInvalidSignature}.
     */
    uint256 internal constant _BATCH_ENTRY_GAS = 300_000;

    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonceBits;

    /// @dev The EIP-712 domain: name "EblTitleRegistry", version "1".
    constructor() EIP712("EblTitleRegistry", "1") {}

    /// @inheritdoc ITitleRegistry
    function issueSigned(SignedIssuance calldata signed) external virtual returns (uint256 eblId) {
        return _issueSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function issueBatch(SignedIssuance[] calldata batch) external virtual returns (uint256 succeeded) {
        for (uint256 i = 0; i < batch.length; ++i) {
            try this.issueFromBatch{gas: _BATCH_ENTRY_GAS}(batch[i]) {
                ++succeeded;
            } catch (bytes memory reason) {
                emit BatchEntryFailed(i, batch[i].signer, batch[i].issuance.nonce, reason);
            }
        }
    }

    /// @inheritdoc ITitleRegistry
    function issueFromBatch(SignedIssuance calldata signed) external virtual returns (uint256 eblId) {
        if (msg.sender != address(this)) revert TitleOnlySelf();
        return _issueSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function execute(SignedAction calldata signed) external virtual {
        _executeSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function executeBatch(SignedAction[] calldata batch) external virtual returns (uint256 succeeded) {
        for (uint256 i = 0; i < batch.length; ++i) {
            try this.executeFromBatch{gas: _BATCH_ENTRY_GAS}(batch[i]) {
                ++succeeded;
            } catch (bytes memory reason) {
                emit BatchEntryFailed(i, batch[i].signer, batch[i].action.nonce, reason);
            }
        }
    }

    /// @inheritdoc ITitleRegistry
    function executeFromBatch(SignedAction calldata signed) external virtual {
        if (msg.sender != address(this)) revert TitleOnlySelf();
        _executeSigned(signed);
    }

    /// @inheritdoc ITitleRegistry
    function invalidateNonce(uint256 nonce) external virtual {
        _useNonce(msg.sender, nonce);
        emit NonceInvalidated(msg.sender, nonce);
    }

    /// @inheritdoc ITitleRegistry
    function nonceUsed(address signer, uint256 nonce) external view virtual returns (bool) {
        return _nonceBits[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ITitleRegistry
    function digestTitleAction(TitleAction calldata action) external view virtual returns (bytes32) {
        return _hashTypedDataV4(_hashTitleAction(action));
    }

    /// @inheritdoc ITitleRegistry
    function digestIssuance(Issuance calldata issuance) external view virtual returns (bytes32) {
        return _hashTypedDataV4(_hashIssuance(issuance));
    }

    /// @dev Issues an eBL as the carrier organisation of `key` (the sender or the verified signer).
    function _issue(
        address key,
        bytes32 tdrHash,
        bytes32 docHash,
        address issueTo,
        address endorsee,
        uint8 kind
    ) internal virtual returns (uint256 eblId);

    /// @dev Performs the title action `action` as `key`, whose signature over it has been verified.
    function _dispatch(address key, TitleAction calldata action) internal virtual;

    /**
     * @dev Checks the deadline and the signature of `signer` over the EIP-712 struct hash, then uses the
     * nonce. An EOA signature is recovered first (no call). Only a key of an active member organisation
     * ({Membership-_isActiveKey}) is then asked through ERC-1271, so a contract that is not a registered
     * key never has its code run: it is refused with {ITitleRegistry-TitleInvalidSignature} at once.
     */
    function _useSignature(
        address signer,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal virtual {
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp > deadline) revert TitleExpiredSignature(deadline);
        bytes32 digest = _hashTypedDataV4(structHash);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (
            !(err == ECDSA.RecoverError.NoError && recovered == signer) &&
            !(_isActiveKey(signer) && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature))
        ) {
            revert TitleInvalidSignature(signer);
        }
        _useNonce(signer, nonce);
    }

    /// @dev Unordered nonces: 256 per storage word, so independent signatures never block each other.
    function _useNonce(address signer, uint256 nonce) internal virtual {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 word => uint256 bits) storage words = _nonceBits[signer];
        uint256 bits = words[nonce >> 8];
        if (bits & bit != 0) revert TitleNonceUsed(signer, nonce);
        words[nonce >> 8] = bits | bit;
    }

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
}
