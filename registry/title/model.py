"""The title service's domain values: where an operation stands, a bank's verification, a write's options.

:class:`Operation` and :class:`Verification` are what the service answers; the gateway's wire shapes
(``registry.records``) are drawn from them, so their field names are part of that contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.chain.ids import amended_ebl_id
from registry.title.ports import JournalEntry, OperationStatus
from registry.types import Action, DocumentKind, EblId, OrgAddress, Status

__all__ = ["DEFAULT_WRITE", "Operation", "Verification", "WriteOptions", "amended_ebl_id"]


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How a caller wants one write handled (the same for every command).

    Attributes:
        idempotency_key: a retried request with the same key (for the same organisation and the same
            request) answers the first operation instead of acting twice; the same key for another
            request is an :class:`~registry.errors.IdempotencyConflictError`.
        wait: block until the operation is final or failed (at most the service's ``result_timeout``);
            False answers it ``submitted`` at once.
    """

    idempotency_key: str | None = None
    wait: bool = True


DEFAULT_WRITE = WriteOptions()
"""No idempotency key, wait until final: what the CLI and most tests want."""


@dataclass(frozen=True)
class Operation:
    """Where one accepted operation stands."""

    operation_id: str
    action: Action
    ebl_id: EblId
    status: OperationStatus
    tx_hash: str | None = None
    block_number: int | None = None
    error_code: str | None = None
    error_detail: str | None = None

    @property
    def successor_ebl_id(self) -> EblId | None:
        """For an AMEND, the amended eBL's id (known before the operation is final); else None."""
        return amended_ebl_id(self.ebl_id) if self.action is Action.AMEND else None

    @classmethod
    def from_journal(cls, entry: JournalEntry) -> Operation:
        """The public view of a journal row."""
        return cls(
            entry.operation_id,
            entry.action,
            entry.ebl_id,
            entry.status,
            entry.tx_hash,
            entry.block_number,
            entry.error_code,
            entry.error_detail,
        )


@dataclass(frozen=True)
class Verification:
    """A bank's answer: the authoritative title state of one eBL, anchored at one block."""

    ebl_id: EblId
    status: Status
    live: bool
    holder: OrgAddress
    endorsee: OrgAddress | None
    carrier: OrgAddress | None  # None: a foreign carrier's bill, imported from another platform
    kind: DocumentKind
    blank_endorsed: bool
    document_hash: str
    presented_hash: str | None
    document_matches: bool | None
    amended: bool
    predecessor: EblId | None
    successor: EblId | None
    paper_document_hash: str | None
    block_number: int
    block_hash: str
    block_time: datetime
    exported_to: str | None = None
    """EXPORT_PENDING / EXPORTED: the DCSA code of the platform the bill was sent to (PINT)."""
    export_envelope_checksum: str | None = None
    """EXPORT_PENDING / EXPORTED: the checksum of the envelope it was sent in, as recorded on chain."""
