"""Transport documents exactly as issued, kept beside the chain (only their hashes are on chain)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from registry.errors import NotFoundError
from registry.store.db import write_lock
from registry.store.models import Document
from registry.types import EblId

__all__ = ["SqlDocumentStore"]

DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]


def _hex(document_hash: str) -> str:
    return document_hash if document_hash.startswith("0x") else "0x" + document_hash


class SqlDocumentStore:
    """:class:`registry.title.ports.DocumentStore` on the registry database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        dialect = engine.dialect.name
        self._insert = (
            sqlite.insert(DOCUMENTS).on_conflict_do_nothing(index_elements=["ebl_id"])
            if dialect == "sqlite"
            else postgresql.insert(DOCUMENTS).on_conflict_do_nothing(index_elements=["ebl_id"])
            if dialect == "postgresql"
            else insert(DOCUMENTS)
        )

    def put(self, ebl_id: EblId, document_hash: str, document: dict[str, Any], canonical: bytes) -> None:
        """Store a document; storing the same eBL again is a no-op (its hash never changes)."""
        row = {
            "ebl_id": str(int(ebl_id)),
            "document_hash": _hex(document_hash),
            "document": document,
            "canonical": canonical.decode("utf-8"),
            "stored_at": datetime.now(UTC),
        }
        try:
            with write_lock(self._engine), self._engine.begin() as conn:
                conn.execute(self._insert, row)  # one statement: an eBL already stored stays as it is
        except IntegrityError:  # a database without ON CONFLICT: a concurrent put of the same eBL won
            return

    def get(self, ebl_id: EblId) -> dict[str, Any]:
        """The issued document of an eBL."""
        with self._sessions() as session:
            row = session.get(Document, str(int(ebl_id)))
            if row is None:
                raise NotFoundError("document of eBL", ebl_id)
            return dict(row.document)

    def ebl_for_hash(self, document_hash: str) -> EblId | None:
        """The eBL issued with this document hash (the newest, should an identical document recur)."""
        with self._sessions() as session:
            found = session.scalars(
                select(Document.ebl_id)
                .where(Document.document_hash == _hex(document_hash))
                .order_by(Document.stored_at.desc())
                .limit(1)
            ).first()
            return EblId(int(found)) if found is not None else None
