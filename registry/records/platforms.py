"""PINT records: trusted platforms, our outgoing transfers (with their journal) and the envelopes we
received, as the gateway serves them and both CLI modes print them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from registry.records.fields import EblIdField, Record

if TYPE_CHECKING:
    from registry.pint.trust import PlatformEntry
    from registry.store.pint_sessions import IncomingSession, OutgoingStep, OutgoingTransfer

__all__ = [
    "IncomingEnvelopeOut",
    "PlatformIn",
    "PlatformOut",
    "PlatformTransferIn",
    "TransferOut",
    "TransferStepOut",
    "incoming_out",
    "platform_out",
    "transfer_out",
]

_STATUS = {
    "exported": "EXPORTED",
    "returned": "RETURNED",
    "refused-here": "REFUSED",
}


class PlatformIn(Record):
    """A platform to trust (``ebl platforms add``)."""

    code: str = Field(min_length=1, max_length=4, pattern=r"^\S+$")
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=1024)
    jwks: dict[str, Any]
    x509_anchors: list[str] = []
    x509_chain: list[str] = []
    crls: list[str] = []
    carriers: list[str] = []

    def to_entry(self) -> PlatformEntry:
        """The trust-list entry this request asks for (the gateway's route and the CLI's direct mode)."""
        from registry.pint.trust import PlatformEntry

        return PlatformEntry(
            code=self.code,
            name=self.name,
            url=self.url,
            jwks=self.jwks,
            x509_anchors=tuple(self.x509_anchors),
            x509_chain=tuple(self.x509_chain),
            crls=tuple(self.crls),
            carriers=tuple(self.carriers),
        )


class PlatformOut(Record):
    """A trusted platform: its code, name, PINT URL and key ids (``own``: this registry itself)."""

    code: str
    name: str
    url: str
    key_ids: list[str]
    jwks: dict[str, Any]
    own: bool = False


class PlatformTransferIn(Record):
    """A holder sends a bill to a party on another platform."""

    platform: str = Field(min_length=1, max_length=4, description="the receiving platform's code")
    recipient: dict[str, Any] = Field(description="the PINT RecipientParty (partyName, identifyingCodes)")
    action_code: str = Field(default="TRANSFER", pattern=r"^(TRANSFER|ENDORSE|ENDORSE_TO_ORDER)$")
    documents: list[dict[str, str]] = Field(
        default=[], description="supporting documents: {name, mediaType, content (base64)}"
    )


class TransferStepOut(Record):
    """One journaled step of an outgoing transfer."""

    step: str
    at: datetime
    detail: str | None


class TransferOut(Record):
    """An outgoing transfer: where it stands (``status`` IN_PROGRESS, EXPORTED, RETURNED or REFUSED),
    the receiver's signed response code and reason, and the journal."""

    transfer_id: str
    ebl_id: EblIdField
    platform: str
    action_code: str
    recipient: dict[str, Any]
    status: str
    step: str
    response_code: str | None
    reason: str | None
    envelope_reference: str | None
    last_entry_checksum: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    journal: list[TransferStepOut]


class IncomingEnvelopeOut(Record):
    """An envelope another platform sent us."""

    envelope_reference: str
    sending_platform: str
    transport_document_checksum: str
    last_entry_checksum: str
    recipient: str
    state: str
    response_code: str | None
    reason: str | None
    ebl_id: EblIdField | None
    expected_documents: list[str]
    created_at: datetime
    updated_at: datetime


def platform_out(entry: PlatformEntry, *, own: bool = False) -> PlatformOut:
    keys = entry.jwks.get("keys", [])
    return PlatformOut(
        code=entry.code,
        name=entry.name,
        url=entry.url,
        key_ids=[str(k.get("kid")) for k in keys if isinstance(k, dict)],
        jwks=entry.jwks,
        own=own,
    )


def transfer_out(t: OutgoingTransfer, steps: list[OutgoingStep]) -> TransferOut:
    return TransferOut(
        transfer_id=t.transfer_id,
        ebl_id=t.ebl_id,  # type: ignore[arg-type]  # the validator parses the decimal string
        platform=t.platform,
        action_code=t.action_code,
        recipient=t.recipient,
        status=_STATUS.get(t.step, "IN_PROGRESS"),
        step=t.step,
        response_code=t.response_code,
        reason=t.reason,
        envelope_reference=t.envelope_reference,
        last_entry_checksum=t.last_entry_checksum,
        attempts=t.attempts,
        created_at=t.created_at,
        updated_at=t.updated_at,
        journal=[TransferStepOut(step=s.step, at=s.at, detail=s.detail) for s in steps],
    )


def incoming_out(s: IncomingSession) -> IncomingEnvelopeOut:
    return IncomingEnvelopeOut(
        envelope_reference=s.envelope_reference,
        sending_platform=s.sending_platform,
        transport_document_checksum=s.transport_document_checksum,
        last_entry_checksum=s.last_entry_checksum,
        recipient=s.recipient_member,
        state=s.state,
        response_code=s.response_code,
        reason=s.reason,
        ebl_id=s.ebl_id,  # type: ignore[arg-type]
        expected_documents=s.expected_checksums,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )
