"""Reorgs: where a sync resumes, and rolling the index back to a block the chain still has.

"The chain" here is the registry's chain archive (:class:`~registry.store.archive.ChainArchive`), which
:meth:`Indexer.sync <registry.store.indexer.Indexer.sync>` has just brought in step with the node (rolled
back itself where the node replaced blocks): its block hashes are the node's canonical ones, and it
still has them after the node pruned old blocks.

The checkpoint stores the hash of its block. When the archive's block at that height has another hash
(or is gone: a chain restored from an older state dump), the index is rolled back ``reorg_depth`` blocks
(never above the archive's newest block): events above the rollback block are deleted, eBLs issued above
it are deleted, and every other eBL they touched is rebuilt by replaying its remaining events from the
issuance state (:func:`~registry.store.indexer.fold.replay`); keys and organisations registered above it
are deleted, revocations above it undone, and organisation standings changed above it re-read from the
chain at the rollback block (or, when the chain keeps no state there, at its head). Then the block hash
the newest kept event was indexed from is checked against the chain, rolling back further, event block
by event block, until the chain still has that block; the index then ends there (block hashes chain, so
everything older is on chain too, while the blocks above it may be new). Membership changes in blocks
without a title event are only covered down to ``reorg_depth``;
:meth:`Indexer.check_consistency <registry.store.indexer.Indexer.check_consistency>` reveals stale rows
and :meth:`Indexer.rebuild <registry.store.indexer.Indexer.rebuild>` repairs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update
from web3.contract import Contract
from web3.exceptions import Web3RPCError

from registry.chain.deploy import Deployment
from registry.errors import ChainError
from registry.store.archive import ChainArchive
from registry.store.indexer.fold import TitleRow, replay
from registry.store.indexer.tables import CHECKPOINTS, EBLS, EVENTS, KEYS, ORGS, save_checkpoint
from registry.types import KeyStatus, OrgStatus

__all__ = ["Rewind"]

log = logging.getLogger("registry.store.indexer")


@dataclass(frozen=True)
class Rewind:
    """Reorg handling for one indexer's checkpoint ``name`` over ``deployment``."""

    archive: ChainArchive
    engine: Engine
    deployment: Deployment
    contract: Contract
    name: str

    def resume_block(self, checkpoint: tuple[int, str] | None, reorg_depth: int) -> int:
        """First block to fetch: after ``checkpoint`` (rolled back on a reorg) or the deployment block."""
        if checkpoint is None:
            return self.deployment.block_number
        last, stored_hash = checkpoint
        if self.archive.block_hash(last) == stored_hash:
            return last + 1
        # Never roll back to a block the chain does not have (a chain restored from an older state
        # can be far below the checkpoint), then deeper while the newest event kept is not on chain.
        tip = self.archive.tip()
        head = tip[0] if tip else self.deployment.block_number - 1
        target = max(min(last - max(reorg_depth, 1), head), self.deployment.block_number - 1)
        log.warning("reorg: block %d changed or vanished; rolling the index back to block %d", last, target)
        self.rollback(target)
        return self.deepen(target) + 1

    def deepen(self, block: int) -> int:
        """Roll back to the newest indexed block at or below ``block`` that is provably on the chain;
        returns the block the index now ends at.

        Proof is the block hash the newest kept event was indexed from: block hashes chain, so when the
        chain's block at that height still has it, every older block is unchanged too. The index then
        ends at that block, not at ``block``: the chain's blocks above it may be new (a restored chain
        mines new blocks, and a resubmitted transaction can land at the very height it had before, so
        a receipt alone proves nothing). Rows indexed before events carried their block hash fall back
        to where the archive holds the transaction.
        """
        while block >= self.deployment.block_number:
            with self.engine.connect() as conn:
                newest = conn.execute(
                    select(EVENTS.c.block_number, EVENTS.c.block_hash, EVENTS.c.tx_hash)
                    .where(EVENTS.c.block_number <= block)
                    .order_by(EVENTS.c.block_number.desc())
                    .limit(1)
                ).first()
            if newest is None:
                return block
            event_block = int(newest.block_number)
            if newest.block_hash is not None:
                confirmed = self.archive.block_hash(event_block) == newest.block_hash
            else:
                found = self.archive.transaction(newest.tx_hash)
                confirmed = found is not None and found[0] == event_block
            if confirmed:
                if event_block < block:
                    self.rollback(event_block)
                return event_block
            block = max(event_block - 1, self.deployment.block_number - 1)
            log.warning("reorg deeper than expected: rolling the index back to block %d", block)
            self.rollback(block)
        return block

    def rollback(self, block: int) -> None:
        """Forget everything above ``block`` and rebuild what it touched (see the module docstring)."""
        with self.engine.begin() as conn:
            touched = sorted(
                str(r[0])
                for r in conn.execute(select(EVENTS.c.ebl_id).where(EVENTS.c.block_number > block).distinct())
            )
            conn.execute(delete(EVENTS).where(EVENTS.c.block_number > block))
            conn.execute(delete(EBLS).where(EBLS.c.issued_block > block))
            for ebl_id in touched:
                row = conn.execute(select(EBLS).where(EBLS.c.ebl_id == ebl_id)).mappings().first()
                if row is None:
                    continue
                events = conn.execute(
                    select(EVENTS).where(EVENTS.c.ebl_id == ebl_id, EVENTS.c.seq > 0).order_by(EVENTS.c.seq)
                ).mappings()
                state: TitleRow = replay(dict(row), events)  # type: ignore[arg-type]
                conn.execute(update(EBLS).where(EBLS.c.ebl_id == ebl_id).values(**state))
            conn.execute(delete(KEYS).where(KEYS.c.added_block > block))
            conn.execute(
                update(KEYS)
                .where(KEYS.c.revoked_block > block)
                .values(status=KeyStatus.ACTIVE.name, revoked_block=None)
            )
            conn.execute(delete(ORGS).where(ORGS.c.registered_block > block))
            for (org,) in conn.execute(select(ORGS.c.address).where(ORGS.c.status_block > block)).all():
                status = self._standing(org, block)
                conn.execute(
                    update(ORGS)
                    .where(ORGS.c.address == org)
                    .values(status=OrgStatus(status).name, status_block=block)
                )
            if block < self.deployment.block_number:
                conn.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.name == self.name))
            else:
                save_checkpoint(conn, self.name, block, self._block_hash(block))

    def _standing(self, org: str, block: int) -> int:
        """The organisation's standing at ``block``; the chain's current one when the chain keeps no state
        there (pruned history, or an embedded chain restored from its dump, which holds the head's state
        only). The sync that follows the rollback replays the organisation's events above ``block``,
        whose last one leaves it at that current standing anyway."""
        registry = self.contract.functions
        try:
            return int(registry.organisation(org).call(block_identifier=block)[2])
        except Web3RPCError as exc:
            log.info("no state at block %d (%s): reading %s's standing at the head", block, exc, org)
            return int(registry.organisation(org).call()[2])

    def _block_hash(self, number: int) -> str:
        block_hash = self.archive.block_hash(number)
        if block_hash is None:
            raise ChainError(f"block {number} is not archived")
        return block_hash
