"""Transport documents: DCSA eBL 3.0 validation, canonical hashing and the facts the title layer needs.

A transport document is the JSON object DCSA eBL 3.0 calls ``TransportDocument``. This package

* parses JSON text strictly (:mod:`~registry.documents.jsontext`: I-JSON, no NaN, bounded nesting);
* validates a document against the vendored DCSA JSON Schema (:mod:`~registry.documents.schema`, ECMA-262
  patterns) and the DCSA rules the schema cannot express (:mod:`~registry.documents.rules`), reporting
  *every* broken rule as a :class:`~registry.errors.Violation` with a JSONPath;
* hashes it exactly as DCSA PINT's ``transportDocumentChecksum`` (:mod:`~registry.documents.canonical`):
  SHA-256, lowercase hex, over the RFC 8785 form, computed once per :class:`Document`;
* extracts the few facts the title layer needs (:mod:`~registry.documents.facts`).

The on-chain identity of a title record (``tdrHash``, ``eblId``) is the chain's: :mod:`registry.chain.ids`.

Typical use at issuance::

    facts, document = checked_for_issuance(value)       # raises InvalidDocumentError with all violations
    document.hash                                        # DocumentHash, 64 hex digits
    record_id = ebl_id(carrier_address, tdr_hash(facts.reference))   # registry.chain.ids

Number handling when hashing JSON text (:meth:`Document.from_text`): integers are parsed exactly and must
lie in the I-JSON range ``±(2**53 - 1)`` (larger ones are refused rather than rounded); other numbers are
parsed as IEEE 754 doubles, exactly as ECMAScript's ``JSON.parse`` does, and serialised per ECMAScript, so
``1.0``, ``1e0`` and ``1`` all canonicalise to ``1`` and digits beyond double precision do not change the
hash. This is what RFC 8785 prescribes and what JCS implementations in other languages compute.
"""

from registry.documents.canonical import (
    Document,
    canonical_form,
    canonical_json,
    document_hash,
    document_hash_bytes,
    hash_json_text,
)
from registry.documents.facts import (
    CarrierCode,
    DocumentFacts,
    IdentifyingCode,
    PartyFacts,
    extract_facts,
    transport_document_reference,
)
from registry.documents.jsontext import json_nesting_depth, parse_json_text, parse_json_value
from registry.documents.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_TEXT_BYTES
from registry.documents.rules import (
    checked_for_issuance,
    find_violations,
    validate_document,
    validate_for_issuance,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_TEXT_BYTES",
    "CarrierCode",
    "Document",
    "DocumentFacts",
    "IdentifyingCode",
    "PartyFacts",
    "canonical_form",
    "canonical_json",
    "checked_for_issuance",
    "document_hash",
    "document_hash_bytes",
    "extract_facts",
    "find_violations",
    "hash_json_text",
    "json_nesting_depth",
    "parse_json_text",
    "parse_json_value",
    "transport_document_reference",
    "validate_document",
    "validate_for_issuance",
]
