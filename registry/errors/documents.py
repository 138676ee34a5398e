"""Documents: a transport document the registry cannot accept, or one that does not match."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.errors.base import RegistryError

__all__ = [
    "CarrierMismatchError",
    "DocumentError",
    "DocumentMismatchError",
    "DuplicateKeyError",
    "InvalidDocumentError",
    "Violation",
]


class DocumentError(RegistryError):
    """Raised when a transport document cannot be accepted or verified."""

    code = "document_error"


@dataclass(frozen=True)
class Violation:
    """One broken rule in a document: where (JSON path), which rule, and a human message."""

    path: str
    rule: str
    message: str


class InvalidDocumentError(DocumentError):
    """Raised when a transport document breaks the DCSA schema or a DCSA business rule."""

    code = "invalid_document"

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        first = self.violations[0] if self.violations else Violation("$", "unknown", "invalid document")
        more = f" (+{len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
        super().__init__(f"{first.path}: {first.message} [{first.rule}]{more}")


_DUPLICATE_MESSAGE = "duplicate object key: this key appears more than once in its object (I-JSON, RFC 7493)"


class DuplicateKeyError(InvalidDocumentError):
    """Raised when JSON text names the same key twice in one object (I-JSON, RFC 7493 section 2.3).

    Parsers disagree on which of the values wins (Python's and JavaScript's keep the last, others the
    first or refuse), so such a text is refused rather than read one way. ``paths`` are the JSON paths
    of every repeated key, in document order (``$.transportDocumentReference``, ``$.items[0].issueTo``).
    """

    code = "duplicate_key"

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        super().__init__([Violation(path, "json.duplicate-key", _DUPLICATE_MESSAGE) for path in paths])


class CarrierMismatchError(DocumentError):
    """Raised when a document names another carrier than the organisation issuing (or amending) it:
    its ``carrierCode`` on its ``carrierCodeListProvider`` list is not one of the codes recorded for
    that organisation at onboarding.

    Attributes:
        carrier: the issuing organisation.
        named: the code the document names, ``PROVIDER:CODE`` (``SMDG:MAEU``).
        recorded: the issuing organisation's codes, same form (empty when none were recorded).
        violations: the refused fields by JSON path (``$.carrierCode``, and
            ``$.carrierCodeListProvider`` when only the code list differs).
    """

    code = "carrier_mismatch"

    def __init__(self, carrier: str, named: str, recorded: Sequence[str], paths: Sequence[str]) -> None:
        self.carrier, self.named, self.recorded = carrier, named, tuple(recorded)
        theirs = ", ".join(self.recorded) if self.recorded else "none recorded"
        message = f"the document names carrier {named}; the issuing carrier {carrier} has {theirs}"
        self.violations: tuple[Violation, ...] = tuple(
            Violation(path, "carrier.mismatch", message) for path in paths
        )
        super().__init__(f"{', '.join(paths)}: {message}")


class DocumentMismatchError(DocumentError):
    """Raised when a presented document does not hash to the hash recorded at issuance."""

    code = "document_mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(f"document hash {actual} does not match the issued hash {expected}")
