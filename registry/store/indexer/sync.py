"""The :class:`Indexer`: keeps the database's chain index in step with one registry deployment.

:meth:`Indexer.sync` first brings the registry's chain archive (:class:`~registry.store.archive.ChainArchive`)
up to the head: every block verified against its header and stored with its transactions and receipts.
Then it reads the registry's logs from the archived receipts (never ``eth_getLogs``: a node that prunes
old blocks would silently answer without them), over block ranges of ``batch_blocks``, starting after
the checkpoint (first run: at the deployment block, after a reorg: where
:mod:`~registry.store.indexer.rollback` says). Each range is decoded (:mod:`registry.chain.events`) and
applied in (block, log index) order (:func:`~registry.store.indexer.writes.apply_logs`, which folds the
title events with :mod:`~registry.store.indexer.fold`) inside **one database transaction** that also
moves the checkpoint; a crash therefore loses nothing and duplicates nothing. Block times and hashes
come from the archive too, so :meth:`Indexer.rebuild` works from the archive alone after the node has
pruned.

One database indexes one registry deployment, with one writer at a time (the API and other readers
may share the database freely; SQLite runs in WAL mode for that).

Read your own writes: :meth:`Indexer.applied_block` is the newest block this indexer has applied (in
memory, no query) and :meth:`Indexer.wait_applied` blocks until it reaches a given block, so a write
answered ``final`` can wait until the index shows it (the runtime's follower syncs on demand).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, select
from web3 import Web3

from registry.chain.artifacts import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.events import REGISTRY_EVENTS, Log, decode_logs
from registry.chain.views import TitleReader
from registry.store.archive import ChainArchive
from registry.store.db import write_lock
from registry.store.indexer.consistency import Discrepancy, discrepancies
from registry.store.indexer.rollback import Rewind
from registry.store.indexer.tables import CHECKPOINTS, EBLS, EVENTS, KEYS, ORGS, save_checkpoint
from registry.store.indexer.writes import apply_logs

__all__ = ["Indexer"]

log = logging.getLogger("registry.store.indexer")


class Indexer:
    """Keeps the database's chain index in step with one registry deployment.

    Args:
        w3: web3 connected to the registry's chain.
        deployment: where the registry lives (address, chain id, deployment block).
        engine: a migrated database (:func:`registry.store.db.migrate`).
        name: checkpoint name; default ``"<chain id>:<address>"``.
        reorg_depth: blocks rolled back when the checkpoint's block hash changed.
        archive: the chain archive the index is read from; default: the archive of ``deployment`` in
            ``engine``.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        engine: Engine,
        *,
        name: str | None = None,
        reorg_depth: int = 12,
        archive: ChainArchive | None = None,
    ) -> None:
        self._w3 = w3
        self._deployment = deployment
        self._engine = engine
        self.name = name or f"{deployment.chain_id}:{deployment.address}"
        self.reorg_depth = reorg_depth
        self._titles = TitleReader(w3, deployment.address)
        contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        self.archive = archive or ChainArchive(w3, engine, deployment.block_number)
        self._rewind = Rewind(self.archive, engine, deployment, contract, self.name)
        self._upsert_dialect = engine.dialect.name
        self._progress = threading.Condition()
        self._applied: int | None = None  # newest block applied, once known (see applied_block)

    # ------------------------------------------------------------------ public API

    @property
    def engine(self) -> Engine:
        """The database the index is kept in."""
        return self._engine

    def checkpoint(self) -> tuple[int, str] | None:
        """(last applied block, its hash), or None before the first sync."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(CHECKPOINTS.c.last_block, CHECKPOINTS.c.last_block_hash).where(
                    CHECKPOINTS.c.name == self.name
                )
            ).first()
        return (int(row[0]), str(row[1])) if row else None

    def applied_block(self) -> int:
        """The newest block whose events the index holds (-1 before anything is applied): in memory
        after this indexer's first sync, read from the checkpoint before it."""
        applied = self._applied
        if applied is None:
            checkpoint = self.checkpoint()
            applied = checkpoint[0] if checkpoint else -1
        return applied

    def wait_applied(self, block: int, timeout: float) -> bool:
        """Block until the index holds every event up to ``block`` (True), or ``timeout`` seconds pass
        (False). Another thread must be syncing: this only waits."""
        with self._progress:
            return self._progress.wait_for(lambda: self.applied_block() >= block, timeout)

    def _advance(self, block: int) -> None:
        with self._progress:
            if self._applied is None or block > self._applied:
                self._applied = block
                self._progress.notify_all()

    def sync(self, to_block: int | None = None, batch_blocks: int = 2000) -> int:
        """Archive every block up to ``to_block`` (default and at most: the node's head), then apply
        every registry event up to it from the archive; returns the logs applied.

        Raises:
            ArchiveGapError: the node no longer serves a block the archive needs (nothing past it is
                indexed).
            ArchiveMismatchError: the node served a block that does not verify.
            ChainError: when the node answers a JSON-RPC call with an error.
        """
        if batch_blocks < 1:
            raise ValueError("batch_blocks must be at least 1")
        head = self.archive.ingest(to_block)
        start = self._resume_block()
        applied = 0
        while start <= head:
            end = min(start + batch_blocks - 1, head)
            applied += self._sync_range(start, end)
            start = end + 1
        self._advance(start - 1)  # the checkpoint: every block up to here is applied
        return applied

    def rebuild(self, to_block: int | None = None, batch_blocks: int = 2000) -> int:
        """Drop all indexed chain data and re-sync from the deployment block; returns the logs applied."""
        with self._progress:
            self._applied = None
        with self._engine.begin() as conn:
            for table in (EVENTS, EBLS, KEYS, ORGS):
                conn.execute(delete(table))
            conn.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.name == self.name))
        return self.sync(to_block, batch_blocks)

    def check_consistency(self, ebl_ids: Iterable[int] | None = None) -> list[Discrepancy]:
        """Compare indexed state with the chain's ``titleOf`` at the checkpoint block.

        Compares status, kind, carrier, holder, endorsee, nominee, document hash, seq, predecessor,
        successor and paper hash; an eBL known to only one side is reported with ``field="exists"``.
        With ``ebl_ids`` None, every indexed eBL is checked (streamed in chunks; ``titleOf`` calls
        go out as JSON-RPC batches).

        The comparison is at the checkpoint, never at a newer block (the index would differ from it
        by the events not yet applied, spuriously); a node that keeps few states (the embedded anvil:
        ``EBL_CHAIN_STATES_KEPT``) may have forgotten that block when the index lags.

        Raises:
            StateNotKeptError: the node no longer keeps the checkpoint's state: sync, then check again.
        """
        checkpoint = self.checkpoint()
        block = hex(checkpoint[0]) if checkpoint else "latest"
        return discrepancies(self._engine, self._titles, block, ebl_ids)

    # ------------------------------------------------------------------ sync internals

    def _resume_block(self) -> int:
        """First block to fetch: after the checkpoint (rolled back on a reorg) or the deployment block."""
        checkpoint = self.checkpoint()
        if checkpoint is not None:
            with self._progress:
                self._applied = None  # a rollback may follow: read from the checkpoint until the next sync
        return self._rewind.resume_block(checkpoint, self.reorg_depth)

    def _sync_range(self, start: int, end: int) -> int:
        logs = decode_logs(self.archive.logs(start, end, self._deployment.address), REGISTRY_EVENTS)
        block_times = self.archive.timestamps([lg.block_number for lg in logs])
        end_hash = self.archive.block_hash(end)
        assert end_hash is not None  # archived by ingest() above
        with write_lock(self._engine), self._engine.begin() as conn:
            self._apply(conn, logs, block_times)
            save_checkpoint(conn, self.name, end, end_hash)
        self._advance(end)  # committed: readers see it
        return len(logs)

    def _apply(self, conn: Connection, logs: Sequence[Log], block_times: Mapping[int, int]) -> None:
        """Apply decoded logs (in chain order, ``block_times`` holding each one's block time) on
        ``conn``; the caller owns the transaction."""
        apply_logs(conn, logs, block_times, self._upsert_dialect)
