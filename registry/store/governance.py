"""The governance journal over SQLAlchemy: every governance transaction (onboard, suspend, reinstate),
signed and recorded before it is sent, in ``governance_transactions``.

A row is ``submitted`` from before the send until its receipt is in, then ``final`` (with its block) or
``failed``. :class:`registry.governance.GovernanceSender` writes it and, after a crash or a chain
restored behind it, resends what the chain does not have (:meth:`SqlGovernanceJournal.unfinished`,
:meth:`SqlGovernanceJournal.final_since`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Engine

from registry.store.db import write_lock
from registry.store.models import GovernanceTransaction

__all__ = ["GovernanceRecord", "GovernanceStatus", "SqlGovernanceJournal"]

ROWS: Table = GovernanceTransaction.__table__  # type: ignore[assignment]
GovernanceStatus = Literal["submitted", "final", "failed"]


@dataclass(frozen=True)
class GovernanceRecord:
    """One journalled governance transaction."""

    tx_hash: str
    sender: str
    nonce: int
    raw: bytes
    purpose: str
    status: GovernanceStatus
    block_number: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime


def _record(row: Any) -> GovernanceRecord:
    return GovernanceRecord(
        tx_hash=row.tx_hash,
        sender=row.sender,
        nonce=int(row.nonce),
        raw=bytes.fromhex(row.raw),
        purpose=row.purpose,
        status=row.status,
        block_number=row.block_number,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlGovernanceJournal:
    """Governance transactions on the registry database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The database the journal is on (its senders' :class:`~registry.store.sender_lock.SenderLock`)."""
        return self._engine

    def record(self, tx_hash: str, sender: str, nonce: int, raw: bytes, purpose: str) -> None:
        """Journal a signed transaction as ``submitted``, before it is sent."""
        now = datetime.now(UTC)
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(
                insert(ROWS).values(
                    tx_hash=tx_hash,
                    sender=sender,
                    nonce=nonce,
                    raw=raw.hex(),
                    purpose=purpose[:200],
                    status="submitted",
                    created_at=now,
                    updated_at=now,
                )
            )

    def mark(
        self,
        tx_hash: str,
        status: GovernanceStatus,
        *,
        block_number: int | None = None,
        error: str | None = None,
    ) -> None:
        """Set a transaction's status (its block when final, why when failed or resent)."""
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(
                update(ROWS)
                .where(ROWS.c.tx_hash == tx_hash)
                .values(status=status, block_number=block_number, error=error, updated_at=datetime.now(UTC))
            )

    def get(self, tx_hash: str) -> GovernanceRecord | None:
        """One transaction by hash."""
        with self._engine.connect() as conn:
            row = conn.execute(select(ROWS).where(ROWS.c.tx_hash == tx_hash)).first()
        return _record(row) if row is not None else None

    def unfinished(self) -> list[GovernanceRecord]:
        """Transactions whose receipt was never recorded, in nonce order."""
        query = select(ROWS).where(ROWS.c.status == "submitted").order_by(ROWS.c.sender, ROWS.c.nonce)
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def final_since(self, since: datetime) -> list[GovernanceRecord]:
        """Transactions that became final at or after ``since`` (a restored chain may have lost them)."""
        query = (
            select(ROWS)
            .where(ROWS.c.status == "final", ROWS.c.updated_at >= since)
            .order_by(ROWS.c.sender, ROWS.c.nonce)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]
