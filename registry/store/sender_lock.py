"""One sender at a time per sending account, across every gateway process on one database.

Title actions leave only through the relayer leader (:mod:`registry.leadership`). Governance
transactions (:class:`registry.governance.GovernanceSender`) and the PINT bridge's
(:class:`registry.title.bridge.PlatformBridge`) are sent by whichever process serves the request, each
from its one account. With ``ebl serve --workers N`` two workers could read the same pending nonce
and sign two transactions with it: one of them would be refused (or replace the other), and an
acknowledged action could be lost. A :class:`SenderLock` makes the nonce read, the signing and the send
(for governance, until the receipt) one critical section per account: a thread lock inside the
process and, on PostgreSQL, a transaction-scoped advisory lock keyed by the account, which PostgreSQL
releases when that transaction ends or its session dies (``kill -9`` included). On SQLite only one
process writes (:func:`registry.workers.require_postgres`): the thread lock is all there is.

:class:`RecoveryFlag` is the other lock the workers share: the leader's write gate, closed while it
recovers what a restored chain lost, so that no worker simulates a new write against that chain.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

__all__ = ["RecoveryFlag", "SenderLock", "advisory_key"]


def advisory_key(scope: str, name: str) -> int:
    """A PostgreSQL advisory lock key: a signed 64-bit integer from ``scope`` and ``name`` (an address)."""
    digest = hashlib.sha256(f"{scope}:{name.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SenderLock:
    """Serialises sending from one account (see the module docstring).

    Args:
        engine: the registry's database; None (or SQLite) locks within this process only.
        account: the sending account's address.
    """

    def __init__(self, engine: Engine | None, account: str) -> None:
        self._local = threading.Lock()
        self._engine = engine if engine is not None and engine.dialect.name == "postgresql" else None
        self._key = advisory_key("ebl-sender", account)

    @property
    def shared(self) -> bool:
        """Whether other processes may send from the account too: a nonce counted in this process is
        then stale, and must be read from the node's pending count under the lock."""
        return self._engine is not None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the account for one send (blocks while another thread or process holds it)."""
        with self._local:
            if self._engine is None:
                yield
                return
            with self._engine.begin() as conn:  # the lock ends with this transaction
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._key})
                yield


class RecoveryFlag:
    """The relayer leader's write gate, seen by every worker: closed while the leader recovers.

    The leader's watchdog closes its :class:`~registry.title.gate.WriteGate` while the chain is down
    or being recovered (what the chain lost is resubmitted before any new write). The other workers
    simulate writes against the same chain, so they must refuse them then too. While closed, the
    leader holds a session advisory lock keyed by the registry on a connection of its own
    (:meth:`raise_flag`); a worker's write first asks whether it could share that lock
    (:meth:`raised`); the flag drops with :meth:`lower_flag` or when the leader's session dies.

    Args:
        engine: the registry's database (PostgreSQL).
        registry_address: the deployment whose writes the flag gates.
    """

    def __init__(self, engine: Engine, registry_address: str) -> None:
        self._engine = engine
        self._key = advisory_key("ebl-recovering", registry_address)
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def raise_flag(self) -> None:
        """Hold the flag (idempotent): every worker's :meth:`raised` answers True until lowered."""
        with self._lock:
            if self._conn is not None:
                return
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self._key})
            self._conn = conn

    def lower_flag(self) -> None:
        """Release the flag (closing the session releases the lock even if the unlock fails)."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except Exception:  # never hand a session that may still hold the lock back to the pool
            conn.invalidate()
        finally:
            conn.close()

    def raised(self) -> bool:
        """Whether some process (the leader) holds the flag now."""
        with self._engine.begin() as conn:
            query = text("SELECT pg_try_advisory_xact_lock_shared(:k)")
            free = conn.execute(query, {"k": self._key}).scalar()
        return not free
