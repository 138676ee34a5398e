"""Engines and schema migrations for the registry's database (SQLite or PostgreSQL).

``create_engine_for(url)`` accepts any SQLAlchemy URL. ``postgresql://`` and ``postgres://`` are
mapped to the psycopg 3 driver. SQLite connections get WAL journaling (file databases), enforced
foreign keys and a busy timeout, so a reader (the API) and the indexer can share one file.

``write_lock(engine)`` serialises one process's write transactions on a SQLite database (see there).

``migrate(url_or_engine)`` runs Alembic's ``upgrade head`` with the environment shipped inside the
package (``registry/store/migrations``), independent of the current directory and of any
``alembic.ini``. It is idempotent.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "alembic_config",
    "create_engine_for",
    "migrate",
    "write_lock",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections per SQLite engine: enough that the gateway's request threads never queue for one.
SQLITE_POOL_SIZE = 16
SQLITE_MAX_OVERFLOW = 48

_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the registry's connection settings; extra ``kwargs`` go to SQLAlchemy."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    memory = parsed.database in (None, "", ":memory:")
    if memory:
        kwargs.setdefault("poolclass", StaticPool)  # one shared connection: the data lives in it
    elif "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """Hold around a write transaction: on SQLite, one writer of this process at a time.

    SQLite admits one writer; another one that finds the database locked waits in SQLite's busy
    handler, which sleeps in steps growing to 100 ms, so under concurrent requests writes convoy and
    stall. A lock per engine hands the database to the next writer of this process the moment the
    previous one commits (other processes still meet the busy timeout). Re-entrant; a no-op on
    databases with row-level locking (PostgreSQL).
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.RLock()
    return lock


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations (no ``alembic.ini`` needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def migrate(target: str | Engine, revision: str = "head") -> None:
    """Upgrade the database at ``target`` (URL or engine) to ``revision``; a no-op when already there."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()
