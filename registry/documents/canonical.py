"""A transport document's identity: SHA-256 over its RFC 8785 (JSON Canonicalization Scheme) form.

This is DCSA PINT's ``transportDocumentChecksum``: lowercase hex, over the canonical form, so the hash does
not depend on key order, whitespace, escapes or number spelling. A :class:`Document` is checked once and
canonicalised at most once, however many layers of a request ask for its hash.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from registry.documents.jsontext import checked_object, parse_json_text
from registry.errors import InvalidDocumentError, Violation
from registry.types import DocumentHash

__all__ = [
    "Document",
    "canonical_form",
    "canonical_json",
    "document_hash",
    "document_hash_bytes",
    "hash_json_text",
]

_TOKEN = object()


class Document:
    """A JSON object checked to be made of JSON values within the size and depth limits.

    Build one with :meth:`from_value` or :meth:`from_text`; its canonical form and digest are computed on
    first use and kept. It checks shape only (DCSA validation: :func:`~registry.documents.validate_document`).

    Attributes:
        value: the parsed document (callers must not mutate it).
    """

    __slots__ = ("_canonical", "_digest", "value")

    def __init__(self, value: dict[str, Any], token: object) -> None:
        if token is not _TOKEN:
            raise TypeError("use Document.from_value or Document.from_text")
        self.value = value
        self._canonical: bytes | None = None
        self._digest: bytes | None = None

    @classmethod
    def from_value(cls, doc: object) -> Document:
        """Check a parsed document.

        Raises:
            InvalidDocumentError: ``doc`` is not a JSON object of JSON values within the limits (rules
                ``document.*``, ``json.invalid``).
        """
        if isinstance(doc, Document):
            return doc
        return cls(checked_object(doc), _TOKEN)

    @classmethod
    def from_text(cls, text: str | bytes, *, parsed: Any = None) -> Document:
        """Parse JSON text strictly (see :func:`~registry.documents.parse_json_text`).

        Args:
            text: the JSON text a party presents, as ``str`` or UTF-8 ``bytes``.
            parsed: the value the gateway already parsed from this text, if any (``None`` parses).

        Raises:
            InvalidDocumentError: the text is not an acceptable JSON object.
        """
        value = parse_json_text(text) if parsed is None else parse_json_text(text, parsed=parsed)
        return cls(value, _TOKEN)

    @classmethod
    def checked(cls, value: dict[str, Any]) -> Document:
        """Wrap a value whose shape its caller has just checked (no second walk). Internal to the package."""
        return cls(value, _TOKEN)

    @property
    def canonical(self) -> bytes:
        """The RFC 8785 serialisation: sorted keys, no whitespace, ECMAScript number formatting."""
        if self._canonical is None:
            try:
                self._canonical = rfc8785.dumps(self.value)
            except rfc8785.CanonicalizationError as exc:  # pragma: no cover - the shape check catches these
                raise InvalidDocumentError(
                    [Violation("$", "json.invalid", f"cannot canonicalise: {exc}")]
                ) from exc
        return self._canonical

    @property
    def digest(self) -> bytes:
        """The 32 raw bytes of the SHA-256 of :attr:`canonical` (the ``bytes32`` recorded on chain)."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.canonical).digest()
        return self._digest

    @property
    def hash(self) -> DocumentHash:
        """:attr:`digest` as 64 lowercase hex digits: DCSA PINT's ``transportDocumentChecksum``."""
        return DocumentHash(self.digest.hex())


def canonical_json(doc: object) -> bytes:
    """Return the RFC 8785 (JSON Canonicalization Scheme) serialisation of a transport document.

    Args:
        doc: the parsed JSON transport document (or a :class:`Document`).

    Returns:
        The canonical UTF-8 bytes: sorted keys, no whitespace, ECMAScript number formatting.

    Raises:
        InvalidDocumentError: if ``doc`` is not a JSON object of JSON values within the size and depth limits
            (rules ``document.*``, ``json.invalid``).
    """
    return Document.from_value(doc).canonical


def document_hash(doc: object) -> DocumentHash:
    """SHA-256 (lowercase hex) over the RFC 8785 canonical JSON: DCSA PINT's ``transportDocumentChecksum``.

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    return Document.from_value(doc).hash


def document_hash_bytes(doc: object) -> bytes:
    """The 32 raw bytes of :func:`document_hash` (the ``bytes32`` recorded on chain).

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    return Document.from_value(doc).digest


def canonical_form(doc: object) -> tuple[bytes, bytes]:
    """The RFC 8785 canonical JSON and the 32 raw bytes of its SHA-256, canonicalised once (issuance
    stores the one and records the other on chain; canonicalising is the costly part).

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    checked = Document.from_value(doc)
    return checked.canonical, checked.digest


def hash_json_text(text: str | bytes) -> DocumentHash:
    """Parse JSON text strictly (see :func:`~registry.documents.parse_json_text`) and return its hash.

    The result depends only on the JSON data, not on key order, whitespace, escapes or number spelling.

    Raises:
        InvalidDocumentError: if the text is not an acceptable JSON object.
    """
    return Document.from_text(text).hash
