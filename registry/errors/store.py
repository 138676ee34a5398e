"""The store: what the index does not hold, and conflicts with what it does."""

from __future__ import annotations

from registry.errors.base import RegistryError

__all__ = [
    "CarrierCodeTakenError",
    "DcsaRequestConflictError",
    "IdempotencyConflictError",
    "NoMatchingEblError",
    "NotFoundError",
    "StoreError",
]


class StoreError(RegistryError):
    """Raised when the database refuses or fails an operation."""

    code = "store_error"


class NotFoundError(StoreError):
    """Raised when an eBL, organisation, document or operation does not exist."""

    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} {key} not found")


class NoMatchingEblError(NotFoundError):
    """Raised when a presented document matches no eBL: none was ever issued with its hash."""

    code = "no_matching_ebl"

    def __init__(self, document_hash: str) -> None:
        super().__init__("eBL issued with document", document_hash)
        self.document_hash = document_hash
        self.args = (
            f"No eBL was issued for this document (SHA-256 of its RFC 8785 canonical form: {document_hash})",
        )


class CarrierCodeTakenError(StoreError):
    """Raised when a carrier code is claimed that already belongs to another organisation (a code names
    one carrier, on its code list).

    Attributes:
        carrier_code: ``PROVIDER:CODE`` (``SMDG:MSC``).
        owner: the organisation it belongs to.
    """

    code = "carrier_code_taken"

    def __init__(self, carrier_code: str, owner: str) -> None:
        self.carrier_code, self.owner = carrier_code, owner
        super().__init__(f"carrier code {carrier_code} already belongs to organisation {owner}")


class IdempotencyConflictError(StoreError):
    """Raised when an Idempotency-Key is reused with a different request body."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different request")


class DcsaRequestConflictError(StoreError):
    """Raised when a DCSA request repeats one already handled: an issuance request for a document (by its
    checksum) that was requested before, or a second answer to one surrender request."""

    code = "duplicate"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)
