"""Offline proofs: block headers, Merkle-Patricia account and storage proofs, the title's storage layout,
and the signed title attestations built from them.

Shared by title attestations (``ebl attest``) and audit bundles (``ebl audit``); nothing here needs a
node except :func:`read_snapshot`, which reads what the others check.
"""

from registry.proofs.errors import (
    AttestationError,
    AttestationKeyError,
    HeaderError,
    ProofError,
    ProofReason,
    TrieProofError,
)
from registry.proofs.headers import Header
from registry.proofs.layout import ProvenTitle, RecordWord, mapping_slot, record_slots, title_slots
from registry.proofs.mpt import Account, StorageSlot, verify_account, verify_proof, verify_storage
from registry.proofs.snapshot import TitleSnapshot, prove_title, read_snapshot

__all__ = [
    "Account",
    "AttestationError",
    "AttestationKeyError",
    "Header",
    "HeaderError",
    "ProofError",
    "ProofReason",
    "ProvenTitle",
    "RecordWord",
    "StorageSlot",
    "TitleSnapshot",
    "TrieProofError",
    "mapping_slot",
    "prove_title",
    "read_snapshot",
    "record_slots",
    "title_slots",
    "verify_account",
    "verify_proof",
    "verify_storage",
]
