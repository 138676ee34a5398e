"""Other platforms: DCSA carrier endpoints, callbacks and surrender requests; PINT sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models.base import ADDRESS, EBL_ID, Base

__all__ = [
    "DcsaCallback",
    "DcsaCarrierEndpoint",
    "DcsaSurrenderRequest",
    "PintIncoming",
    "PintIncomingDocument",
    "PintOutgoing",
    "PintOutgoingStep",
]


# --- DCSA platform APIs -----------------------------------------------------------------------


class DcsaCarrierEndpoint(Base):
    """Where a carrier takes the DCSA callbacks (``/v3/ebl-issuance-responses``,
    ``/v3/ebl-surrender-requests`` under ``base_url``), and the bearer token we send it (if any)."""

    __tablename__ = "dcsa_carrier_endpoints"

    org: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    base_url: Mapped[str] = mapped_column(String(500))
    token: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DcsaCallback(Base):
    """One callback to a carrier, persisted before it is sent (the outbox), delivered with retry.

    ``await_operation``: the journaled operation the callback waits for (an issuance's ISSU is sent
    when it is final; a failed one turns it into REFU). ``dedupe_key`` makes enqueueing idempotent.
    """

    __tablename__ = "dcsa_callbacks"
    __table_args__ = (Index("ix_dcsa_callbacks_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(ADDRESS)
    path: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    await_operation: Mapped[str | None] = mapped_column(String(36))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DcsaSurrenderRequest(Base):
    """A surrender request sent to the carrier as DCSA ``SurrenderRequestDetails``; the carrier answers
    it once (SURR or SREJ) by its ``surrenderRequestReference``."""

    __tablename__ = "dcsa_surrender_requests"
    __table_args__ = (UniqueConstraint("ebl_id", "seq"),)

    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    ebl_id: Mapped[str] = mapped_column(EBL_ID)
    seq: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str] = mapped_column(ADDRESS)
    answer: Mapped[str | None] = mapped_column(String(4))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- PINT sessions ----------------------------------------------------------------------------


class PintIncoming(Base):
    """An envelope another platform sent us (``POST /v3/envelopes``): what it holds, what we still
    expect, and the signed response we gave (sent again, byte for byte, to a retry)."""

    __tablename__ = "pint_incoming"

    envelope_reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    sending_platform: Mapped[str] = mapped_column(String(4), index=True)
    transport_document_checksum: Mapped[str] = mapped_column(String(64), index=True)
    last_entry_checksum: Mapped[str] = mapped_column(String(64), index=True)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recipient_member: Mapped[str] = mapped_column(ADDRESS)
    state: Mapped[str] = mapped_column(String(16), index=True)
    response_code: Mapped[str | None] = mapped_column(String(4))
    response: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(255))
    ebl_id: Mapped[str | None] = mapped_column(EBL_ID, index=True)
    operation_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintIncomingDocument(Base):
    """An additional document received for an incoming envelope (its bytes matched its checksum)."""

    __tablename__ = "pint_incoming_documents"

    envelope_reference: Mapped[str] = mapped_column(
        String(100), ForeignKey("pint_incoming.envelope_reference"), primary_key=True
    )
    document_checksum: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintOutgoing(Base):
    """A bill we send to another platform: the envelope built once (a resend is byte-identical), the
    step reached, the receiver's signed response, and the chain operations of the export."""

    __tablename__ = "pint_outgoing"

    transfer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ebl_id: Mapped[str] = mapped_column(EBL_ID, index=True)
    org: Mapped[str] = mapped_column(ADDRESS)
    platform: Mapped[str] = mapped_column(String(4))
    action_code: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)
    step: Mapped[str] = mapped_column(String(32), index=True)
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    documents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    envelope_checksum: Mapped[str | None] = mapped_column(String(64))
    last_entry_checksum: Mapped[str | None] = mapped_column(String(64), index=True)
    envelope_reference: Mapped[str | None] = mapped_column(String(100))
    response_code: Mapped[str | None] = mapped_column(String(4))
    response: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    export_operation_id: Mapped[str | None] = mapped_column(String(36))
    close_operation_id: Mapped[str | None] = mapped_column(String(36))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintOutgoingStep(Base):
    """The journal of an outgoing transfer: one row per step reached, in order (resume reads the last)."""

    __tablename__ = "pint_outgoing_steps"

    transfer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pint_outgoing.transfer_id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
