"""The operation journal: title operations, governance transactions, idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models.base import ADDRESS, HASH, Base

__all__ = ["GovernanceTransaction", "IdempotencyKey", "Operation"]


# --- operation journal (used by the relayer) ---------------------------------------------------


class Operation(Base):
    """A write the registry accepted and is driving to finality (pending → submitted → final | failed)."""

    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_status_updated_at", "status", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(HASH, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GovernanceTransaction(Base):
    """A governance transaction (onboard, suspend, reinstate), signed and journalled before it is sent,
    so a crash, or a chain restored behind it, never loses one that was acknowledged
    (submitted → final | failed)."""

    __tablename__ = "governance_transactions"
    __table_args__ = (Index("ix_governance_transactions_status_nonce", "status", "nonce"),)

    tx_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    sender: Mapped[str] = mapped_column(ADDRESS)
    nonce: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` an organisation used, the hash of its request and the operation it made."""

    __tablename__ = "idempotency_keys"

    org: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(HASH)
    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("operations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
