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
from collections.abc import Iterator
from contextlib import contextmanager

from registry.errors import LedgerUnavailableError

__all__ = ["WriteGate"]

log = logging.getLogger(__name__)


class WriteGate:
    """Open: writes pass (any number at once). Closed: writes are refused until it opens again."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._reason: str | None = None
        self._passing = 0

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
