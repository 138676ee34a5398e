"""Whole blocks from the node, as the registry's archive takes them: header, raw transactions, receipts.

:func:`fetch_blocks` reads a run of blocks in two JSON-RPC batches: ``eth_getBlockByNumber`` with the
full transactions, and ``eth_getBlockReceipts``; a node without that method (the Hardhat node) is
asked ``eth_getTransactionReceipt`` per transaction (:func:`block_receipts`). Each transaction's
signed bytes are re-encoded from its fields (:func:`registry.proofs.raw_transactions.encode_transaction`)
and checked against its hash; a kind that does not re-encode is asked for by
``eth_getRawTransactionByHash`` (:func:`~registry.proofs.raw_transactions.raw_transaction`).

Nothing here trusts the node: :mod:`registry.store.archive` verifies what this returns against the
header before it stores anything. A node that pruned a block's body (anvil's
``--transaction-block-keeper``) still serves its header, with an empty transaction list and no
receipts: the verification tells that apart from an empty block by the header's roots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.rpc import rpc, rpc_batch
from registry.errors import ChainError
from registry.proofs.raw_transactions import encode_transaction, raw_transaction

__all__ = ["NodeBlock", "block_hashes", "block_receipts", "fetch_blocks"]


@dataclass(frozen=True, slots=True)
class NodeBlock:
    """One block as the node served it (unverified)."""

    number: int
    block: Mapping[str, Any]
    """The ``eth_getBlockByNumber`` result (header fields, ``hash``; ``transactions`` as hashes)."""
    raws: tuple[bytes, ...]
    """The signed transactions, in block order."""
    receipts: tuple[Mapping[str, Any], ...]
    """The receipts as JSON-RPC returns them, in block order (fewer than the transactions: pruned)."""


def block_receipts(w3: Web3, block: Mapping[str, Any]) -> list[Any]:
    """Every receipt of ``block``, in order: one ``eth_getBlockReceipts``, or one
    ``eth_getTransactionReceipt`` per transaction on a node without that method (the Hardhat node)."""
    try:
        receipts = rpc(w3, "eth_getBlockReceipts", [block["hash"]])
    except ChainError:
        receipts = None
    if receipts is None:
        receipts = [rpc(w3, "eth_getTransactionReceipt", [_hash_of(tx)]) for tx in block["transactions"]]
    return list(receipts)


def _hash_of(tx: Any) -> str:
    return str(tx["hash"] if isinstance(tx, Mapping) else tx)


def _raw(w3: Web3, tx: Mapping[str, Any]) -> bytes:
    try:
        raw = encode_transaction(tx)
    except (ChainError, KeyError):
        raw = b""
    if "0x" + keccak(raw).hex() == str(tx["hash"]).lower():
        return raw
    return raw_transaction(w3, str(tx["hash"]))  # checked against the hash there too


def block_hashes(w3: Web3, numbers: Sequence[int]) -> dict[int, str | None]:
    """The node's block hash at each height (None: no block there), in batched calls."""
    requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in numbers]
    out: dict[int, str | None] = {}
    for n, response in zip(numbers, rpc_batch(w3, requests), strict=True):
        if "error" in response:
            raise ChainError(f"eth_getBlockByNumber {n} failed: {response['error']}")
        block = response.get("result")
        out[n] = str(block["hash"]).lower() if block else None
    return out


def fetch_blocks(w3: Web3, first: int, last: int) -> list[NodeBlock]:
    """Blocks ``first`` to ``last`` (inclusive) with their transactions and receipts.

    Raises:
        ChainError: the node answers an error, or has no block at one of those heights.
    """
    numbers = list(range(first, last + 1))
    if not numbers:
        return []
    full = rpc_batch(w3, [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), True]) for n in numbers])
    receipts = rpc_batch(w3, [(RPCEndpoint("eth_getBlockReceipts"), [hex(n)]) for n in numbers])
    out: list[NodeBlock] = []
    for n, block_reply, receipts_reply in zip(numbers, full, receipts, strict=True):
        block = block_reply.get("result")
        if "error" in block_reply or not block:
            raise ChainError(f"block {n} not available: {block_reply.get('error')}")
        txs = list(block.get("transactions") or [])
        raws = tuple(_raw(w3, tx) for tx in txs)
        hashes = [_hash_of(tx) for tx in txs]
        served = receipts_reply.get("result")
        if "error" in receipts_reply or (served is None and txs):
            served = block_receipts(w3, {"hash": block["hash"], "transactions": hashes})
        out.append(
            NodeBlock(
                number=n,
                block={**block, "transactions": hashes},
                raws=raws,
                receipts=tuple(r for r in (served or []) if r is not None),
            )
        )
    return out
