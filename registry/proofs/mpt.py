"""Account and storage proofs (``eth_getProof``, EIP-1186) verified against a state root, offline.

The trie walk is the Ethereum Foundation's ``trie`` package (:meth:`HexaryTrie.get_from_proof`); this
module only decodes the JSON-RPC shape, derives the keys (``keccak(address)``, ``keccak(slot)``) and
compares the proven values with the claimed ones. Before the walk, the proof's nodes must form one
path: the first hashes to the root and each next node's hash appears in the node before it, so a
proof carrying a node that the walk never reads (a changed byte in an unused node) is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from registry.proofs.errors import ProofReason, TrieProofError

__all__ = ["EMPTY_TRIE_ROOT", "Account", "StorageSlot", "verify_account", "verify_proof", "verify_storage"]

EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))
"""The root of an empty trie (an account without storage)."""


def _hex(value: Any, what: str, reason: ProofReason, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise TrieProofError(f"{what} is not 0x-prefixed hex", reason)
    try:
        data = bytes.fromhex(value[2:] if len(value) % 2 == 0 else "0" + value[2:])
    except ValueError:
        raise TrieProofError(f"{what} is not hex", reason) from None
    if size is not None and len(data) != size:
        raise TrieProofError(f"{what} has {len(data)} bytes, not {size}", reason)
    return data


def _quantity(value: Any, what: str, reason: ProofReason) -> int:
    return int.from_bytes(_hex(value, what, reason), "big")


def _nodes(proof: Any, what: str, reason: ProofReason) -> list[bytes]:
    if not isinstance(proof, Sequence) or isinstance(proof, str | bytes):
        raise TrieProofError(f"{what} is not a list of nodes", reason)
    return [_hex(node, f"{what} node {i}", reason) for i, node in enumerate(proof)]


def verify_proof(root: bytes, key: bytes, nodes: Sequence[bytes], reason: ProofReason) -> bytes:
    """The value stored under ``keccak(key)`` in the trie of ``root``, proven by ``nodes`` (each the RLP
    of one trie node, root first); ``b""`` when the proof shows the key absent.

    Raises:
        TrieProofError: the nodes are not one path from ``root``, or do not prove the key either way.
    """
    if not nodes:
        if root == EMPTY_TRIE_ROOT:
            return b""
        raise TrieProofError("the proof has no nodes", reason)
    if keccak(nodes[0]) != root:
        raise TrieProofError("the proof's first node does not hash to the root", reason)
    for i in range(1, len(nodes)):
        if keccak(nodes[i]) not in nodes[i - 1]:
            raise TrieProofError(f"proof node {i} is not referenced by the node before it", reason)
    try:
        decoded = [rlp.decode(node) for node in nodes]
        value = HexaryTrie.get_from_proof(root, keccak(key), decoded)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise TrieProofError(f"the proof does not verify: {type(exc).__name__}: {exc}", reason) from None
    return bytes(value)


@dataclass(frozen=True, slots=True)
class Account:
    """An account proven against a state root."""

    address: str
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


@dataclass(frozen=True, slots=True)
class StorageSlot:
    """One storage slot proven against an account's storage root."""

    slot: int
    value: int


def verify_account(state_root: bytes, proof: Mapping[str, Any]) -> Account:
    """The account ``proof`` (one ``eth_getProof`` result) proves against ``state_root``; its claimed
    ``nonce``, ``balance``, ``storageHash`` and ``codeHash`` must be what the trie holds.

    Raises:
        TrieProofError: (reason ``account_proof``) malformed, not proven, absent, or a claimed field
            differs from the proven account.
    """
    reason: ProofReason = "account_proof"
    address = _hex(proof.get("address"), "the proof's address", reason, 20)
    nodes = _nodes(proof.get("accountProof"), "the account proof", reason)
    raw = verify_proof(state_root, address, nodes, reason)
    if not raw:
        raise TrieProofError(f"the account {to_checksum_address(address)} is absent from the state", reason)
    try:
        nonce, balance, storage_root, code_hash = rlp.decode(raw)
    except Exception:
        raise TrieProofError("the proven account is not an RLP account", reason) from None
    account = Account(
        address=to_checksum_address(address),
        nonce=int.from_bytes(nonce, "big"),
        balance=int.from_bytes(balance, "big"),
        storage_root=bytes(storage_root),
        code_hash=bytes(code_hash),
    )
    claimed = {
        "nonce": (_quantity(proof.get("nonce"), "the proof's nonce", reason), account.nonce),
        "balance": (_quantity(proof.get("balance"), "the proof's balance", reason), account.balance),
        "storageHash": (_hex(proof.get("storageHash"), "storageHash", reason, 32), account.storage_root),
        "codeHash": (_hex(proof.get("codeHash"), "codeHash", reason, 32), account.code_hash),
    }
    for name, (said, proven) in claimed.items():
        if said != proven:
            raise TrieProofError(f"the proof's {name} is not the proven account's", reason)
    return account


def verify_storage(storage_root: bytes, entry: Mapping[str, Any]) -> StorageSlot:
    """The slot one ``storageProof`` entry proves against ``storage_root``; its claimed ``value`` must
    be what the trie holds (zero when the proof shows the slot empty).

    Raises:
        TrieProofError: (reason ``storage_proof``) malformed, not proven, or a different value.
    """
    reason: ProofReason = "storage_proof"
    slot = _quantity(entry.get("key"), "a storage key", reason)
    if slot >= 2**256:
        raise TrieProofError("a storage key is longer than 32 bytes", reason)
    nodes = _nodes(entry.get("proof"), f"the storage proof of slot {hex(slot)}", reason)
    raw = verify_proof(storage_root, slot.to_bytes(32, "big"), nodes, reason)
    try:
        proven = int.from_bytes(rlp.decode(raw), "big") if raw else 0
    except Exception:
        raise TrieProofError(f"slot {hex(slot)} holds no RLP value", reason) from None
    said = _quantity(entry.get("value"), f"the value of slot {hex(slot)}", reason)
    if said != proven:
        raise TrieProofError(f"slot {hex(slot)} holds {hex(proven)}, not the claimed {hex(said)}", reason)
    return StorageSlot(slot, proven)
