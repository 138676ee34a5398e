"""What the title service needs from storage: the operation journal, the document store and the
carriers' codes.

Implemented over SQLAlchemy in :mod:`registry.store.journal`; kept as protocols so the service can be
read and tested on its own and a different database layer can be plugged in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from registry.documents import CarrierCode
from registry.types import Action, EblId

__all__ = ["CarrierCodes", "DocumentStore", "Journal", "JournalEntry", "OperationStatus"]

OperationStatus = Literal["pending", "submitted", "final", "failed"]


@dataclass(frozen=True)
class JournalEntry:
    """One accepted operation: written before it is submitted, so nothing acknowledged is lost.

    ``entry`` is the signed entry exactly as submitted (message fields, signer, signature); resubmitting
    it can never execute twice, because its nonce is spent on chain by the first execution.
    """

    operation_id: str
    org: str
    action: Action
    ebl_id: EblId
    entry: dict[str, Any]
    status: OperationStatus
    idempotency_key: str | None = None
    request_hash: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Journal(Protocol):
    """Durable record of every accepted operation and its progress."""

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Insert a new operation (status ``pending``, or ``submitted`` when ``entry.status`` says so and
        the caller hands it to the relayer right after); with an idempotency key already used for the
        same request, return the existing operation instead; for a different request raise
        :class:`~registry.errors.IdempotencyConflictError`."""
        ...

    def find_idempotent(self, org: str, key: str, request_hash: str) -> JournalEntry | None:
        """The operation an organisation's idempotency key already names, if any; raise
        :class:`~registry.errors.IdempotencyConflictError` if it was used for a different request."""
        ...

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
        """Move an operation along pending → submitted → final / failed."""
        ...

    def mark_final_many(self, finals: Sequence[tuple[str, str, int]]) -> None:
        """Mark many operations final at once, as (operation id, tx hash, block number); operations
        already final or failed are left alone."""
        ...

    def get(self, operation_id: str) -> JournalEntry:
        """One operation; :class:`~registry.errors.NotFoundError` if unknown."""
        ...

    def unfinished(self) -> Sequence[JournalEntry]:
        """Operations still pending or submitted (for recovery after a restart)."""
        ...

    def final_since(self, since: datetime) -> Sequence[JournalEntry]:
        """Operations that became final at or after ``since`` (re-checked after a chain restart)."""
        ...

    def reopen(self, operation_id: str, detail: str) -> None:
        """Put a final operation back to pending (the chain lost its block); others are left alone."""
        ...


class DocumentStore(Protocol):
    """The transport documents exactly as issued, keyed by eBL id and by document hash."""

    def put(self, ebl_id: EblId, document_hash: str, document: dict[str, Any], canonical: bytes) -> None:
        """Store a document (idempotent for the same eBL id and hash)."""
        ...

    def get(self, ebl_id: EblId) -> dict[str, Any]:
        """The issued document; :class:`~registry.errors.NotFoundError` if unknown."""
        ...

    def ebl_for_hash(self, document_hash: str) -> EblId | None:
        """Which eBL was issued with this document hash, if any."""
        ...


class CarrierCodes(Protocol):
    """Each carrier's ``carrierCode`` / ``carrierCodeListProvider`` pairs, recorded at onboarding."""

    def codes_of(self, org: str) -> tuple[CarrierCode, ...]:
        """The codes recorded for an organisation (empty when none)."""
        ...
