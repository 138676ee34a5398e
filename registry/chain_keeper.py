"""The supervisor's keeper of the embedded chain that several gateway workers share.

With ``ebl serve --workers N`` (:mod:`registry.workers`) the supervisor starts the embedded anvil and
hands its URL to the workers; no worker owns it. The relayer leader's chain watchdog
(:class:`registry.watchdog.ChainWatchdog`) sees the chain go away and come back, closes the write gate
and resubmits what the restored chain lost, but it cannot restart a process it did not start. The
:class:`ChainKeeper` runs in the supervisor, on its own thread, and does what the watchdog does for
the embedded chain of a single process: when anvil dies (``kill -9``, OOM) it is started again in
place, on the same port, from its state file (or that file's backup when the last dump is torn), and
its state file is backed up, never more than :data:`~registry.watchdog.BACKUP_EVERY` seconds behind
the newest dump.

A restart can be quicker than the leader's probe, and the restored chain may have lost blocks whose
operations were already reported final: :func:`kept_chain` lets the leader's watchdog tell a restarted
chain from the one it saw before, by the pidfile the chain keeps beside its state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from registry.chain.anvil import AnvilProcess
from registry.chain.anvil_leftovers import pidfile_path, recorded_instance
from registry.watchdog import BACKUP_EVERY, RESTART_BACKOFF, WATCH_EVERY

__all__ = ["ChainKeeper", "kept_chain"]

log = logging.getLogger(__name__)


class ChainKeeper:
    """Restarts the supervisor's embedded anvil when it dies and backs its state up, until stopped.

    Args:
        anvil: the running embedded chain (started by the supervisor).
    """

    def __init__(self, anvil: AnvilProcess) -> None:
        self._anvil = anvil
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chain-keeper", daemon=True)
        self.restarts = 0
        """How many times the chain was restarted."""

    def start(self) -> ChainKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop keeping (before the supervisor stops the chain, so it is not restarted)."""
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        anvil = self._anvil
        next_restart = 0.0
        backups = anvil.backup_schedule(BACKUP_EVERY, WATCH_EVERY)
        while not self._stop.wait(WATCH_EVERY):
            try:
                if anvil.exit_code is not None or anvil.pid is None:
                    if time.monotonic() < next_restart:
                        continue
                    next_restart = time.monotonic() + RESTART_BACKOFF
                    log.error(
                        "the embedded chain (anvil) exited with status %s; restarting it from its state",
                        anvil.exit_code,
                    )
                    anvil.restart()
                    self.restarts += 1
                    log.warning("the embedded chain is back on %s", anvil.url)
                elif backups is not None:
                    backups.tick()
            except Exception:  # keep keeping; the next round retries
                log.exception("chain keeper round failed")


def kept_chain(state_path: Path) -> Callable[[], object | None]:
    """Which anvil process serves the kept chain of ``state_path`` now (pid and start time, from its
    pidfile; None while unreadable): the ``instance`` of a worker's
    :class:`~registry.watchdog.ChainWatchdog`."""
    pidfile = pidfile_path(state_path)
    return lambda: recorded_instance(pidfile)
