"""Engines and schema migrations for the registry's database (SQLite or PostgreSQL).

``create_engine_for(url)`` accepts any SQLAlchemy URL. ``postgresql://`` and ``postgres://`` are
mapped to the psycopg 3 driver. SQLite connections get WAL journaling (file databases), enforced
foreign keys and a busy timeout, so a reader (the API) and the indexer can share one file.

``migrate(url_or_engine)`` runs Alembic's ``upgrade head`` with the environment shipped inside the
package (``registry/store/migrations``), independent of the current directory and of any
``alembic.ini``. It is idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = ["MIGRATIONS_DIR", "SQLITE_BUSY_TIMEOUT_MS", "alembic_config", "create_engine_for", "migrate"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


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
