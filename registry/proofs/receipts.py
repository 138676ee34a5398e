"""Transaction receipts: their EIP-2718 encoding, the receipts trie of a block, and proofs against it.

A block's ``receiptsRoot`` is the root of a Merkle-Patricia trie whose keys are ``rlp(tx index)`` (not
hashed: this is not a "secure" trie) and whose values are the receipts, each encoded as EIP-2718
says: a legacy (type 0) receipt is ``rlp([status, cumulativeGasUsed, logsBloom, logs])``, a typed one
is the type byte followed by that RLP. ``logs`` is ``[[address, [topic...], data]...]``.

:func:`indexed_trie_proof` rebuilds the trie of one block from its receipts (``eth_getBlockReceipts``)
or its raw transactions (the ``transactionsRoot`` trie has the same keys) with the ``trie`` package and
gives the proof of one index; :func:`verify_indexed` checks such a proof offline and
:func:`decode_receipt` decodes the receipt's logs. Nothing here writes its own trie or RLP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from registry.proofs.errors import BundleError, ProofReason

__all__ = [
    "ProvenLog",
    "ProvenReceipt",
    "decode_receipt",
    "encode_receipt",
    "indexed_trie_proof",
    "indexed_trie_root",
    "verify_indexed",
]


def _b(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _q(value: str) -> int:
    return int(value, 16)


def encode_receipt(receipt: Mapping[str, Any]) -> bytes:
    """The consensus encoding of one receipt as JSON-RPC returns it (EIP-2718 for typed receipts)."""
    logs = [[_b(lg["address"]), [_b(t) for t in lg["topics"]], _b(lg["data"])] for lg in receipt["logs"]]
    body = bytes(
        rlp.encode([_q(receipt["status"]), _q(receipt["cumulativeGasUsed"]), _b(receipt["logsBloom"]), logs])
    )
    kind = _q(receipt.get("type", "0x0"))
    return body if kind == 0 else bytes([kind]) + body


def _indexed_trie(values: Sequence[bytes]) -> HexaryTrie:
    t = HexaryTrie({})
    for i, value in enumerate(values):
        t[rlp.encode(i)] = value
    return t


def indexed_trie_root(values: Sequence[bytes]) -> bytes:
    """The root of the trie keyed by ``rlp(i)`` holding ``values``: what a header's
    ``transactionsRoot`` (raw transactions) or ``receiptsRoot`` (encoded receipts) commits to."""
    return bytes(_indexed_trie(values).root_hash)


def indexed_trie_proof(values: Sequence[bytes], index: int) -> tuple[bytes, bytes, list[bytes]]:
    """``(root, value, proof nodes)`` for item ``index`` of the trie keyed by ``rlp(i)`` holding
    ``values`` (a block's receipts or raw transactions, in order); each proof node is the RLP of one
    trie node, root first."""
    t = _indexed_trie(values)
    key = rlp.encode(index)
    nodes = [bytes(rlp.encode(node)) for node in t.get_proof(key)]  # type: ignore[no-untyped-call]
    return bytes(t.root_hash), bytes(t[key]), nodes


def verify_indexed(root: bytes, index: int, nodes: Sequence[bytes], reason: ProofReason, where: str) -> bytes:
    """The value at ``rlp(index)`` proven by ``nodes`` against ``root``.

    Raises:
        BundleError: (``reason``) the nodes do not lead from the root to a value at that index.
    """
    if not nodes or keccak(nodes[0]) != root:
        raise BundleError(f"{where}: the proof does not start at the block's root", reason)
    for i in range(1, len(nodes)):
        if keccak(nodes[i]) not in nodes[i - 1]:
            raise BundleError(f"{where}: proof node {i} is not referenced by the one before", reason)
    try:
        value = HexaryTrie.get_from_proof(  # type: ignore[no-untyped-call]
            root, rlp.encode(index), [rlp.decode(n) for n in nodes]
        )
    except Exception as exc:
        raise BundleError(f"{where}: the proof does not verify: {type(exc).__name__}", reason) from None
    if not value:
        raise BundleError(f"{where}: the proof shows nothing at index {index}", reason)
    return bytes(value)


@dataclass(frozen=True, slots=True)
class ProvenLog:
    """One log of a proven receipt."""

    address: str
    topics: tuple[str, ...]
    data: str


@dataclass(frozen=True, slots=True)
class ProvenReceipt:
    """A receipt proven against a header's ``receiptsRoot``: its status and logs."""

    status: int
    logs: tuple[ProvenLog, ...]


def decode_receipt(value: bytes, where: str) -> ProvenReceipt:
    """A proven receipt's status and logs.

    Raises:
        BundleError: (``receipt_proof``) it does not decode as a receipt.
    """
    body = value[1:] if value and value[0] < 0x7F else value
    try:
        status, _gas, _bloom, logs = rlp.decode(body)
        decoded = tuple(
            ProvenLog(
                "0x" + bytes(a).hex(), tuple("0x" + bytes(t).hex() for t in topics), "0x" + bytes(d).hex()
            )
            for a, topics, d in logs
        )
    except Exception:
        raise BundleError(f"{where}: the proven receipt does not decode", "receipt_proof") from None
    return ProvenReceipt(int.from_bytes(bytes(status), "big"), decoded)
