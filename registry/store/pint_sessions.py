"""PINT sessions on the registry database: envelopes received from other platforms and transfers sent.

Incoming (:class:`IncomingSession`): one row per envelope transfer another platform started with
``POST /v3/envelopes``, keyed by the ``envelopeReference`` we handed out. It keeps the envelope as
received, the additional documents we expect and those that arrived (their bytes), and, once decided,
the signed response we gave: a retry of a decided transfer gets those same bytes again.

Outgoing (:class:`OutgoingTransfer`): one row per bill we send, with a journal of the steps it reached
(``pint_outgoing_steps``). The envelope is stored when it is built, before anything is sent, so a
resend after a crash posts exactly the same bytes: a transfer never has a second envelope.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine, RowMapping

from registry.errors import NotFoundError
from registry.store.db import write_lock
from registry.store.models import PintIncoming, PintIncomingDocument, PintOutgoing, PintOutgoingStep

__all__ = ["IncomingSession", "OutgoingStep", "OutgoingTransfer", "PintSessions"]

INCOMING: Table = PintIncoming.__table__  # type: ignore[assignment]
DOCUMENTS: Table = PintIncomingDocument.__table__  # type: ignore[assignment]
OUTGOING: Table = PintOutgoing.__table__  # type: ignore[assignment]
STEPS: Table = PintOutgoingStep.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class IncomingSession:
    """An envelope transfer another platform started with us.

    ``state``: ``open`` (documents still to come), ``accepting`` (the bill is being recorded on our
    chain), ``accepted`` (RECE answered), ``refused`` (BSIG/BENV/DISE answered) or ``superseded`` (the
    sender started another transfer of the same bill: this one will never finish).
    """

    envelope_reference: str
    sending_platform: str
    transport_document_checksum: str
    last_entry_checksum: str
    envelope: dict[str, Any]
    expected: list[dict[str, Any]]
    recipient_member: str
    state: str
    response_code: str | None
    response: str | None
    reason: str | None
    ebl_id: str | None
    operation_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def expected_checksums(self) -> list[str]:
        """The checksums of every additional document the manifest announced, in its order."""
        return [str(doc["documentChecksum"]) for doc in self.expected]


@dataclass(frozen=True)
class OutgoingTransfer:
    """A bill we send to another platform, and how far the transfer got (``step``)."""

    transfer_id: str
    ebl_id: str
    org: str
    platform: str
    action_code: str
    recipient: dict[str, Any]
    step: str
    envelope: dict[str, Any] | None
    documents: list[dict[str, Any]] | None
    envelope_checksum: str | None
    last_entry_checksum: str | None
    envelope_reference: str | None
    response_code: str | None
    response: str | None
    reason: str | None
    export_operation_id: str | None
    close_operation_id: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OutgoingStep:
    """One journal entry of an outgoing transfer."""

    seq: int
    step: str
    detail: str | None
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _incoming(row: RowMapping) -> IncomingSession:
    return IncomingSession(**dict(row))


def _outgoing(row: RowMapping) -> OutgoingTransfer:
    return OutgoingTransfer(**dict(row))


class PintSessions:
    """Both kinds of PINT session on one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ incoming

    def open_incoming(
        self,
        *,
        sending_platform: str,
        transport_document_checksum: str,
        last_entry_checksum: str,
        envelope: dict[str, Any],
        expected: Sequence[dict[str, Any]],
        recipient_member: str,
        reference: str,
    ) -> IncomingSession:
        """Record a new envelope transfer (state ``open``). Any other open transfer of the same bill from
        the same platform becomes ``superseded``: the sender retries with another envelope."""
        now = _now()
        values = {
            "envelope_reference": reference,
            "sending_platform": sending_platform,
            "transport_document_checksum": transport_document_checksum,
            "last_entry_checksum": last_entry_checksum,
            "envelope": envelope,
            "expected": list(expected),
            "recipient_member": recipient_member,
            "state": "open",
            "response_code": None,
            "response": None,
            "reason": None,
            "ebl_id": None,
            "operation_id": None,
            "created_at": now,
            "updated_at": now,
        }
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(
                update(INCOMING)
                .where(
                    INCOMING.c.transport_document_checksum == transport_document_checksum,
                    INCOMING.c.sending_platform == sending_platform,
                    INCOMING.c.state == "open",
                )
                .values(state="superseded", updated_at=now)
            )
            conn.execute(INCOMING.insert().values(**values))
        return IncomingSession(**values)  # type: ignore[arg-type]

    def incoming(self, reference: str) -> IncomingSession:
        """The session of ``reference``.

        Raises:
            NotFoundError: no envelope transfer has this reference.
        """
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(INCOMING).where(INCOMING.c.envelope_reference == reference))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError("envelope transfer", reference)
        return _incoming(row)

    def incoming_for_entry(self, last_entry_checksum: str) -> list[IncomingSession]:
        """Every session started with this last chain entry, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(INCOMING)
                .where(INCOMING.c.last_entry_checksum == last_entry_checksum)
                .order_by(INCOMING.c.created_at.desc())
            ).mappings()
            return [_incoming(r) for r in rows]

    def accepted_for_document(self, transport_document_checksum: str) -> list[IncomingSession]:
        """The transfers of this bill we accepted, oldest first (the chain entries we already know)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(INCOMING)
                .where(
                    INCOMING.c.transport_document_checksum == transport_document_checksum,
                    INCOMING.c.state == "accepted",
                )
                .order_by(INCOMING.c.created_at)
            ).mappings()
            return [_incoming(r) for r in rows]

    def list_incoming(self, *, member: str | None = None, limit: int = 100) -> list[IncomingSession]:
        """Recent sessions, newest first; with ``member``, only those naming it as recipient."""
        query = select(INCOMING).order_by(INCOMING.c.created_at.desc()).limit(limit)
        if member is not None:
            query = query.where(INCOMING.c.recipient_member == member)
        with self._engine.connect() as conn:
            return [_incoming(r) for r in conn.execute(query).mappings()]

    def set_incoming(self, reference: str, **values: Any) -> IncomingSession:
        """Update a session's state, response and chain fields; the updated session."""
        allowed = {"state", "response_code", "response", "reason", "ebl_id", "operation_id"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not session fields: {sorted(unknown)}")
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(
                update(INCOMING)
                .where(INCOMING.c.envelope_reference == reference)
                .values(**values, updated_at=_now())
            )
        return self.incoming(reference)

    def add_document(self, reference: str, document_checksum: str, content: bytes) -> None:
        """Keep an additional document that arrived (its checksum was checked); a resend is a no-op."""
        with write_lock(self._engine), self._engine.begin() as conn:
            present = conn.execute(
                select(DOCUMENTS.c.document_checksum).where(
                    DOCUMENTS.c.envelope_reference == reference,
                    DOCUMENTS.c.document_checksum == document_checksum,
                )
            ).first()
            if present is None:
                conn.execute(
                    DOCUMENTS.insert().values(
                        envelope_reference=reference,
                        document_checksum=document_checksum,
                        content=content,
                        received_at=_now(),
                    )
                )

    def received_checksums(self, reference: str) -> set[str]:
        """The checksums of the additional documents that arrived for ``reference``."""
        with self._engine.connect() as conn:
            return set(
                conn.execute(
                    select(DOCUMENTS.c.document_checksum).where(DOCUMENTS.c.envelope_reference == reference)
                ).scalars()
            )

    def document(self, reference: str, document_checksum: str) -> bytes | None:
        """The bytes of one received additional document, if it arrived."""
        with self._engine.connect() as conn:
            content = conn.execute(
                select(DOCUMENTS.c.content).where(
                    DOCUMENTS.c.envelope_reference == reference,
                    DOCUMENTS.c.document_checksum == document_checksum,
                )
            ).scalar()
        return bytes(content) if content is not None else None

    # ------------------------------------------------------------------ outgoing

    def create_outgoing(
        self, *, ebl_id: str, org: str, platform: str, action_code: str, recipient: dict[str, Any]
    ) -> OutgoingTransfer:
        """Journal a new transfer (step ``requested``)."""
        now = _now()
        transfer_id = str(uuid.uuid4())
        values: dict[str, Any] = {
            "transfer_id": transfer_id,
            "ebl_id": ebl_id,
            "org": org,
            "platform": platform,
            "action_code": action_code,
            "recipient": recipient,
            "step": "requested",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(OUTGOING.insert().values(**values))
            conn.execute(
                STEPS.insert().values(transfer_id=transfer_id, seq=1, step="requested", detail=None, at=now)
            )
        return self.outgoing(transfer_id)

    def outgoing(self, transfer_id: str) -> OutgoingTransfer:
        """The transfer ``transfer_id``.

        Raises:
            NotFoundError: no such transfer.
        """
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(OUTGOING).where(OUTGOING.c.transfer_id == transfer_id)).mappings().first()
            )
        if row is None:
            raise NotFoundError("outgoing transfer", transfer_id)
        return _outgoing(row)

    def advance(
        self, transfer_id: str, step: str, detail: str | None = None, **values: Any
    ) -> OutgoingTransfer:
        """Record that ``transfer_id`` reached ``step`` (with the fields it produced) and journal it, in
        one transaction: after a crash the journal's last step is the row's step."""
        now = _now()
        with write_lock(self._engine), self._engine.begin() as conn:
            seq = conn.execute(
                select(func.coalesce(func.max(STEPS.c.seq), 0)).where(STEPS.c.transfer_id == transfer_id)
            ).scalar_one()
            conn.execute(
                update(OUTGOING)
                .where(OUTGOING.c.transfer_id == transfer_id)
                .values(step=step, updated_at=now, **values)
            )
            conn.execute(
                STEPS.insert().values(
                    transfer_id=transfer_id, seq=int(seq) + 1, step=step, detail=detail, at=now
                )
            )
        return self.outgoing(transfer_id)

    def note_attempt(self, transfer_id: str, reason: str) -> OutgoingTransfer:
        """Count a failed attempt of the current step (the step stays; the reason is shown)."""
        with write_lock(self._engine), self._engine.begin() as conn:
            conn.execute(
                update(OUTGOING)
                .where(OUTGOING.c.transfer_id == transfer_id)
                .values(attempts=OUTGOING.c.attempts + 1, reason=reason[:2000], updated_at=_now())
            )
        return self.outgoing(transfer_id)

    def steps(self, transfer_id: str) -> list[OutgoingStep]:
        """The journal of ``transfer_id``, in order."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(STEPS.c.seq, STEPS.c.step, STEPS.c.detail, STEPS.c.at)
                .where(STEPS.c.transfer_id == transfer_id)
                .order_by(STEPS.c.seq)
            ).all()
        return [OutgoingStep(int(r.seq), r.step, r.detail, r.at) for r in rows]

    def unfinished(self, terminal: Sequence[str]) -> list[OutgoingTransfer]:
        """Transfers whose step is not one of ``terminal``, oldest first (to resume after a crash)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(OUTGOING).where(OUTGOING.c.step.not_in(list(terminal))).order_by(OUTGOING.c.created_at)
            ).mappings()
            return [_outgoing(r) for r in rows]

    def outgoing_for_ebl(self, ebl_id: str) -> list[OutgoingTransfer]:
        """Every transfer of one bill, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(OUTGOING).where(OUTGOING.c.ebl_id == ebl_id).order_by(OUTGOING.c.created_at.desc())
            ).mappings()
            return [_outgoing(r) for r in rows]

    def list_outgoing(self, *, org: str | None = None, limit: int = 100) -> list[OutgoingTransfer]:
        """Recent transfers, newest first; with ``org``, only that holder's."""
        query = select(OUTGOING).order_by(OUTGOING.c.created_at.desc()).limit(limit)
        if org is not None:
            query = query.where(OUTGOING.c.org == org)
        with self._engine.connect() as conn:
            return [_outgoing(r) for r in conn.execute(query).mappings()]
