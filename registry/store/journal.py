"""The operation journal over SQLAlchemy: every accepted operation, written before it is submitted.

Rows live in ``operations`` (status, transaction hash, error) with the signed entry and its context in
``payload``; ``idempotency_keys`` maps (organisation, key) to the operation it first created, with
a hash of the request so a key reused for a different request is refused.

The hot paths (record, mark, get, and :meth:`SqlJournal.mark_final_many` for a whole resolved batch)
are single SQLAlchemy Core statements under :func:`registry.store.db.write_lock`, not ORM sessions: a
write is one short transaction, and a batch of finals is one transaction whatever its size.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import IdempotencyConflictError, NotFoundError
from registry.store.db import write_lock
from registry.store.models import IdempotencyKey, Operation
from registry.title.ports import JournalEntry, OperationStatus
from registry.types import Action, EblId

__all__ = ["SqlJournal"]

OPERATIONS: Table = Operation.__table__  # type: ignore[assignment]
IDEMPOTENCY_KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]
_DONE = ("final", "failed")
_IN_CHUNK = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _entry(row: Any) -> JournalEntry:
    """A journal entry from an ORM ``Operation`` or a Core row of ``operations``."""
    p: dict[str, Any] = row.payload
    return JournalEntry(
        operation_id=str(row.id),
        org=p["org"],
        action=Action[p["action"]],
        ebl_id=EblId(int(p["ebl_id"])),
        entry=p["entry"],
        status=row.status,
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
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Insert an operation, or return the one its idempotency key already created.

        It is inserted ``pending``, or ``submitted`` (one attempt) when ``entry.status`` says so: the
        caller hands it to the relayer right after this commit, and saves a second write; recovery
        treats both alike.
        """
        now = _now()
        status: OperationStatus = "submitted" if entry.status == "submitted" else "pending"
        operation_id = uuid.UUID(entry.operation_id)
        payload = {
            "org": entry.org,
            "action": entry.action.name,
            "ebl_id": str(int(entry.ebl_id)),
            "entry": entry.entry,
            "idempotency_key": entry.idempotency_key,
            "request_hash": entry.request_hash,
        }
        try:
            with write_lock(self._engine), self._engine.begin() as conn:
                conn.execute(
                    insert(OPERATIONS).values(
                        id=operation_id,
                        kind=entry.action.name,
                        payload=payload,
                        status=status,
                        attempts=1 if status == "submitted" else 0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                if entry.idempotency_key is not None:
                    conn.execute(
                        insert(IDEMPOTENCY_KEYS).values(
                            org=entry.org,
                            key=entry.idempotency_key,
                            request_hash=entry.request_hash or "",
                            operation_id=operation_id,
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
        return JournalEntry(
            operation_id=str(operation_id),
            org=entry.org,
            action=entry.action,
            ebl_id=entry.ebl_id,
            entry=entry.entry,
            status=status,
            idempotency_key=entry.idempotency_key,
            request_hash=entry.request_hash,
            created_at=now,
            updated_at=now,
        )

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
        key = _uuid(operation_id)
        values: dict[str, Any] = {"status": status, "updated_at": _now()}
        if status == "submitted":
            values["attempts"] = OPERATIONS.c.attempts + 1
        if tx_hash is not None:
            values["tx_hash"] = tx_hash
        if error_detail is not None:
            values["error"] = error_detail
        movable = or_(OPERATIONS.c.status.not_in(_DONE), OPERATIONS.c.status == status)
        with write_lock(self._engine), self._engine.begin() as conn:
            if block_number is not None or error_code is not None:
                found = conn.execute(select(OPERATIONS.c.payload).where(OPERATIONS.c.id == key)).first()
                if found is None:
                    raise NotFoundError("operation", operation_id)
                payload = dict(found[0])
                if block_number is not None:
                    payload["block_number"] = block_number
                if error_code is not None:
                    payload["error_code"] = error_code
                values["payload"] = payload
            done = conn.execute(update(OPERATIONS).where(OPERATIONS.c.id == key, movable).values(**values))
            if done.rowcount == 0 and (
                conn.execute(select(OPERATIONS.c.id).where(OPERATIONS.c.id == key)).first() is None
            ):
                raise NotFoundError("operation", operation_id)

    def mark_final_many(self, finals: Sequence[tuple[str, str, int]]) -> None:
        """Mark many operations final, given as (operation id, tx hash, block number), in one transaction.

        Operations already final or failed, and unknown ids, are left alone.
        """
        wanted = {_uuid(op): (tx, block) for op, tx, block in finals}
        if not wanted:
            return
        now = _now()
        with write_lock(self._engine), self._engine.begin() as conn:
            ids = list(wanted)
            rows = [
                row
                for i in range(0, len(ids), _IN_CHUNK)
                for row in conn.execute(
                    select(OPERATIONS.c.id, OPERATIONS.c.payload).where(
                        OPERATIONS.c.id.in_(ids[i : i + _IN_CHUNK]), OPERATIONS.c.status.not_in(_DONE)
                    )
                )
            ]
            if not rows:
                return
            stmt = (
                update(OPERATIONS)
                .where(OPERATIONS.c.id == bindparam("b_id"))
                .values(
                    status="final",
                    tx_hash=bindparam("b_tx"),
                    payload=bindparam("b_payload"),
                    updated_at=now,
                )
            )
            conn.execute(
                stmt,
                [
                    {
                        "b_id": row.id,
                        "b_tx": wanted[row.id][0],
                        "b_payload": {**row.payload, "block_number": wanted[row.id][1]},
                    }
                    for row in rows
                ],
            )

    def get(self, operation_id: str) -> JournalEntry:
        """One operation, or :class:`NotFoundError`."""
        key = _uuid(operation_id)
        with self._engine.connect() as conn:
            row = conn.execute(select(OPERATIONS).where(OPERATIONS.c.id == key)).first()
        if row is None:
            raise NotFoundError("operation", operation_id)
        return _entry(row)

    def unfinished(self) -> Sequence[JournalEntry]:
        """Operations still pending or submitted, oldest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Operation)
                .where(Operation.status.in_(("pending", "submitted")))
                .order_by(Operation.created_at)
            ).all()
            return [_entry(r) for r in rows]

    def claim_unsent(self, limit: int = 1000) -> Sequence[JournalEntry]:
        """Claim the operations journaled but never handed to a relayer (``pending`` with no attempt:
        written by a gateway worker that is not the relayer leader), oldest first: each is moved to
        ``submitted`` in the same statement, so two claimers never both get one."""
        with write_lock(self._engine), self._engine.begin() as conn:
            wanted = (
                select(OPERATIONS.c.id)
                .where(OPERATIONS.c.status == "pending", OPERATIONS.c.attempts == 0)
                .order_by(OPERATIONS.c.created_at)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                wanted = wanted.with_for_update(skip_locked=True)
            claimed = conn.execute(
                update(OPERATIONS)
                .where(OPERATIONS.c.id.in_(wanted.scalar_subquery()), OPERATIONS.c.attempts == 0)
                .values(status="submitted", attempts=1, updated_at=_now())
                .returning(*OPERATIONS.c)
            ).all()
        return sorted((_entry(r) for r in claimed), key=lambda e: e.created_at or _now())

    # --- crash recovery: operations the chain may have lost ---------------------------------

    def final_since(self, since: datetime) -> Sequence[JournalEntry]:
        """Operations that became final at or after ``since`` (the chain may have lost them), oldest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Operation)
                .where(Operation.status == "final", Operation.updated_at >= since)
                .order_by(Operation.created_at)
            ).all()
            return [_entry(r) for r in rows]

    def reopen(self, operation_id: str, detail: str) -> None:
        """Put a final operation back to pending: the only way out of final, for an operation whose
        block the chain lost (it is resubmitted; its nonce makes sure it still executes at most once)."""
        key = _uuid(operation_id)
        with write_lock(self._engine), self._engine.begin() as conn:
            row = conn.execute(
                select(OPERATIONS.c.status, OPERATIONS.c.payload).where(OPERATIONS.c.id == key)
            ).first()
            if row is None:
                raise NotFoundError("operation", operation_id)
            if row.status != "final":
                return
            payload = {k: v for k, v in row.payload.items() if k != "block_number"}
            conn.execute(
                update(OPERATIONS)
                .where(OPERATIONS.c.id == key, OPERATIONS.c.status == "final")
                .values(status="pending", error=detail, tx_hash=None, payload=payload, updated_at=_now())
            )

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


def _uuid(operation_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(operation_id)
    except ValueError:
        raise NotFoundError("operation", operation_id) from None
