"""The checksums of PINT: lowercase hex SHA-256 (RFC 6234) over what the YAML names.

* a JSON value (the transport document, ``issueTo``): over its RFC 8785 canonical form;
* a chain entry or any JWS: over the ASCII bytes of its compact serialisation, as sent;
* a supporting document or the eBL visualisation: over its decoded bytes.
"""

from __future__ import annotations

import hashlib

import rfc8785

from registry.documents.canonical import Document
from registry.errors import InvalidDocumentError, Violation

__all__ = ["bytes_checksum", "checksum", "jws_checksum"]


def checksum(value: object) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of ``value`` (``transportDocumentChecksum``,
    ``issueToChecksum``). A JSON object goes through :class:`registry.documents.Document`, so it is the
    very hash the registry records for a transport document.

    Raises:
        InvalidDocumentError: ``value`` is not JSON (or an object over the document limits).
    """
    if isinstance(value, dict | Document):
        return str(Document.from_value(value).hash)
    try:
        return hashlib.sha256(rfc8785.dumps(value)).hexdigest()  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidDocumentError([Violation("$", "json.invalid", f"cannot canonicalise: {exc}")]) from exc


def jws_checksum(compact: str) -> str:
    """SHA-256 hex over the ASCII bytes of a compact JWS, exactly as sent (the checksum of an
    ``EnvelopeTransferChainEntrySignedContent``).

    Raises:
        ValueError: ``compact`` is not ASCII (so it is no compact JWS).
    """
    return hashlib.sha256(compact.encode("ascii")).hexdigest()


def bytes_checksum(data: bytes) -> str:
    """SHA-256 hex of raw bytes (``DocumentMetadata.documentChecksum``: the decoded document)."""
    return hashlib.sha256(data).hexdigest()
