"""The exceptions of offline proofs, under the registry's root exception.

::

    RegistryError
    └── ProofError                     (``reason``: a stable category a verifier prints and tests assert)
        ├── HeaderError                (a block header that does not hash to its block hash, or is malformed)
        ├── TrieProofError             (a Merkle-Patricia proof that does not lead from the root to the value)
        ├── BundleError                (an audit bundle refused: head, header chain, receipt proof, custody)
        ├── AttestationError           (an attestation refused: signature, key, claims, shape)
        ├── SealError                  (QBFT: commit seals or the trusted validator set refused)
        └── AttestationKeyError        (the attestation key file is missing, unreadable or unsupported)

They live here rather than in :mod:`registry.errors` to keep that module from growing; each derives
from :class:`~registry.errors.RegistryError`, so ``except RegistryError`` still catches them.
"""

from __future__ import annotations

from typing import Literal

from registry.errors import RegistryError

__all__ = [
    "AttestationError",
    "AttestationKeyError",
    "BundleError",
    "HeaderError",
    "ProofError",
    "ProofReason",
    "SealError",
    "TrieProofError",
]

ProofReason = Literal[
    "malformed",
    "signature",
    "unknown_key",
    "header",
    "account_proof",
    "storage_proof",
    "claims",
    "key_file",
    "head_signature",
    "header_chain",
    "receipt_proof",
    "transaction",
    "event",
    "custody",
    "action_signature",
    "document",
    "commit_seals",
    "validator_set",
    "action_key",
]
"""Why a proof or an attestation was refused:

* ``malformed`` -- not the shape of an attestation (JSON, fields, hex);
* ``signature`` -- the JWS signature does not verify under the key its ``kid`` names;
* ``unknown_key`` -- the ``kid`` is not in the JWK set given;
* ``header`` -- the block header does not hash to the block hash, or disagrees with the block claimed;
* ``account_proof`` -- the registry's account is not proven against the header's state root;
* ``storage_proof`` -- a title record slot is not proven against the account's storage root;
* ``claims`` -- the proven record disagrees with what the attestation states;
* ``key_file`` -- the attestation key cannot be loaded or saved;
* ``head_signature`` -- a bundle's signed head (JWS) does not verify or names another header;
* ``header_chain`` -- a bundle's headers do not link by parent hash to the signed head;
* ``receipt_proof`` -- a receipt is not proven against its block's receiptsRoot;
* ``transaction`` -- a transaction does not hash to the hash its receipt was recorded under;
* ``event`` -- an action stated in a bundle is not the registry event the proven receipt holds;
* ``custody`` -- an actor was not entitled to the action at that moment;
* ``action_signature`` -- an EIP-712 signature does not recover to the acting key;
* ``action_key`` -- the acting key is not, by the proven state of its block, a key of the acting
  organisation (:mod:`registry.proofs.key_proofs`);
* ``document`` -- the issued document does not hash to the hash recorded at issuance;
* ``commit_seals`` -- (QBFT) a header's commit seals do not reach quorum of the validator set: too few,
  a duplicate signer, a non-validator, a seal made for another round, or one that recovers no key;
* ``validator_set`` -- (QBFT) the trusted validator set cannot be read, is of another chain, or is not
  the set a header lists (the set changed by vote: not followed, see docs/proofs.md).
"""


class ProofError(RegistryError):
    """Raised when a proof (or a document built on one) does not verify.

    Attributes:
        reason: the category (:data:`ProofReason`).
    """

    code = "proof_error"
    reason: ProofReason = "malformed"

    def __init__(self, message: str, reason: ProofReason | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(message)


class HeaderError(ProofError):
    """Raised when a block header is malformed or its RLP does not hash to the block hash."""

    code = "invalid_header"
    reason: ProofReason = "header"


class TrieProofError(ProofError):
    """Raised when an account or storage proof does not verify against its root."""

    code = "invalid_trie_proof"
    reason: ProofReason = "storage_proof"


class AttestationError(ProofError):
    """Raised when a title attestation is refused (its ``reason`` says which check failed)."""

    code = "invalid_attestation"


class AttestationKeyError(ProofError):
    """Raised when the attestation signing key cannot be loaded, created or saved."""

    code = "attestation_key_error"
    reason: ProofReason = "key_file"


class BundleError(ProofError):
    """Raised when an audit bundle is refused (its ``reason`` says which check failed)."""

    code = "invalid_bundle"


class SealError(ProofError):
    """Raised when a QBFT header's commit seals do not finalise it under the trusted validator set, or
    that set cannot be read (``reason``: ``commit_seals`` or ``validator_set``)."""

    code = "invalid_commit_seals"
    reason: ProofReason = "commit_seals"
