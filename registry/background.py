"""A restartable daemon thread that runs one loop until it is told to stop.

The embedded chain's miner (:mod:`registry.chain.anvil_miner`) and its state persister
(:mod:`registry.chain.anvil_persist`) each run such a loop beside the node, started and stopped with it
and started again after a chain restart; with several workers, the supervisor's chain keeper
(:mod:`registry.chain_keeper`), each worker's leader election (:mod:`registry.leadership`) and the
leader's journal hand-off (:mod:`registry.workers`) do too.
"""

from __future__ import annotations

import threading
from typing import Self

__all__ = ["DaemonLoop"]


class DaemonLoop:
    """Runs :meth:`_run` on a daemon thread named :attr:`thread_name`; :meth:`_run` returns once
    ``self._halt`` is set (wait on it between rounds)."""

    thread_name = "daemon-loop"

    def __init__(self) -> None:
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the loop (again after a stop); nothing while it runs."""
        if self.running:
            return self
        self._halt.clear()
        self._starting()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def _starting(self) -> None:
        """Reset whatever a new run begins from (called before the thread starts)."""

    def _halt_thread(self, timeout: float) -> None:
        """Tell the loop to stop and wait up to ``timeout`` seconds for it."""
        self._halt.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=timeout)

    def _run(self) -> None:
        raise NotImplementedError
