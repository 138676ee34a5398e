"""Recovery: resubmit what the journal holds unfinished, and what a restored chain lost.

Resubmission is safe: each journaled entry carries its own nonce, which the contract spends on the
first execution, so an entry executes at most once, and the journal makes sure it executes at least
once. :meth:`Recovery.recover` runs on the runtime's thread at start-up, and on the chain watchdog's
thread after an outage (behind the closed write gate) and every few seconds for sends that failed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from web3 import Web3
from web3.contract import Contract

from registry.chain.rpc import receipt_on_chain, rpc
from registry.store.archive import ChainArchive, archived_receipt
from registry.title.entries import entry_from_dict
from registry.title.outbox import Outbox
from registry.title.ports import Journal, JournalEntry

__all__ = ["Recovery"]


class Recovery:
    """Resubmits journaled operations through the outbox's relayer.

    Args:
        w3: connection to the ledger (receipts and blocks, to tell whether a final operation survived).
        registry: the deployed registry contract (its ``nonceUsed`` view).
        journal: the operation journal.
        outbox: the outbox that tracks the resubmitted entries.
        archive: the registry's chain archive, asked for a transaction whose receipt the node no
            longer serves (pruned), so that it is not taken for lost.
    """

    def __init__(
        self,
        w3: Web3,
        registry: Contract,
        journal: Journal,
        outbox: Outbox,
        archive: ChainArchive | None = None,
    ) -> None:
        self._w3 = w3
        self._archive = archive
        self._registry = registry
        self._journal = journal
        self._outbox = outbox

    def recover(self, *, recheck_final_since: datetime | None = None, min_age: float = 0.0) -> int:
        """Resubmit every journaled operation that is not final; returns how many were resubmitted.

        An entry whose nonce is already spent on chain executed before the crash: it is marked final.
        An entry past its signature deadline can never execute: it is marked failed.

        Args:
            recheck_final_since: also re-check the operations that became final since then (the chain
                may have lost them: an embedded chain restored from a state dump older than their
                block). One whose transaction is no longer on chain and whose nonce is unused is
                reopened and resubmitted, in journal order with the unfinished ones.
            min_age: skip operations updated less than this many seconds ago (a periodic retry must not
                race a request that is just submitting its own operation). Operations this process is
                already tracking are always skipped.
        """
        rows = [r for r in self._journal.unfinished() if not self._outbox.tracking(r.operation_id)]
        if min_age > 0:
            cutoff = datetime.now(UTC).timestamp() - min_age
            rows = [r for r in rows if r.updated_at is None or _timestamp(r.updated_at) <= cutoff]
        if recheck_final_since is not None:
            rows += self._lost_final(recheck_final_since)
        rows.sort(key=lambda r: _timestamp(r.created_at) if r.created_at is not None else 0.0)
        now = time.time()
        resubmitted = 0
        for row in rows:
            entry = entry_from_dict(row.entry)
            if self._registry.functions.nonceUsed(entry.signer, entry.message.nonce).call():
                if row.status != "final":
                    self._journal.mark(
                        row.operation_id, "final", error_detail="recovered: executed before restart"
                    )
                continue
            if entry.message.deadline < now:
                self._journal.reopen(row.operation_id, "expired before it could be executed")
                self._journal.mark(
                    row.operation_id,
                    "failed",
                    error_code="TitleExpiredSignature",
                    error_detail="the signature expired before the operation could be (re)submitted",
                )
                continue
            if row.status == "final":
                self._journal.reopen(
                    row.operation_id, "resubmitted: the chain lost the block it was final in"
                )
            self._outbox.resubmit(row.operation_id, entry)
            resubmitted += 1
        return resubmitted

    def _lost_final(self, since: datetime) -> list[JournalEntry]:
        """Operations final since ``since`` whose transaction the chain no longer has.

        A receipt found by transaction hash is not proof: a node restored from a state dump can still
        answer for a transaction of a block it lost (anvil keeps it by hash), so the receipt's block
        must be at or below the head and be the block the chain now has at that height. A node that
        pruned the block serves no receipt: the archive's record of it is judged the same way.
        """
        by_tx: dict[str | None, list[JournalEntry]] = {}
        for row in self._journal.final_since(since):
            if not self._outbox.tracking(row.operation_id):
                by_tx.setdefault(row.tx_hash, []).append(row)
        lost: list[JournalEntry] = []
        head = int(rpc(self._w3, "eth_blockNumber", []), 16)
        block_hashes: dict[int, str | None] = {}
        for tx_hash, rows in by_tx.items():
            if tx_hash is not None:
                receipt = rpc(self._w3, "eth_getTransactionReceipt", [tx_hash]) or archived_receipt(
                    self._archive, tx_hash
                )
                if receipt and receipt_on_chain(self._w3, receipt, head, block_hashes):
                    continue  # still on chain
            lost += rows  # no receipt, a stale one, or final without one: recover() checks each nonce
        return lost


def _timestamp(moment: datetime) -> float:
    """Unix seconds of a journal timestamp (SQLite hands them back without a time zone: UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
