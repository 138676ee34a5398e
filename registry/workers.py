"""Several gateway processes on one journal: ``ebl serve --workers N`` / ``make run WORKERS=N``.

The supervisor (:func:`serve_workers`, the process the operator starts):

1. refuses N > 1 unless the database is PostgreSQL (SQLite is one process's file);
2. takes the data-folder lock (:mod:`registry.data_lock`) for the whole server: the N workers are one
   registry, and a second, unrelated one is still refused;
3. starts the embedded chain once (or uses ``EBL_RPC_URL``) and hands its URL to the workers;
4. opens the registry once itself as the first leader: deploys on a first start, migrates, runs the
   restart recovery (re-checking what a restored chain may have lost) and ``prepare`` (``make run``'s
   demo bootstrap), then closes it;
5. runs uvicorn with N worker processes (``api.workers:create_worker_app``), which restarts a worker
   that dies, while its :class:`~registry.chain_keeper.ChainKeeper` restarts the embedded chain when
   it dies; and stops the chain and frees the folder when it is stopped.

Each worker opens a :class:`~registry.runtime.Runtime` with a :class:`WorkerPlan`: no chain of its own,
no data-folder lock of its own (it checks that its supervisor holds it), and the relayer and the other
run-once duties only while it is the leader (:mod:`registry.leadership`). The leader's
:class:`Handoff` claims the operations the other workers journaled and relays them.

Shared through the database or the host: idempotency keys (the journal's ``idempotency_keys`` table),
credential revocation (each worker re-reads a cached credential's row every half second, see
:mod:`registry.store.credentials`), and rate limits (``EBL_RATE_LIMIT_FILE``, a SQLite file every
worker on the host counts in; the supervisor sets it to ``<data>/rate-limits.sqlite`` when unset).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registry.background import DaemonLoop
from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.errors import ConfigurationError
from registry.store.journal import SqlJournal

if TYPE_CHECKING:
    from registry.runtime import Runtime
    from registry.title import TitleService

__all__ = [
    "HANDOFF_EVERY",
    "Handoff",
    "WorkerPlan",
    "require_postgres",
    "serve_workers",
    "watch_supervisor",
]

log = logging.getLogger(__name__)

HANDOFF_EVERY = 0.02
"""Seconds between the leader's claims of operations the other workers journaled."""

WORKER_HEALTHCHECK = 60
"""Seconds a worker may take to answer uvicorn's liveness ping before it is replaced."""

LEAD_WAIT = 30.0
"""Seconds the supervisor waits for the relayer lead at start (a dead predecessor's workers exit)."""

ORPHANED_EXIT = 76
"""Exit status of a worker whose supervisor died."""

_CHAIN_URL = "EBL_WORKER_CHAIN_URL"
_SUPERVISOR = "EBL_WORKER_SUPERVISOR_PID"


@dataclass(frozen=True)
class WorkerPlan:
    """How one gateway worker opens the registry its supervisor prepared.

    Args:
        chain_url: the chain every worker uses (the supervisor's embedded anvil, or ``EBL_RPC_URL``).
        supervisor_pid: the process that holds the data-folder lock for the workers.
    """

    chain_url: str
    supervisor_pid: int

    def env(self) -> dict[str, str]:
        """The environment that hands this plan to the worker processes."""
        return {_CHAIN_URL: self.chain_url, _SUPERVISOR: str(self.supervisor_pid)}

    @classmethod
    def from_env(cls) -> WorkerPlan:
        """The plan :func:`serve_workers` handed down.

        Raises:
            ConfigurationError: this process was not started by ``ebl serve --workers``.
        """
        url, pid = os.environ.get(_CHAIN_URL), os.environ.get(_SUPERVISOR)
        if not url or not pid or not pid.isdigit():
            raise ConfigurationError("a gateway worker is started by `ebl serve --workers N`, not alone")
        return cls(url, int(pid))


def watch_supervisor(supervisor_pid: int) -> None:
    """Exit this worker as soon as its supervisor is gone (killed with ``kill -9``, it cannot stop its
    workers): an orphaned worker would keep the relayer lead and the chain from the next start."""
    if os.getpid() == supervisor_pid:  # the supervisor's own start-up runtime
        return

    def watch() -> None:
        while os.getppid() == supervisor_pid:
            time.sleep(0.5)
        log.critical("the supervisor (pid %d) is gone: this worker exits", supervisor_pid)
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def require_postgres(settings: Settings, workers: int) -> None:
    """Refuse several workers on anything but PostgreSQL.

    Raises:
        ConfigurationError: ``workers`` < 1, or > 1 without a PostgreSQL ``EBL_DATABASE_URL``.
    """
    if workers < 1:
        raise ConfigurationError("--workers needs at least 1")
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        raise ConfigurationError(
            f"--workers {workers} needs PostgreSQL: several processes cannot share the SQLite journal; "
            "set EBL_DATABASE_URL=postgresql+psycopg://... (or serve with one worker)"
        )


class Handoff(DaemonLoop):
    """The leader's thread that claims operations other workers journaled and relays them.

    It claims nothing while the write gate is closed (the leader is resubmitting what the chain lost:
    no new write may run ahead of it); those operations wait in the journal until the gate opens.
    """

    thread_name = "journal-handoff"

    def __init__(self, journal: SqlJournal, title: TitleService) -> None:
        super().__init__()
        self._journal, self._title = journal, title

    def stop(self) -> None:
        self._halt_thread(timeout=10)

    def _run(self) -> None:
        failing = False
        while not self._halt.wait(HANDOFF_EVERY):
            if not self._title.writes.is_open:
                continue
            try:
                rows = self._journal.claim_unsent()
                if rows:
                    self._title.adopt(rows)
            except Exception:  # the database or the chain is away: the next round retries
                if not failing:
                    log.exception("handing journaled operations to the relayer failed (retrying)")
                failing = True
            else:
                failing = False


def serve_workers(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    holder: str,
    url: str,
    prepare: Callable[[Runtime], None] | None = None,
) -> None:
    """Serve the gateway with ``workers`` processes until stopped (see the module docstring).

    Raises:
        ConfigurationError: not PostgreSQL (nothing was started).
        RegistryInUseError: another live process holds the data folder (nothing was touched).
    """
    import uvicorn

    from registry.chain_keeper import ChainKeeper
    from registry.runtime import Runtime
    from registry.runtime_parts import start_embedded_chain

    require_postgres(settings, workers)
    lock = DataFolderLock(settings.data_dir).acquire(f"{holder} ({workers} workers)", url)
    anvil = None
    keeper: ChainKeeper | None = None
    try:
        if settings.embedded_chain:
            anvil = start_embedded_chain(settings)
        chain_url = anvil.url if anvil is not None else settings.rpc_url
        assert chain_url is not None
        plan = WorkerPlan(chain_url, os.getpid())
        with Runtime.open(settings, worker=plan, restored_chain=anvil) as runtime:
            # workers of a killed supervisor exit within a second (watch_supervisor): wait for their lead
            deadline = time.monotonic() + LEAD_WAIT
            while not runtime.leading:
                if time.monotonic() > deadline:
                    raise ConfigurationError(
                        "another gateway process leads this registry's relayer on this database"
                    )
                time.sleep(0.2)
            if prepare is not None:
                prepare(runtime)
        os.environ.update(plan.env())
        if settings.rate_limit_file is None:
            os.environ["EBL_RATE_LIMIT_FILE"] = str((settings.data_dir / "rate-limits.sqlite").resolve())
        if anvil is not None:  # no worker owns the chain: the leader's watchdog only sees it come back
            keeper = ChainKeeper(anvil).start()
        uvicorn.run(
            "api.workers:create_worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # a worker's start (imports, keystore, election, a leader's recovery) holds the GIL for
            # longer than uvicorn's 5 s health check allows on a busy host
            timeout_worker_healthcheck=WORKER_HEALTHCHECK,
            log_config=None,
            access_log=False,
        )
    finally:
        if keeper is not None:
            keeper.stop()
        if anvil is not None:
            anvil.stop()
        lock.release()
