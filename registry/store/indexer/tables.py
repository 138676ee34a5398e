"""The tables the indexer writes, and the statements every part of it shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from registry.store.models import Ebl, EblEvent, IndexerCheckpoint, Organisation, OrgKey

__all__ = [
    "CHECKPOINTS",
    "EBLS",
    "EVENTS",
    "IN_CHUNK",
    "KEYS",
    "ORGS",
    "chunks",
    "insert_new",
    "save_checkpoint",
]

EBLS: Table = Ebl.__table__  # type: ignore[assignment]
EVENTS: Table = EblEvent.__table__  # type: ignore[assignment]
ORGS: Table = Organisation.__table__  # type: ignore[assignment]
KEYS: Table = OrgKey.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = IndexerCheckpoint.__table__  # type: ignore[assignment]

IN_CHUNK = 500
"""Most values in one ``IN (...)`` list, and most calls in one JSON-RPC batch."""


def chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_new(dialect: str, table: Table, conflict: Sequence[str]) -> Any:
    """An INSERT that skips rows whose ``conflict`` columns are already stored (re-applied ranges)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return insert(table)


def save_checkpoint(conn: Connection, name: str, block: int, block_hash: str) -> None:
    """Move checkpoint ``name`` to ``block`` (and remember that block's hash, to detect reorgs)."""
    updated = conn.execute(
        update(CHECKPOINTS)
        .where(CHECKPOINTS.c.name == name)
        .values(last_block=block, last_block_hash=block_hash)
    )
    if updated.rowcount == 0:
        conn.execute(insert(CHECKPOINTS).values(name=name, last_block=block, last_block_hash=block_hash))
