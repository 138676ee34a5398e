"""The write gate: new title operations wait out a chain recovery instead of racing it.

After the chain loses blocks (an embedded anvil restarted from an older state dump, a node that came
back rolled back), the journal resubmits the acknowledged operations the chain lost, oldest first. A
new request that reached the restored chain before them would be simulated against a state that lacks
them and could execute ahead of them: a holder's transfer landing before the endorsement the same
holder signed first, which then fails — an acknowledged operation lost. So while the runtime recovers
the gate is closed: new writes are refused with :class:`~registry.errors.LedgerUnavailableError` (503
and Retry-After at the API; clients retry with their Idempotency-Key), and closing waits until every
write already past the gate has handed its entry to the relayer, whose reset then drops it unsent.

Hand-written rather than a library readers-writer lock: the "readers" here never block (a closed gate
refuses at once), and closing must wait for the writers in flight with a timeout — a dozen lines on a
:class:`threading.Condition`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from registry.errors import LedgerUnavailableError

__all__ = ["SharedFlag", "WriteGate"]

log = logging.getLogger(__name__)


class SharedFlag(Protocol):
    """The gate shared with the other workers (:class:`registry.store.sender_lock.RecoveryFlag`)."""

    def raise_flag(self) -> None: ...

    def lower_flag(self) -> None: ...

    def raised(self) -> bool: ...


class WriteGate:
    """Open: writes pass (any number at once). Closed: writes are refused until it opens again.

    With several gateway workers (:meth:`share`) the relayer leader's gate is every worker's: closing
    it raises a flag in the database, and a worker's write is refused while the flag is up.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._reason: str | None = None
        self._passing = 0
        self._flag: SharedFlag | None = None
        self._watch = False
        self._fence: Callable[[], bool] | None = None

    def share(self, flag: SharedFlag, *, leading: bool, fence: Callable[[], bool] | None = None) -> None:
        """Share this gate through ``flag``: the leader (``leading``) raises it while closed; the
        others refuse writes while it is up. With ``fence`` (an embedded chain the supervisor keeps:
        :meth:`registry.chain_keeper.ChainFence.holds`), every worker's writes, the leader's too, are
        also refused while the chain is served by a process the leader has not yet recovered."""
        self._flag, self._watch, self._fence = flag, not leading, fence

    @property
    def is_open(self) -> bool:
        """True while writes are let through."""
        with self._cond:
            return self._reason is None

    @contextmanager
    def passage(self) -> Iterator[None]:
        """Hold the gate open for one write, from its simulation until the relayer has its entry.

        Raises:
            LedgerUnavailableError: the gate is closed (the chain is down or being recovered).
        """
        with self._cond:
            if self._reason is not None:
                raise LedgerUnavailableError(self._reason)
            flag = self._flag if self._watch else None
        if flag is not None and flag.raised():  # the leader is recovering what the chain lost
            raise LedgerUnavailableError("the ledger is recovering; retry shortly")
        if self._fence is not None and not self._fence():  # restarted; the leader has not yet seen it
            raise LedgerUnavailableError("the ledger is recovering; retry shortly")
        with self._cond:
            self._passing += 1
        try:
            yield
        finally:
            with self._cond:
                self._passing -= 1
                self._cond.notify_all()

    def close(self, reason: str, timeout: float = 30.0) -> bool:
        """Refuse new writes; wait up to ``timeout`` seconds for the writes already past the gate.

        Returns False when some were still passing at the timeout (a write stuck on an unresponsive
        node); the relayer's reset drops their entries unsent either way, and the journal recovers them.
        """
        deadline = time.monotonic() + timeout
        if self._flag is not None and not self._watch:
            try:  # before the writes in flight drain: no other worker starts one meanwhile
                self._flag.raise_flag()
            except Exception:  # the database is away: the other workers' writes fail on it anyway
                log.warning("could not raise the shared recovery flag", exc_info=True)
        with self._cond:
            self._reason = reason
            while self._passing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("write gate closed with %d writes still passing", self._passing)
                    return False
                self._cond.wait(remaining)
            return True

    def open(self) -> None:
        """Let writes through again."""
        with self._cond:
            self._reason = None
        if self._flag is not None and not self._watch:
            self._flag.lower_flag()
