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
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

__all__ = ["SenderLock", "advisory_key"]


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
