"""The operation journal over SQLAlchemy: every accepted operation, written before it is submitted.

Rows live in ``operations`` (status, transaction hash, error) with the signed entry and its context in
``payload``; ``idempotency_keys`` maps (organisation, key) to the operation it first created, with
a hash of the request so a key reused for a different request is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import IdempotencyConflictError, NotFoundError
from registry.store.models import IdempotencyKey, Operation
from registry.title.ports import JournalEntry, OperationStatus
from registry.types import Action, EblId

__all__ = ["SqlJournal"]


def _now() -> datetime:
    return datetime.now(UTC)


def _entry(row: Operation) -> JournalEntry:
    p: dict[str, Any] = row.payload
    return JournalEntry(
        operation_id=str(row.id),
        org=p["org"],
        action=Action[p["action"]],
        ebl_id=EblId(int(p["ebl_id"])),
        entry=p["entry"],
        status=row.status,  # type: ignore[arg-type]
        idempotency_key=p.get("idempotency_key"),
        request_hash=p.get("request_hash"),
        tx_hash=row.tx_hash,
        block_number=p.get("block_number"),
        error_code=p.get("error_code"),
        error_detail=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlJournal:
    """:class:`registry.title.ports.Journal` on the registry database."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Insert a pending operation, or return the one its idempotency key already created."""
        now = _now()
        row = Operation(
            id=uuid.UUID(entry.operation_id),
            kind=entry.action.name,
            payload={
                "org": entry.org,
                "action": entry.action.name,
                "ebl_id": str(int(entry.ebl_id)),
                "entry": entry.entry,
                "idempotency_key": entry.idempotency_key,
                "request_hash": entry.request_hash,
            },
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
                if entry.idempotency_key is not None:
                    session.flush()
                    session.add(
                        IdempotencyKey(
                            org=entry.org,
                            key=entry.idempotency_key,
                            request_hash=entry.request_hash or "",
                            operation_id=row.id,
                            created_at=now,
                        )
                    )
        except IntegrityError:
            if entry.idempotency_key is None:
                raise
            found = self.find_idempotent(entry.org, entry.idempotency_key, entry.request_hash or "")
            if found is None:  # pragma: no cover - the conflicting row vanished
                raise
            return found
        return _entry(row)

    def find_idempotent(self, org: str, key: str, request_hash: str) -> JournalEntry | None:
        """The operation an idempotency key names, or None; a different request raises a conflict."""
        with self._sessions() as session:
            ref = session.get(IdempotencyKey, (org, key))
            if ref is None:
                return None
            if ref.request_hash != request_hash:
                raise IdempotencyConflictError(key)
            op = session.get(Operation, ref.operation_id)
            assert op is not None
            return _entry(op)

    def mark(
        self,
        operation_id: str,
        status: OperationStatus,
        *,
        tx_hash: str | None = None,
        block_number: int | None = None,
        error_code: str | None = None,
        error_detail: str | None = None,
    ) -> None:
        """Move an operation along; final and failed are never left again."""
        with self._sessions.begin() as session:
            row = self._get(session, operation_id)
            if row.status in ("final", "failed") and status != row.status:
                return
            payload = dict(row.payload)
            if block_number is not None:
                payload["block_number"] = block_number
            if error_code is not None:
                payload["error_code"] = error_code
            values: dict[str, Any] = {"status": status, "updated_at": _now(), "payload": payload}
            if status == "submitted":
                values["attempts"] = row.attempts + 1
            if tx_hash is not None:
                values["tx_hash"] = tx_hash
            if error_detail is not None:
                values["error"] = error_detail
            session.execute(update(Operation).where(Operation.id == row.id).values(**values))

    def get(self, operation_id: str) -> JournalEntry:
        """One operation, or :class:`NotFoundError`."""
        with self._sessions() as session:
            return _entry(self._get(session, operation_id))

    def unfinished(self) -> Sequence[JournalEntry]:
        """Operations still pending or submitted, oldest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Operation)
                .where(Operation.status.in_(("pending", "submitted")))
                .order_by(Operation.created_at)
            ).all()
            return [_entry(r) for r in rows]

    @staticmethod
    def _get(session: Session, operation_id: str) -> Operation:
        try:
            key = uuid.UUID(operation_id)
        except ValueError:
            raise NotFoundError("operation", operation_id) from None
        row = session.get(Operation, key)
        if row is None:
            raise NotFoundError("operation", operation_id)
        return row
