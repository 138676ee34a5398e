"""One relayer leader among the gateway workers of one registry: a PostgreSQL advisory lock.

``ebl serve --workers N`` (:mod:`registry.workers`) runs N gateway processes on one database and one
chain. Every one of them serves HTTP and journals writes; exactly one, the *leader*, signs and sends
transactions (the relayer) and does what must run once: journal recovery, the index follower, the
chain watchdog, the DCSA callback drainer and PINT resumes. The others journal each write ``pending``
with no attempt; the leader claims those rows (:meth:`registry.store.journal.SqlJournal.claim_unsent`)
and relays them as its own.

The leader is whoever holds ``pg_try_advisory_lock(key)`` on a dedicated connection, kept open for the
leader's whole life. PostgreSQL releases a session's advisory locks when the session ends, so when the
leader dies (even by ``kill -9``) its connection closes, the lock frees, and the next worker to try
(every :data:`ELECTION_EVERY` seconds) takes it and recovers what the journal holds unfinished, as a
restart would. The connection carries ``application_name`` ``ebl-relayer-leader pid=N``, so an
operator (or a test) sees in ``pg_stat_activity`` which process leads.

A leader that loses its connection cannot know whether another has taken over: it exits at once
(:func:`os._exit`), and the supervisor starts a fresh worker. Nothing is lost: every acknowledged
operation is in the journal, and each signed entry's nonce makes a second submission harmless.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from registry.background import DaemonLoop
from registry.errors import ConfigurationError
from registry.store.sender_lock import advisory_key

__all__ = ["ELECTION_EVERY", "LEADER_APPLICATION", "Leadership", "leader_key"]

log = logging.getLogger(__name__)

ELECTION_EVERY = 1.0
"""Seconds between a follower's attempts to take the lead, and between the leader's liveness probes."""

LEADER_APPLICATION = "ebl-relayer-leader"
"""The ``application_name`` prefix of the leader's lock connection (``... pid=N``)."""

LOST_LEAD_EXIT = 75
"""Exit status of a leader whose lock connection broke (the supervisor starts another worker)."""


def leader_key(registry_address: str) -> int:
    """The advisory lock key of one registry deployment: a signed 64-bit integer from its address."""
    return advisory_key("ebl-relayer-leader", registry_address)


class Leadership(DaemonLoop):
    """Contends for the lead until :meth:`stop`; calls ``on_elected`` once, on this thread or its own.

    Args:
        engine: the registry's database (PostgreSQL); the lock connection is opened apart from its pool.
        key: the advisory lock key (:func:`leader_key`).
        on_elected: starts the leader's duties; called once, when the lock is taken.
    """

    thread_name = "leader-election"

    def __init__(self, engine: Engine, key: int, on_elected: Callable[[], None]) -> None:
        super().__init__()
        if engine.dialect.name != "postgresql":
            raise ConfigurationError("electing a relayer leader needs PostgreSQL (EBL_DATABASE_URL)")
        self._lock_engine = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={"application_name": f"ebl-gateway-worker pid={os.getpid()}"},
        )
        self._key = key
        self._on_elected = on_elected
        self._conn: Connection | None = None
        self.leading = False

    def _starting(self) -> None:
        """Try once now (so the first worker leads before it serves), then keep trying on the thread."""
        self._try_lead()

    def stop(self) -> None:
        """Stop contending and give the lead up (closing the connection releases the lock)."""
        self._halt_thread(timeout=10)
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # the session is gone either way
                log.debug("closing the leader lock connection failed", exc_info=True)
        self._lock_engine.dispose()
        self.leading = False

    def _run(self) -> None:
        while not self._halt.wait(ELECTION_EVERY):
            if self.leading:
                self._probe()
                continue
            try:
                self._try_lead()
            except Exception:  # elected, but the duties did not start: never hold the lead idle
                log.critical("the new relayer leader could not start its duties: exiting", exc_info=True)
                os._exit(LOST_LEAD_EXIT)

    def _try_lead(self) -> None:
        try:
            conn = self._lock_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:
            log.warning("cannot reach the database to contend for the relayer lead", exc_info=True)
            return
        try:
            taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            if taken:
                conn.execute(
                    text("SELECT set_config('application_name', :n, false)"),
                    {"n": f"{LEADER_APPLICATION} pid={os.getpid()}"},
                )
        except Exception:
            conn.close()
            log.warning("contending for the relayer lead failed", exc_info=True)
            return
        if not taken:
            conn.close()
            return
        self._conn = conn
        self.leading = True
        log.warning("this worker (pid %d) is the relayer leader", os.getpid())
        self._on_elected()

    def _probe(self) -> None:
        """The leader's check that its session (and so its lock) still stands."""
        assert self._conn is not None
        try:  # the lock lasts as long as the session: a live session still holds it
            held = self._conn.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            held = False
        if not held and not self._halt.is_set():
            log.critical("the relayer leader lost its database session: exiting (another worker leads)")
            os._exit(LOST_LEAD_EXIT)
