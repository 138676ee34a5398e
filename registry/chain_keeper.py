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
operations were already reported final: :class:`ChainFence` lets the leader's watchdog tell a restarted
chain from the one it saw before, by the pidfile the chain keeps beside its state, and lets every
worker refuse writes until the leader has recovered it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from registry.background import DaemonLoop
from registry.chain.anvil import AnvilProcess
from registry.chain.anvil_leftovers import pidfile_path, recorded_instance
from registry.watchdog import BACKUP_EVERY, RESTART_BACKOFF, WATCH_EVERY

__all__ = ["ChainFence", "ChainKeeper"]

log = logging.getLogger(__name__)


class ChainKeeper(DaemonLoop):
    """Restarts the supervisor's embedded anvil when it dies and backs its state up, until stopped.

    Args:
        anvil: the running embedded chain (started by the supervisor).
    """

    thread_name = "chain-keeper"

    def __init__(self, anvil: AnvilProcess) -> None:
        super().__init__()
        self._anvil = anvil
        self.restarts = 0
        """How many times the chain was restarted."""

    def stop(self) -> None:
        """Stop keeping (before the supervisor stops the chain, so it is not restarted)."""
        self._halt_thread(timeout=60)

    def _run(self) -> None:
        anvil = self._anvil
        next_restart = 0.0
        backups = anvil.backup_schedule(BACKUP_EVERY, WATCH_EVERY)
        while not self._halt.wait(WATCH_EVERY):
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


class ChainFence:
    """Which anvil process serves the kept chain now, and which one the relayer leader has recovered:
    a worker's writes pass only while the two are the same.

    The keeper restarts a dead chain in place, often before the leader's watchdog probes it (every
    :data:`~registry.watchdog.WATCH_EVERY` seconds). Until the leader has seen the restart and resent
    what the restored chain lost, a write any worker simulated would run against that older state: a
    governance action refused as "not a member" for an organisation whose onboarding the chain had lost
    and was about to get back (found by the multi-worker crash harness, seed 4163318506). The leader's
    watchdog records the process it has recovered (:meth:`vouch`, a file beside the pidfile); every
    worker's :class:`~registry.title.gate.WriteGate` asks :meth:`holds` before a write passes.

    Args:
        state_path: the kept chain's state file (the pidfile and the vouched record sit beside it).
    """

    def __init__(self, state_path: Path) -> None:
        self._pidfile = pidfile_path(state_path)
        self._vouched = state_path.parent / "anvil.vouched"

    def current(self) -> tuple[int, float] | None:
        """The (pid, start time) serving the chain now (its pidfile); None while unreadable."""
        return recorded_instance(self._pidfile)

    def vouch(self, instance: object | None) -> None:
        """Record that the leader has recovered the chain served by ``instance`` (atomic replace)."""
        if not isinstance(instance, tuple):
            return
        tmp = self._vouched.with_name(f"{self._vouched.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"pid": instance[0], "createTime": instance[1]}))
        os.replace(tmp, self._vouched)

    def vouched(self) -> tuple[int, float] | None:
        """The process the leader last recovered; None before any."""
        return recorded_instance(self._vouched)

    def holds(self) -> bool:
        """Whether the chain is served by the process the leader last recovered."""
        current = self.current()
        return current is not None and current == self.vouched()
