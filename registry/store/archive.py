"""The registry's own verified archive of its chain: headers, raw transactions and receipts, by block.

A node may forget old blocks (the embedded anvil runs with ``--transaction-block-keeper``, see
``docs/ledger.md``), but a title registry must prove its history for years. :class:`ChainArchive`
copies every block from the registry's deployment block to the head into the database, and the index
(:class:`~registry.store.indexer.Indexer`) and the audit bundles (:mod:`registry.proofs.bundle`) read
the chain's past from here, never from the node.

What is kept: **every** block from the deployment block on, with its header (zlib of its RLP) and, when
it has transactions, all of them (signed bytes) and all their receipts (EIP-2718), as
``zlib(rlp([raws, receipts]))``. Headers of every block, because a bundle carries the contiguous header
chain from an eBL's first action to the head (on-demand mining mines no empty blocks while idle, so
that costs little). Bodies of every block, not only those with registry logs, because the registry's
chain is dedicated: nearly every transaction on it is the registry's, a receipts root can only be
checked against all of a block's receipts, and a transaction proof needs all of its raw transactions.
Logs are not stored twice: they are read from the receipts.

Verified on the way in, nothing stored unchecked (:class:`~registry.errors.ArchiveMismatchError`):

* the header hashes to the block hash (:meth:`Header.check <registry.proofs.headers.Header.check>`;
  on a Besu QBFT node, the QBFT hash);
* its parent hash is the hash of the archived block before it, so the archive is one hash chain;
* the raw transactions rebuild the header's ``transactionsRoot``, and the receipts (each belonging to
  the transaction at its index) its ``receiptsRoot``.

A node that no longer serves a block's transactions or receipts (pruned before the archive took it)
still serves its header; the header's roots show that something is missing, and ingestion stops with
:class:`~registry.errors.ArchiveGapError` naming that block: never a skipped block, never a partial
index. Reorgs (and a chain restored from an older state dump): when the node's block at an archived
height has another hash, the archive is rolled back to the newest block the node still has by hash,
however deep that is (a restored chain can lose more blocks than any reorg depth; block hashes chain,
so everything older is unchanged), and ingestion carries on from there.

One writer at a time: the process that leads (the runtime's index follower) ingests; any process may
read.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.crypto import keccak
from sqlalchemy import Engine, Table, delete, func, insert, select
from web3 import Web3

from registry.chain.blocks import NodeBlock, block_hashes, fetch_blocks
from registry.chain.rpc import rpc
from registry.errors import ArchiveGapError, ArchiveMismatchError
from registry.proofs.errors import HeaderError
from registry.proofs.headers import Header
from registry.proofs.mpt import EMPTY_TRIE_ROOT
from registry.proofs.receipts import decode_receipt, encode_receipt, indexed_trie_root
from registry.store.db import write_lock
from registry.store.models import ChainBlock, ChainTransaction

__all__ = ["ArchivedBlock", "ChainArchive", "archived_receipt", "verify_block"]

log = logging.getLogger("registry.store.archive")

BLOCKS: Table = ChainBlock.__table__  # type: ignore[assignment]
TRANSACTIONS: Table = ChainTransaction.__table__  # type: ignore[assignment]

REWIND_STEP = 64
"""Block hashes compared with the node per batch while looking for where a reorg forked."""


@dataclass(frozen=True, slots=True)
class ArchivedBlock:
    """One archived block: its checked header, signed transactions and encoded receipts."""

    header: Header
    raws: tuple[bytes, ...]
    receipts: tuple[bytes, ...]

    @property
    def number(self) -> int:
        return self.header.number

    @property
    def hash(self) -> str:
        return self.header.hash

    @property
    def tx_hashes(self) -> list[str]:
        return ["0x" + keccak(raw).hex() for raw in self.raws]

    def logs(self, address: str | None = None) -> list[dict[str, Any]]:
        """The block's logs shaped as ``eth_getLogs`` returns them (what
        :func:`registry.chain.events.decode_logs` reads), only those of ``address`` when given."""
        wanted = address.lower() if address is not None else None
        out: list[dict[str, Any]] = []
        log_index = 0
        for tx_index, (tx_hash, receipt) in enumerate(zip(self.tx_hashes, self.receipts, strict=True)):
            for entry in decode_receipt(receipt, f"block {self.number} receipt {tx_index}").logs:
                if wanted is None or entry.address == wanted:
                    out.append(
                        {
                            "address": entry.address,
                            "topics": list(entry.topics),
                            "data": entry.data,
                            "blockNumber": hex(self.number),
                            "blockHash": self.hash,
                            "transactionHash": tx_hash,
                            "transactionIndex": hex(tx_index),
                            "logIndex": hex(log_index),
                            "removed": False,
                        }
                    )
                log_index += 1
        return out


def verify_block(served: NodeBlock, parent_hash: str | None) -> ArchivedBlock:
    """The block ``served`` checked (see the module docstring); ``parent_hash``: the archived block
    before it (None for the first block archived).

    Raises:
        ArchiveMismatchError: the header, the parent link, a transaction or a receipt does not verify.
        ArchiveGapError: the header commits to transactions or receipts the node no longer serves.
    """
    number = served.number
    try:
        header = Header.from_node(served.block)
    except HeaderError as exc:
        raise ArchiveMismatchError(number, str(exc)) from None
    if header.number != number:
        raise ArchiveMismatchError(number, f"the node served block {header.number} instead")
    if parent_hash is not None and header.parent_hash != parent_hash:
        raise ArchiveMismatchError(
            number, f"its parent hash {header.parent_hash} is not the archived block's {parent_hash}"
        )
    tx_root = bytes.fromhex(header.field("transactionsRoot")[2:])
    if not served.raws and tx_root != EMPTY_TRIE_ROOT:
        raise ArchiveGapError(number, "the node serves none of the transactions its header commits to")
    if indexed_trie_root(served.raws) != tx_root:
        raise ArchiveMismatchError(number, "the transactions do not rebuild the header's transactionsRoot")
    if len(served.receipts) != len(served.raws):
        raise ArchiveGapError(
            number, f"the node serves {len(served.receipts)} receipts for {len(served.raws)} transactions"
        )
    hashes = ["0x" + keccak(raw).hex() for raw in served.raws]
    for i, (receipt, tx_hash) in enumerate(zip(served.receipts, hashes, strict=True)):
        if str(receipt.get("transactionHash", "")).lower() != tx_hash:
            raise ArchiveMismatchError(number, f"receipt {i} is not the receipt of transaction {tx_hash}")
    receipts = tuple(encode_receipt(r) for r in served.receipts)
    if indexed_trie_root(receipts) != header.receipts_root:
        raise ArchiveMismatchError(number, "the receipts do not rebuild the header's receiptsRoot")
    return ArchivedBlock(header, served.raws, receipts)


def _pack(block: ArchivedBlock) -> dict[str, Any]:
    body = zlib.compress(rlp.encode([list(block.raws), list(block.receipts)])) if block.raws else None
    return {
        "number": block.number,
        "hash": block.hash,
        "parent_hash": block.header.parent_hash,
        "timestamp": block.header.timestamp,
        "header": zlib.compress(block.header.rlp()),
        "body": body,
    }


def _unpack(row: Any) -> ArchivedBlock:
    header = Header.from_rlp(zlib.decompress(row.header), str(row.hash))
    if row.body is None:
        return ArchivedBlock(header, (), ())
    raws, receipts = rlp.decode(zlib.decompress(row.body))
    return ArchivedBlock(header, tuple(bytes(r) for r in raws), tuple(bytes(r) for r in receipts))


class ChainArchive:
    """The verified archive of one registry's chain, from ``first_block`` (its deployment block) on.

    Args:
        w3: web3 connected to the registry's chain (read only by :meth:`ingest`).
        engine: a migrated database (:func:`registry.store.db.migrate`).
        first_block: the oldest block archived (the registry's deployment block).
        batch_blocks: blocks fetched and stored per database transaction.
    """

    def __init__(self, w3: Web3, engine: Engine, first_block: int, *, batch_blocks: int = 200) -> None:
        if batch_blocks < 1:
            raise ValueError("batch_blocks must be at least 1")
        self._w3 = w3
        self._engine = engine
        self.first_block = first_block
        self.batch_blocks = batch_blocks
        # one ingest at a time in this process: the index follower's sync and a caller's (a test, a
        # consistency check) read the same tip and inserted the same block twice (UNIQUE failed)
        self._ingest_lock = threading.Lock()

    # ------------------------------------------------------------------ ingest

    def ingest(self, to_block: int | None = None) -> int:
        """Take every block up to ``to_block`` (default and at most: the node's head), verified, after
        rolling back whatever the node replaced; returns the newest block archived
        (``first_block - 1`` when none is).

        Raises:
            ArchiveMismatchError: a block does not verify (nothing of it or after it is stored).
            ArchiveGapError: the node no longer serves a block the archive needs.
            ChainError: the node answers a JSON-RPC call with an error.
        """
        with self._ingest_lock:
            return self._ingest(to_block)

    def _ingest(self, to_block: int | None) -> int:
        head = int(rpc(self._w3, "eth_blockNumber", []), 16)
        last = head if to_block is None else min(to_block, head)
        self._rewind(head)
        tip = self.tip()
        start, parent = (tip[0] + 1, tip[1]) if tip else (self.first_block, None)
        while start <= last:
            end = min(start + self.batch_blocks - 1, last)
            checked: list[ArchivedBlock] = []
            try:
                for served in fetch_blocks(self._w3, start, end):
                    checked.append(verify_block(served, parent))
                    parent = checked[-1].hash
            finally:  # the blocks verified before a refused one are kept
                if checked:
                    self._store(checked)
            start = end + 1
        return max(min(start - 1, last), self.first_block - 1)

    def _store(self, blocks: Sequence[ArchivedBlock]) -> None:
        transactions = [
            {"tx_hash": tx_hash, "block_number": b.number, "tx_index": i}
            for b in blocks
            for i, tx_hash in enumerate(b.tx_hashes)
        ]
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(insert(BLOCKS), [_pack(b) for b in blocks])
            if transactions:
                conn.execute(insert(TRANSACTIONS), transactions)

    def _rewind(self, head: int) -> None:
        """Roll back to the newest archived block whose hash the node still has at its height."""
        tip = self.tip()
        if tip is None:
            return
        top = min(tip[0], head)
        step = 1  # the newest block first: unchanged in every round without a reorg
        while top >= self.first_block:
            low = max(self.first_block, top - step + 1)
            step = REWIND_STEP
            numbers = list(range(top, low - 1, -1))
            node = block_hashes(self._w3, numbers)
            archived = self.block_hashes(low, top)
            for n in numbers:
                if node[n] is not None and node[n] == archived.get(n):
                    if n < tip[0]:
                        log.warning("reorg: the chain replaced blocks above %d; the archive rolls back", n)
                        self.rollback(n)
                    return
            top = low - 1
        log.warning("reorg: the chain replaced every archived block; the archive starts again")
        self.rollback(self.first_block - 1)

    def rollback(self, block: int) -> None:
        """Forget every archived block above ``block``."""
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(delete(TRANSACTIONS).where(TRANSACTIONS.c.block_number > block))
            conn.execute(delete(BLOCKS).where(BLOCKS.c.number > block))

    # ------------------------------------------------------------------ reads

    def tip(self) -> tuple[int, str] | None:
        """(newest archived block, its hash), or None while the archive is empty."""
        with self._engine.connect() as conn:
            newest = conn.execute(select(func.max(BLOCKS.c.number))).scalar()
            if newest is None:
                return None
            block_hash = conn.execute(select(BLOCKS.c.hash).where(BLOCKS.c.number == newest)).scalar_one()
        return int(newest), str(block_hash)

    def block_hash(self, number: int) -> str | None:
        """The archived hash of block ``number`` (None: not archived)."""
        return self.block_hashes(number, number).get(number)

    def block_hashes(self, first: int, last: int) -> dict[int, str]:
        """Archived hash of each block from ``first`` to ``last``."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(BLOCKS.c.number, BLOCKS.c.hash).where(BLOCKS.c.number.between(first, last))
            ).all()
        return {int(n): str(h) for n, h in rows}

    def block(self, number: int) -> ArchivedBlock | None:
        """Archived block ``number`` with its transactions and receipts (None: not archived)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(BLOCKS).where(BLOCKS.c.number == number)).first()
        return _unpack(row) if row is not None else None

    def header(self, *, number: int | None = None, block_hash: str | None = None) -> Header | None:
        """The archived header of one block, by number or by hash (None: not archived)."""
        where = BLOCKS.c.number == number if block_hash is None else BLOCKS.c.hash == block_hash.lower()
        with self._engine.connect() as conn:
            row = conn.execute(select(BLOCKS.c.hash, BLOCKS.c.header).where(where)).first()
        return Header.from_rlp(zlib.decompress(row.header), str(row.hash)) if row is not None else None

    def headers(self, first: int, last: int) -> list[Header]:
        """The archived headers of blocks ``first`` to ``last``, oldest first.

        Raises:
            ArchiveGapError: one of them is not archived.
        """
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(BLOCKS.c.number, BLOCKS.c.hash, BLOCKS.c.header)
                .where(BLOCKS.c.number.between(first, last))
                .order_by(BLOCKS.c.number)
            ).all()
        if len(rows) != max(last - first + 1, 0):
            held = {int(r.number) for r in rows}
            missing = next(n for n in range(first, last + 1) if n not in held)
            raise ArchiveGapError(missing, "the archive does not hold it")
        return [Header.from_rlp(zlib.decompress(r.header), str(r.hash)) for r in rows]

    def blocks(self, first: int, last: int, *, with_body: bool = True) -> Iterator[ArchivedBlock]:
        """Archived blocks ``first`` to ``last`` that have transactions (``with_body``) or all of them,
        oldest first."""
        query = select(BLOCKS).where(BLOCKS.c.number.between(first, last)).order_by(BLOCKS.c.number)
        if with_body:
            query = query.where(BLOCKS.c.body.is_not(None))
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return (_unpack(r) for r in rows)

    def logs(self, first: int, last: int, address: str) -> list[dict[str, Any]]:
        """The logs of ``address`` in blocks ``first`` to ``last``, as ``eth_getLogs`` returns them."""
        return [entry for block in self.blocks(first, last) for entry in block.logs(address)]

    def timestamps(self, numbers: Sequence[int]) -> dict[int, int]:
        """Block time of each archived block of ``numbers``."""
        if not numbers:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(BLOCKS.c.number, BLOCKS.c.timestamp).where(BLOCKS.c.number.in_(sorted(set(numbers))))
            ).all()
        return {int(n): int(t) for n, t in rows}

    def transaction(self, tx_hash: str) -> tuple[int, str, int] | None:
        """(block number, block hash, index in the block) of an archived transaction, or None."""
        query = (
            select(BLOCKS.c.number, BLOCKS.c.hash, TRANSACTIONS.c.tx_index)
            .join(BLOCKS, BLOCKS.c.number == TRANSACTIONS.c.block_number)
            .where(TRANSACTIONS.c.tx_hash == tx_hash.lower())
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return (int(row[0]), str(row[1]), int(row[2])) if row is not None else None


def archived_receipt(archive: ChainArchive | None, tx_hash: str) -> dict[str, Any] | None:
    """What the archive knows of transaction ``tx_hash``, shaped like the receipt
    ``eth_getTransactionReceipt`` would have answered (``blockNumber``, ``blockHash``,
    ``transactionHash``, ``transactionIndex``, ``status``, ``logs``), or None: for a node that pruned
    the block. Whether that block is still the chain's is the caller's to check
    (:func:`registry.chain.rpc.receipt_on_chain`), as for a node's receipt."""
    found = archive.transaction(tx_hash) if archive is not None else None
    if archive is None or found is None:
        return None
    number, block_hash, index = found
    block = archive.block(number)
    if block is None:  # rolled back since
        return None
    receipt = decode_receipt(block.receipts[index], f"block {number} receipt {index}")
    return {
        "blockNumber": hex(number),
        "blockHash": block_hash,
        "transactionHash": tx_hash.lower(),
        "transactionIndex": hex(index),
        "status": hex(receipt.status),
        "logs": [lg for lg in block.logs() if int(lg["transactionIndex"], 16) == index],
    }
