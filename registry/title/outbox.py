"""The outbox: every write's way from a signed entry to a final journal row.

simulate → journal → relay → finish. :meth:`Outbox.run` runs on the caller's thread (a gateway worker
thread, or the CLI's main thread), inside the write gate:

1. simulate the entry against the chain (one raw ``eth_call``), so an illegal request fails at once with
   its decoded custom error (not holder, wrong state, suspended member ...) and is never journaled;
2. journal it, already ``submitted``, with its signed entry — from here on it is acknowledged and will
   not be lost;
3. hand it to the relayer, whose batch thread sends it in a batch transaction; the entry's future is
   tracked here.

The relayer's watch thread resolves the future when the transaction is final: :meth:`_journal_resolved`
(a relayer listener) first journals every entry of that transaction that took effect in one write, then
the future's done callback (:meth:`_done`) journals what failed, one by one (:meth:`_finish`).
:meth:`wait` blocks the caller until then and, for a final operation, until the index shows it too.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from eth_typing import ChecksumAddress
from web3 import Web3

from registry.chain.abi import EXECUTE, ISSUE_SIGNED
from registry.chain.errors import rpc_revert
from registry.chain.relayer import EntryResult, Relayer, SignedEntry
from registry.chain.rpc import raw_call
from registry.chain.views import ChainHead
from registry.errors import ChainError, ContractRevertError, TransactionFailedError
from registry.title.entries import entry_from_dict, entry_to_dict
from registry.title.gate import WriteGate
from registry.title.model import Operation, WriteOptions
from registry.title.ports import Journal, JournalEntry
from registry.types import Action, EblId

__all__ = ["JOURNAL_POLL", "Outbox"]

JOURNAL_POLL = 0.05
"""Longest pause (seconds) between reads of a journal row another process relays."""


class Outbox:
    """Simulates, journals and relays signed entries, and journals their outcome.

    Args:
        w3: connection to the ledger (for the simulation).
        address: the registry contract.
        relayer: a started relayer.
        journal: the operation journal.
        head: the chain head the service answers reads at (moved forward by every final operation).
        result_timeout: seconds :meth:`wait` blocks before answering the operation as it stands.
    """

    def __init__(
        self,
        w3: Web3,
        address: ChecksumAddress,
        relayer: Relayer,
        journal: Journal,
        head: ChainHead,
        result_timeout: float,
    ) -> None:
        self._w3 = w3
        self._address = address
        self._relayer = relayer
        self._journal = journal
        self._head = head
        self.result_timeout = result_timeout
        self.writes = WriteGate()
        """Closed by the runtime while it recovers what the chain lost (see :mod:`registry.title.gate`)."""
        self.index_barrier: Callable[[int], object] | None = None
        """Called with the block an operation became final in before :meth:`wait` answers it final (the
        runtime's ``await_indexed``); None: no index follows the chain in this process."""
        self.relays = True
        """False in a gateway worker that is not the relayer leader (see :mod:`registry.leadership`):
        :meth:`run` journals the operation ``pending`` with no attempt and leaves it to the leader,
        which claims it (:meth:`adopt`); :meth:`wait` then follows the journal."""
        self._futures: dict[str, Future[EntryResult]] = {}
        self._operation_of: dict[Future[EntryResult], str] = {}
        # Futures whose outcome was journaled with their whole transaction (see _journal_resolved).
        self._batched: weakref.WeakSet[Future[EntryResult]] = weakref.WeakSet()
        on_resolved = getattr(relayer, "on_resolved", None)
        if on_resolved is not None:
            on_resolved(self._journal_resolved)

    # ------------------------------------------------------------------ the caller's thread

    def replay(self, org: ChecksumAddress, key: str | None, request_hash: str) -> Operation | None:
        """The operation an idempotency key already names for this request, if any (None without a key).

        Raises:
            IdempotencyConflictError: the key was used for a different request.
        """
        if key is None:
            return None
        found = self._journal.find_idempotent(org, key, request_hash)
        return self._indexed(Operation.from_journal(found)) if found is not None else None

    def run(
        self,
        org: ChecksumAddress,
        action: Action,
        ebl_id: EblId,
        entry: SignedEntry,
        request_hash: str,
        options: WriteOptions,
        before_submit: Callable[[], None] | None = None,
    ) -> Operation:
        """Simulate, journal and hand to the relayer, all inside the write gate (closed while the
        runtime recovers what the chain lost, so no new write runs ahead of what it resubmits); then,
        with ``options.wait``, :meth:`wait`.

        Raises:
            LedgerUnavailableError: the write gate is closed (retry).
            ContractRevertError: the simulation reverted (nothing journaled).
        """
        with self.writes.passage():
            self._simulate(entry)
            if before_submit is not None:
                before_submit()
            # Journaled (one write, already as submitted) with its signed entry before the relayer sees it.
            operation_id = str(uuid.uuid4())
            relays = self.relays
            row = self._journal.record(
                JournalEntry(
                    operation_id=operation_id,
                    org=org,
                    action=action,
                    ebl_id=ebl_id,
                    entry=entry_to_dict(entry),
                    status="submitted" if relays else "pending",
                    idempotency_key=options.idempotency_key,
                    request_hash=request_hash,
                )
            )
            if row.operation_id != operation_id or row.operation_id in self._futures:
                return Operation.from_journal(row)  # an idempotent replay raced us
            if relays:  # else acknowledged once journaled: the relayer leader claims it (adopt)
                try:
                    future = self._relayer.submit(entry)
                except ChainError as exc:
                    self._journal.mark(row.operation_id, "failed", error_code=exc.code, error_detail=str(exc))
                    raise
                self.track(row.operation_id, future)
        if options.wait:
            return self.wait(row.operation_id)
        return Operation.from_journal(row)

    def wait(self, operation_id: str, timeout: float | None = None) -> Operation:
        """Block until an operation submitted by this process is final or failed (and, when final, in
        the index: :attr:`index_barrier`)."""
        future = self._futures.get(operation_id)
        if future is not None:
            future.exception(timeout=timeout or self.result_timeout)  # waits; errors are journaled
            if future not in self._batched:
                self._finish(operation_id, future)
        elif not self.relays:  # another process relays it: follow its journal row
            return self._indexed(Operation.from_journal(self._follow_journal(operation_id, timeout)))
        return self._indexed(Operation.from_journal(self._journal.get(operation_id)))

    def _follow_journal(self, operation_id: str, timeout: float | None) -> JournalEntry:
        """The operation's journal row once final or failed, or as it stands after ``timeout``."""
        deadline = time.monotonic() + (timeout or self.result_timeout)
        pause = 0.01
        while True:
            row = self._journal.get(operation_id)
            if row.status in ("final", "failed") or time.monotonic() >= deadline:
                return row
            time.sleep(pause)
            pause = min(pause * 2, JOURNAL_POLL)

    def adopt(self, rows: Sequence[JournalEntry]) -> None:
        """Relay operations another gateway worker journaled (claimed from the journal by the relayer
        leader, see :mod:`registry.leadership`), and journal their outcomes as for this process's own."""
        for row in rows:
            if not self.tracking(row.operation_id):
                self.resubmit(row.operation_id, entry_from_dict(row.entry))

    def tracking(self, operation_id: str) -> bool:
        """True while this process waits for the operation's transaction (recovery leaves it alone)."""
        return operation_id in self._futures

    def resubmit(self, operation_id: str, entry: SignedEntry) -> None:
        """Hand a journaled entry to the relayer again and track it (see :mod:`registry.title.recovery`)."""
        self.track(operation_id, self._relayer.submit(entry))

    def track(self, operation_id: str, future: Future[EntryResult]) -> None:
        """Journal the outcome of ``future`` for the operation when it resolves."""
        self._futures[operation_id] = future
        self._operation_of[future] = operation_id
        future.add_done_callback(lambda f: self._done(operation_id, f))

    def _indexed(self, op: Operation) -> Operation:
        """``op``, once a final one is in the index too (see :attr:`index_barrier`)."""
        if self.index_barrier is not None and op.status == "final" and op.block_number is not None:
            self.index_barrier(op.block_number)
        return op

    def _simulate(self, entry: SignedEntry) -> None:
        function = ISSUE_SIGNED if entry.kind == "issuance" else EXECUTE
        # One raw eth_call: web3's call path (formatters, middleware) costs more than the call itself.
        reply = raw_call(self._w3, self._address, function.encode(entry.as_tuple()))
        error = reply.get("error")
        if error is None:
            return
        revert = rpc_revert(error)
        if revert is not None:
            raise revert
        raise ChainError(f"simulating the operation failed: {error}")

    # ------------------------------------------------------------------ the relayer's threads

    def _done(self, operation_id: str, future: Future[EntryResult]) -> None:
        self._operation_of.pop(future, None)
        if future in self._batched:  # already journaled with its whole transaction
            self._futures.pop(operation_id, None)
        else:
            self._finish(operation_id, future)

    def _journal_resolved(self, results: Sequence[tuple[Future[EntryResult], EntryResult]]) -> None:
        """Relayer listener: journal every entry of one transaction that took effect in one write,
        before their futures resolve (so a waiter wakes to a final journal row). Failed entries are
        left to :meth:`_finish`, one by one."""
        finals: list[tuple[str, str, int]] = []
        done: list[Future[EntryResult]] = []
        for future, result in results:
            operation_id = self._operation_of.get(future)
            if operation_id is not None and result.ok:
                finals.append((operation_id, result.tx_hash, result.block_number))
                done.append(future)
        if not finals:
            return
        self._journal.mark_final_many(finals)
        self._head.observe(max(block for _, _, block in finals))
        for future in done:
            self._batched.add(future)

    def _finish(self, operation_id: str, future: Future[EntryResult]) -> None:
        """Write a finished entry's outcome to the journal (idempotent: the callback and a waiter may
        both call it)."""
        try:
            result = future.result()
        except (ContractRevertError, TransactionFailedError) as exc:
            name = getattr(exc, "error_name", "") or exc.code  # as for a reverted result below
            self._journal.mark(operation_id, "failed", error_code=name, error_detail=str(exc))
        except Exception as exc:
            # The relayer could not send, or dropped the transaction when the chain restarted: nothing
            # says the entry cannot execute. Leave it pending; recover() (the runtime's periodic retry)
            # checks its nonce on chain and resubmits it.
            self._journal.mark(operation_id, "pending", error_detail=f"{type(exc).__name__}: {exc}")
        else:
            self._head.observe(result.block_number)
            if result.ok:
                self._journal.mark(
                    operation_id, "final", tx_hash=result.tx_hash, block_number=result.block_number
                )
            elif _spent_by_earlier_submission(result.error, operation_id, self._journal):
                # A resubmitted copy found its own nonce spent: an earlier submission executed it.
                self._journal.mark(
                    operation_id, "final", error_detail="executed by an earlier submission of the same entry"
                )
            else:
                error = result.error
                assert error is not None
                self._journal.mark(
                    operation_id,
                    "failed",
                    tx_hash=result.tx_hash,
                    block_number=result.block_number,
                    error_code=getattr(error, "error_name", "") or error.code,
                    error_detail=str(error),
                )
        self._futures.pop(operation_id, None)


def _spent_by_earlier_submission(error: Exception | None, operation_id: str, journal: Journal) -> bool:
    """True when an entry failed only because its own nonce was already spent (``TitleNonceUsed`` for
    the entry's signer and nonce): a copy submitted before (and lost from view in a restart) ran."""
    if getattr(error, "error_name", "") != "TitleNonceUsed":
        return False
    args = getattr(error, "args_by_name", {}) or {}
    entry = journal.get(operation_id).entry
    return str(args.get("signer", "")).lower() == str(entry["signer"]).lower() and int(
        args.get("nonce", -1)
    ) == int(entry["message"]["nonce"])
