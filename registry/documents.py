"""Transport documents: DCSA eBL 3.0 validation, canonical hashing and on-chain identity.

A transport document is the JSON object DCSA eBL 3.0 calls ``TransportDocument``. This module

* validates it against the DCSA JSON Schema (vendored from the DCSA OpenAPI file, see
  ``scripts/vendor_dcsa_schema.py``) and against the DCSA rules the schema cannot express, reporting *every*
  broken rule as a :class:`~registry.errors.Violation` with a JSONPath;
* hashes it exactly as DCSA PINT's ``transportDocumentChecksum``: SHA-256, lowercase hex, over the RFC 8785
  (JSON Canonicalization Scheme) form, so the hash does not depend on key order or whitespace;
* derives the on-chain identity of a title record (``tdrHash``, ``eblId``) as ``TitleRegistry.sol`` does;
* extracts the few facts the title layer needs (:class:`DocumentFacts`).

Typical use at issuance::

    facts = validate_for_issuance(document)            # raises InvalidDocumentError with all violations
    checksum = document_hash(document)                  # DocumentHash, 64 hex digits
    record_id = ebl_id(carrier_address, tdr_hash(facts.reference))

Number handling when hashing JSON text (:func:`hash_json_text`): integers are parsed exactly and must lie in
the I-JSON range ``±(2**53 - 1)`` (larger ones are refused rather than rounded); other numbers are parsed as
IEEE 754 doubles, exactly as ECMAScript's ``JSON.parse`` does, and serialised per ECMAScript, so ``1.0``,
``1e0`` and ``1`` all canonicalise to ``1`` and digits beyond double precision do not change the hash. This is
what RFC 8785 prescribes and what JCS implementations in other languages compute.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Any, Final

import rfc8785
from eth_abi.abi import encode as abi_encode
from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak

from registry._dcsa_schema import json_path, json_type, schema_violations
from registry.errors import DuplicateKeyError, InvalidDocumentError, Violation
from registry.types import DocumentHash, DocumentKind, EblId

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_TEXT_BYTES",
    "CarrierCode",
    "DocumentFacts",
    "IdentifyingCode",
    "PartyFacts",
    "canonical_form",
    "canonical_json",
    "document_hash",
    "document_hash_bytes",
    "ebl_id",
    "extract_facts",
    "find_violations",
    "hash_json_text",
    "json_nesting_depth",
    "parse_json_text",
    "parse_json_value",
    "tdr_hash",
    "transport_document_reference",
    "validate_document",
    "validate_for_issuance",
]

MAX_DOCUMENT_BYTES: Final = 1 << 20
"""Largest accepted document: 1 MiB as compact UTF-8 JSON (its canonical form)."""

MAX_TEXT_BYTES: Final = 4 * MAX_DOCUMENT_BYTES
"""Largest accepted JSON *text* (before parsing; leaves room for indentation)."""

MAX_DEPTH: Final = 64
"""Deepest accepted nesting of objects and arrays (the document object itself is level 1)."""

_SAFE_INTEGER: Final = 2**53 - 1
_SHIPMENT_DATES: Final = ("shippedOnBoardDate", "receivedForShipmentDate")
_FATAL_RULES: Final = frozenset({"document.not-object", "document.too-large", "document.too-deep"})
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A JSON string, or an unterminated one up to the end of the text: every '"' outside a string starts a match
# that succeeds, so substitution is linear even for hostile input.
_JSON_STRING: Final = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]++")
_BRACKET_DELTA: Final = {"[": 1, "{": 1, "]": -1, "}": -1}


# --- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentifyingCode:
    """One DCSA ``IdentifyingCode`` of a party (e.g. ``GLEIF``/``LEI``/``529900T8BM49AURSDO55``)."""

    code_list_provider: str
    party_code: str
    code_list_name: str | None = None


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """A document party as the title layer sees it: its name and identifying codes."""

    name: str
    identifying_codes: tuple[IdentifyingCode, ...] = ()
    send_to_platform: str | None = None
    """eBL platform code (``issueTo`` only, e.g. ``BOLE``)."""


@dataclass(frozen=True, slots=True)
class CarrierCode:
    """The issuing carrier's code and its code list (``carrierCode``, ``carrierCodeListProvider``)."""

    code: str
    code_list_provider: str

    def __str__(self) -> str:
        return f"{self.code_list_provider}:{self.code}"


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the title layer needs from a transport document.

    Attributes:
        reference: the Transport Document Reference (TDR), ``transportDocumentReference``.
        is_to_order: ``isToOrder``: negotiable (to order) or straight.
        kind: :attr:`DocumentKind.TO_ORDER` or :attr:`DocumentKind.STRAIGHT`, from ``is_to_order``.
        issue_date: ``issueDate``, if present.
        shipped_on_board_date: ``shippedOnBoardDate``, if present.
        received_for_shipment_date: ``receivedForShipmentDate``, if present.
        carrier_code: ``carrierCode`` with ``carrierCodeListProvider``.
        shipper: ``documentParties.shipper``.
        consignee: ``documentParties.consignee`` (straight bills).
        endorsee: ``documentParties.endorsee`` (to-order bills; absent means blank endorsed).
        issue_to: the party the eBL is issued to: the issuance request's ``issueTo`` when given, else
            ``documentParties.issueTo`` (the Shipping Instructions shape) when present.
    """

    reference: str
    is_to_order: bool
    kind: DocumentKind
    issue_date: date | None
    shipped_on_board_date: date | None
    received_for_shipment_date: date | None
    carrier_code: CarrierCode
    shipper: PartyFacts
    consignee: PartyFacts | None = None
    endorsee: PartyFacts | None = None
    issue_to: PartyFacts | None = None


# --- validation --------------------------------------------------------------------------------


def find_violations(doc: object) -> tuple[Violation, ...]:
    """Check a transport document and return every violation found (empty when it is valid).

    Checks, in order: that ``doc`` is a JSON object made of JSON values within :data:`MAX_DEPTH` and
    :data:`MAX_DOCUMENT_BYTES` (if not, only that is reported); the DCSA eBL 3.0 ``TransportDocument`` schema
    (rules ``schema.<keyword>``); and the DCSA rules for an issued eBL that the schema does not carry
    (rules ``dcsa.*``, see :func:`validate_document`).

    Args:
        doc: the parsed JSON transport document (a ``dict``).

    Returns:
        The violations, without duplicates, in a deterministic order.
    """
    if not isinstance(doc, dict):
        return (Violation("$", "document.not-object", f"must be a JSON object, not {json_type(doc)}"),)
    shape = _shape_violations(doc)
    if any(v.rule in _FATAL_RULES for v in shape):
        return tuple(shape)
    return tuple(dict.fromkeys([*shape, *schema_violations(doc), *_rule_violations(doc)]))


def validate_document(doc: object) -> None:
    """Validate a transport document as an issued DCSA eBL 3.0 electronic bill of lading.

    Beyond the schema, these DCSA rules apply (rule ids in brackets):

    * it carries ``issueDate`` [``dcsa.issue-date-required``];
    * exactly one of ``shippedOnBoardDate`` / ``receivedForShipmentDate`` [``dcsa.one-shipment-date``], and
      the one present agrees with ``isShippedOnBoardType`` [``dcsa.shipment-date-type``];
    * at most one original: ``numberOfOriginalsWithCharges + numberOfOriginalsWithoutCharges <= 1``, a missing
      count being 0 [``dcsa.single-original``];
    * a to-order bill (``isToOrder`` true) names no ``documentParties.consignee``
      [``dcsa.to-order-no-consignee``]; a straight bill names one [``dcsa.straight-needs-consignee``] and no
      endorsee [``dcsa.straight-no-endorsee``];
    * a sea waybill is never to order [``dcsa.sea-waybill-not-to-order``];
    * ``isElectronic`` is true [``dcsa.electronic``].

    Args:
        doc: the parsed JSON transport document.

    Raises:
        InvalidDocumentError: with every violation found (see :func:`find_violations`).
    """
    violations = find_violations(doc)
    if violations:
        raise InvalidDocumentError(violations)


def validate_for_issuance(doc: object, *, issue_to: object = None) -> DocumentFacts:
    """Validate a transport document for issuance as an eBL title, and return its facts.

    Everything :func:`validate_document` checks, plus: ``transportDocumentStatus`` is ``ISSUED``
    [``dcsa.status-issued``]; the document is a bill of lading, ``transportDocumentTypeCode`` ``BOL``, since a
    sea waybill is not a document of title [``dcsa.bill-of-lading``]; and the recipient, if given, is a valid
    DCSA ``IssueToParty``.

    Args:
        doc: the parsed JSON transport document.
        issue_to: the issuance request's ``issueTo`` object (it travels beside the document, not inside it);
            its violations are reported under ``$.issueTo``.

    Returns:
        The document's :class:`DocumentFacts`.

    Raises:
        InvalidDocumentError: with every violation found.
    """
    violations = list(find_violations(doc))
    if isinstance(doc, dict) and not any(v.rule in _FATAL_RULES for v in violations):
        violations += _issuance_violations(doc)
        parties = doc.get("documentParties")
        if issue_to is None and isinstance(parties, dict) and "issueTo" in parties:
            violations += schema_violations(parties["issueTo"], "IssueToParty", "$.documentParties.issueTo")
    if issue_to is not None:
        violations += _issue_to_violations(issue_to)
    if violations:
        raise InvalidDocumentError(list(dict.fromkeys(violations)))
    return extract_facts(doc, issue_to=issue_to)


def _issue_to_violations(issue_to: object) -> list[Violation]:
    if not isinstance(issue_to, dict):
        return [
            Violation("$.issueTo", "document.not-object", f"must be a JSON object, not {json_type(issue_to)}")
        ]
    shape = _shape_violations(issue_to, root="$.issueTo")
    if any(v.rule in _FATAL_RULES for v in shape):
        return shape
    return [*shape, *schema_violations(issue_to, "IssueToParty", "$.issueTo")]


def _rule_violations(doc: dict[str, Any]) -> list[Violation]:
    """The DCSA rules for an issued eBL that the schema does not carry (skipping fields of the wrong type)."""
    found: list[Violation] = []
    if "issueDate" not in doc:
        found.append(
            Violation("$.issueDate", "dcsa.issue-date-required", "an issued eBL must carry issueDate")
        )

    dates = [key for key in _SHIPMENT_DATES if key in doc]
    if len(dates) != 1:
        # Both fields are at fault (both present, or both missing): each is named by its own path.
        which = "neither is present" if not dates else "both are present"
        found.extend(
            Violation(
                f"$.{key}",
                "dcsa.one-shipment-date",
                f"exactly one of shippedOnBoardDate and receivedForShipmentDate is required; {which}",
            )
            for key in _SHIPMENT_DATES
        )
    elif isinstance(on_board := doc.get("isShippedOnBoardType"), bool) and on_board != (
        dates[0] == "shippedOnBoardDate"
    ):
        kind = "shipped on board" if on_board else "received for shipment"
        found.append(
            Violation(
                "$.isShippedOnBoardType",
                "dcsa.shipment-date-type",
                f"isShippedOnBoardType says {kind}, but the document carries {dates[0]}",
            )
        )

    counts = {
        key: doc[key]
        for key in ("numberOfOriginalsWithCharges", "numberOfOriginalsWithoutCharges")
        if isinstance(doc.get(key), int) and not isinstance(doc[key], bool)
    }
    if sum(counts.values()) > 1:
        nonzero = [key for key, count in counts.items() if count]
        path = f"$.{nonzero[0]}" if len(nonzero) == 1 else "$"
        detail = " + ".join(f"{key} {count}" for key, count in counts.items())
        found.append(Violation(path, "dcsa.single-original", f"an eBL has at most one original; {detail}"))

    is_to_order = doc.get("isToOrder")
    parties = doc.get("documentParties")
    if isinstance(parties, dict) and isinstance(is_to_order, bool):
        if is_to_order and "consignee" in parties:
            found.append(
                Violation(
                    "$.documentParties.consignee",
                    "dcsa.to-order-no-consignee",
                    "a to-order bill (isToOrder true) names an endorsee, not a consignee",
                )
            )
        if not is_to_order and "consignee" not in parties:
            found.append(
                Violation(
                    "$.documentParties.consignee",
                    "dcsa.straight-needs-consignee",
                    "a straight bill (isToOrder false) must name its consignee",
                )
            )
        if not is_to_order and "endorsee" in parties:
            found.append(
                Violation(
                    "$.documentParties.endorsee",
                    "dcsa.straight-no-endorsee",
                    "a straight bill (isToOrder false) cannot name an endorsee",
                )
            )
    if is_to_order is True and doc.get("transportDocumentTypeCode") == "SWB":
        found.append(
            Violation(
                "$.isToOrder", "dcsa.sea-waybill-not-to-order", "a sea waybill (SWB) cannot be to order"
            )
        )
    if doc.get("isElectronic") is False:
        found.append(Violation("$.isElectronic", "dcsa.electronic", "an eBL must have isElectronic true"))
    return found


def _issuance_violations(doc: dict[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    status = doc.get("transportDocumentStatus")
    if isinstance(status, str) and status != "ISSUED":
        found.append(
            Violation(
                "$.transportDocumentStatus",
                "dcsa.status-issued",
                f"a document to be issued must have transportDocumentStatus ISSUED, not {status[:50]!r}",
            )
        )
    type_code = doc.get("transportDocumentTypeCode")
    if isinstance(type_code, str) and type_code != "BOL":
        found.append(
            Violation(
                "$.transportDocumentTypeCode",
                "dcsa.bill-of-lading",
                f"only a bill of lading (BOL) is a document of title, not {type_code[:10]!r}",
            )
        )
    return found


# --- JSON shape and size guard -----------------------------------------------------------------

_PathNode = tuple["_PathNode | None", str | int] | None


def _node_path(node: _PathNode, root: str) -> str:
    parts: list[str | int] = []
    while node is not None:
        node, key = node
        parts.append(key)
    return json_path(reversed(parts), root)


def _utf8_ok(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shape_violations(value: object, root: str = "$") -> list[Violation]:
    """Check that ``value`` consists of JSON values only, and is neither too deep nor too large.

    Walks iteratively (no recursion limit involved) and stops at the first container nested deeper than
    :data:`MAX_DEPTH` or as soon as the serialised size provably exceeds :data:`MAX_DOCUMENT_BYTES`; those two
    are then the only violation returned. Other problems (NaN, infinities, integers outside the I-JSON range,
    non-string keys, lone surrogates, Python-only types) are all collected under rule ``json.invalid``.
    """
    found: list[Violation] = []
    low = high = 0  # bounds on the compact UTF-8 serialisation size
    stack: list[tuple[object, int, _PathNode]] = [(value, 1, None)]
    while stack:
        item, depth, node = stack.pop()
        if isinstance(item, str):
            low += len(item) + 2
            high += 6 * len(item) + 2
            if not _utf8_ok(item):
                found.append(Violation(_node_path(node, root), "json.invalid", "string is not valid Unicode"))
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return [Violation(root, "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
            size = 2 + max(len(item) - 1, 0)
            low += size
            high += size
            if isinstance(item, list):
                stack.extend((sub, depth + 1, (node, index)) for index, sub in enumerate(item))
            else:
                for key, sub in item.items():
                    if not isinstance(key, str):
                        found.append(
                            Violation(
                                _node_path(node, root), "json.invalid", f"object key {key!r} is not a string"
                            )
                        )
                        continue
                    low += len(key) + 3
                    high += 6 * len(key) + 3
                    if not _utf8_ok(key):
                        found.append(
                            Violation(_node_path(node, root), "json.invalid", "key is not valid Unicode")
                        )
                    stack.append((sub, depth + 1, (node, key)))
        elif item is None or isinstance(item, bool):
            low += 4
            high += 5
        elif isinstance(item, int):
            low += 1
            high += 17
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                found.append(
                    Violation(
                        _node_path(node, root),
                        "json.invalid",
                        "integer outside the I-JSON range ±(2**53 - 1) cannot be canonicalised (RFC 8785)",
                    )
                )
        elif isinstance(item, float):
            low += 1
            high += 25
            if not math.isfinite(item):
                found.append(
                    Violation(_node_path(node, root), "json.invalid", "NaN and Infinity are not JSON")
                )
        else:
            found.append(
                Violation(
                    _node_path(node, root), "json.invalid", f"{type(item).__name__} is not a JSON value"
                )
            )
        if low > MAX_DOCUMENT_BYTES:
            return [_too_large(root)]
    if high > MAX_DOCUMENT_BYTES and not found:
        exact = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if exact > MAX_DOCUMENT_BYTES:
            return [_too_large(root)]
    return found


def _too_large(root: str) -> Violation:
    return Violation(root, "document.too-large", f"larger than {MAX_DOCUMENT_BYTES} bytes as compact JSON")


# --- canonical JSON and hashing ----------------------------------------------------------------


def canonical_json(doc: object) -> bytes:
    """Return the RFC 8785 (JSON Canonicalization Scheme) serialisation of a transport document.

    Args:
        doc: the parsed JSON transport document.

    Returns:
        The canonical UTF-8 bytes: sorted keys, no whitespace, ECMAScript number formatting.

    Raises:
        InvalidDocumentError: if ``doc`` is not a JSON object of JSON values within the size and depth limits
            (rules ``document.*``, ``json.invalid``).
    """
    if not isinstance(doc, dict):
        raise InvalidDocumentError(
            [Violation("$", "document.not-object", f"must be a JSON object, not {json_type(doc)}")]
        )
    shape = _shape_violations(doc)
    if shape:
        raise InvalidDocumentError(shape)
    try:
        return rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - the shape check catches these first
        raise InvalidDocumentError([Violation("$", "json.invalid", f"cannot canonicalise: {exc}")]) from exc


def document_hash(doc: object) -> DocumentHash:
    """SHA-256 (lowercase hex) over the RFC 8785 canonical JSON: DCSA PINT's ``transportDocumentChecksum``.

    Args:
        doc: the parsed JSON transport document.

    Returns:
        64 lowercase hex digits.

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    return DocumentHash(hashlib.sha256(canonical_json(doc)).hexdigest())


def document_hash_bytes(doc: object) -> bytes:
    """The 32 raw bytes of :func:`document_hash` (the ``bytes32`` recorded on chain).

    Args:
        doc: the parsed JSON transport document.

    Returns:
        The SHA-256 digest.

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    return canonical_form(doc)[1]


def canonical_form(doc: object) -> tuple[bytes, bytes]:
    """The RFC 8785 canonical JSON and the 32 raw bytes of its SHA-256, canonicalised once (issuance
    stores the one and records the other on chain; canonicalising is the costly part).

    Raises:
        InvalidDocumentError: as :func:`canonical_json`.
    """
    canonical = canonical_json(doc)
    return canonical, hashlib.sha256(canonical).digest()


class _Rejected(Exception):
    """Internal: a JSON text feature we refuse (NaN, Infinity)."""


class _DuplicateKey(Exception):
    """Internal: an object of the text repeats a key (its path is found afterwards: _duplicate_paths)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


class _Pairs(list[tuple[str, Any]]):
    """Internal: one JSON object as its key/value pairs in text order, repeats included."""


def _zero(_: str) -> int:
    return 0


def _duplicate_paths(text: str | bytes) -> list[str]:
    """The JSON path of every repeated key in ``text``, in text order.

    A second parse, only once the fast one found a repeat (the object hook runs innermost first and
    cannot know where it is): it keeps every object's pairs and walks them with their paths. Numbers
    and constants are not converted, so nothing but the keys can fail.
    """
    tree = json.loads(
        text, object_pairs_hook=_Pairs, parse_int=_zero, parse_float=_zero, parse_constant=_zero
    )
    found: list[str] = []

    def walk(value: object, parts: tuple[str | int, ...]) -> None:  # depth is bounded by MAX_DEPTH
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for key, sub in value:
                if key in seen:
                    found.append(json_path((*parts, key)))
                seen.add(key)
                walk(sub, (*parts, key))
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(sub, (*parts, index))

    walk(tree, ())
    return list(dict.fromkeys(found))


def parse_json_value(text: str | bytes) -> Any:
    """Parse JSON text of any shape (a request body, EIP-712 typed data) as I-JSON requires of objects:
    no key twice in one object (RFC 7493 section 2.3).

    Python's parser, like JavaScript's, silently keeps the last of two equal keys where other parsers
    keep the first or refuse; a text two readers read differently is refused instead. This is the fast
    path: one C parse with a hook comparing each object's size to its number of pairs.

    Args:
        text: the JSON text, as ``str`` or ``bytes`` (UTF-8, -16 or -32, as :func:`json.loads`).

    Returns:
        The parsed value.

    Raises:
        DuplicateKeyError: naming the JSON path of every repeated key.
        json.JSONDecodeError: the text is not JSON (callers report that as they already do).
        RecursionError: nested deeper than the interpreter allows (guard with :func:`json_nesting_depth`).
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey:
        raise DuplicateKeyError(_duplicate_paths(text)) from None


def _no_constants(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def _nesting(text: str) -> int:
    """Deepest bracket nesting in JSON text, ignoring brackets in strings (linear time, no recursion)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets)), default=0)


def json_nesting_depth(text: str) -> int:
    """Deepest bracket nesting of JSON text, without parsing it (for guards in front of a parser)."""
    return _nesting(text)


def parse_json_text(text: str | bytes) -> dict[str, Any]:
    """Parse JSON text strictly into a transport document object.

    Refuses duplicate object keys (:class:`~registry.errors.DuplicateKeyError`, rule
    ``json.duplicate-key``, at the path of each repeated key); refuses (rule ``json.invalid``) invalid
    UTF-8, a byte order mark, syntax errors, ``NaN``/``Infinity``, lone surrogates and integers outside
    ``±(2**53 - 1)``; refuses texts over :data:`MAX_TEXT_BYTES` and documents over
    :data:`MAX_DOCUMENT_BYTES` (``document.too-large``), nesting over :data:`MAX_DEPTH`
    (``document.too-deep``) and top-level values other than an object (``document.not-object``).
    Integers are parsed exactly; other numbers as IEEE 754 doubles.

    Args:
        text: the JSON text, as ``str`` or UTF-8 ``bytes``.

    Returns:
        The parsed object.

    Raises:
        DuplicateKeyError: an object repeats a key (an :class:`InvalidDocumentError`).
        InvalidDocumentError: with the reason.
    """
    size = (
        len(text) if isinstance(text, bytes) or text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    )
    if size > MAX_TEXT_BYTES:
        raise InvalidDocumentError(
            [Violation("$", "document.too-large", f"JSON text over {MAX_TEXT_BYTES} bytes")]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidDocumentError(
                [Violation("$", "json.invalid", f"not valid UTF-8 (byte offset {exc.start})")]
            ) from exc
    if _nesting(text) > MAX_DEPTH:  # before parsing: the C decoder recurses, and can overflow the C stack
        raise InvalidDocumentError(
            [Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
        )
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except _DuplicateKey:
        raise DuplicateKeyError(_duplicate_paths(text)) from None
    except _Rejected as exc:
        raise InvalidDocumentError([Violation("$", "json.invalid", str(exc))]) from exc
    except json.JSONDecodeError as exc:
        message = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise InvalidDocumentError([Violation("$", "json.invalid", message)]) from exc
    except RecursionError as exc:
        raise InvalidDocumentError(
            [Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
        ) from exc
    except ValueError as exc:  # e.g. an integer literal longer than Python's int parsing limit
        raise InvalidDocumentError([Violation("$", "json.invalid", str(exc)[:200])]) from exc
    if not isinstance(value, dict):
        raise InvalidDocumentError(
            [Violation("$", "document.not-object", f"must be a JSON object, not {json_type(value)}")]
        )
    shape = _shape_violations(value)
    if shape:
        raise InvalidDocumentError(shape)
    return value


def hash_json_text(text: str | bytes) -> DocumentHash:
    """Parse JSON text strictly (see :func:`parse_json_text`) and return its :func:`document_hash`.

    The result depends only on the JSON data, not on key order, whitespace, escapes or number spelling.

    Args:
        text: the JSON text a party presents, as ``str`` or UTF-8 ``bytes``.

    Returns:
        64 lowercase hex digits.

    Raises:
        InvalidDocumentError: if the text is not an acceptable JSON object.
    """
    return document_hash(parse_json_text(text))


# --- identity ----------------------------------------------------------------------------------


def transport_document_reference(doc: object) -> str:
    """Return the document's Transport Document Reference (``transportDocumentReference``).

    Args:
        doc: the parsed JSON transport document.

    Returns:
        The TDR.

    Raises:
        InvalidDocumentError: if ``doc`` is not an object or has no string TDR.
    """
    if not isinstance(doc, dict):
        raise InvalidDocumentError(
            [Violation("$", "document.not-object", f"must be a JSON object, not {json_type(doc)}")]
        )
    problems: list[Violation] = []
    reference = _required_str(doc, "transportDocumentReference", "$", problems)
    if problems:
        raise InvalidDocumentError(problems)
    return reference


def tdr_hash(reference: str) -> bytes:
    """keccak256 of the UTF-8 Transport Document Reference: the ``tdrHash`` the contracts take.

    Args:
        reference: the TDR, e.g. ``"HHL71800000"``.

    Returns:
        32 bytes.

    Raises:
        ValueError: if ``reference`` is empty or not encodable as UTF-8.
    """
    if not isinstance(reference, str) or not reference:
        raise ValueError("a transport document reference must be a non-empty string")
    return keccak(reference.encode("utf-8"))


def ebl_id(carrier: str, tdr_hash: bytes) -> EblId:
    """The on-chain eBL id: ``uint256(keccak256(abi.encode(address carrier, bytes32 tdrHash)))``.

    Mirrors ``TitleRegistry.sol``, so a carrier can never issue two titles for one TDR.

    Args:
        carrier: the issuing carrier organisation's checksummed address.
        tdr_hash: the 32-byte :func:`tdr_hash` of the reference.

    Returns:
        The id as an unsigned 256-bit integer.

    Raises:
        ValueError: if ``carrier`` is not a checksummed address or ``tdr_hash`` is not 32 bytes.
    """
    if not isinstance(carrier, str) or not is_checksum_address(carrier):
        raise ValueError(f"carrier must be a checksummed address, got {carrier!r}")
    if not isinstance(tdr_hash, bytes) or len(tdr_hash) != 32:
        raise ValueError("tdr_hash must be exactly 32 bytes")
    return EblId(int.from_bytes(keccak(abi_encode(["address", "bytes32"], [carrier, tdr_hash])), "big"))


# --- facts extraction --------------------------------------------------------------------------


def extract_facts(doc: object, *, issue_to: object = None) -> DocumentFacts:
    """Extract the :class:`DocumentFacts` of a transport document.

    Does not validate the document (use :func:`validate_for_issuance` for that); it only insists on the fields
    it reads: a string ``transportDocumentReference``, boolean ``isToOrder``, ``carrierCode``,
    ``carrierCodeListProvider``, a ``documentParties.shipper`` with a ``partyName``, valid ISO dates and
    well-formed parties.

    Args:
        doc: the parsed JSON transport document.
        issue_to: the issuance request's ``issueTo`` object, if any (else ``documentParties.issueTo`` is used
            when present).

    Returns:
        The facts.

    Raises:
        InvalidDocumentError: if a field it reads is missing or malformed.
    """
    if not isinstance(doc, dict):
        raise InvalidDocumentError(
            [Violation("$", "document.not-object", f"must be a JSON object, not {json_type(doc)}")]
        )
    problems: list[Violation] = []
    reference = _required_str(doc, "transportDocumentReference", "$", problems)
    is_to_order = doc.get("isToOrder")
    if not isinstance(is_to_order, bool):
        problems.append(_missing_or_type(doc, "isToOrder", "$", "boolean"))
        is_to_order = False
    carrier_code = CarrierCode(
        _required_str(doc, "carrierCode", "$", problems),
        _required_str(doc, "carrierCodeListProvider", "$", problems),
    )
    dates = {key: _optional_date(doc, key, problems) for key in _DATE_FIELDS}

    parties = doc.get("documentParties")
    shipper: PartyFacts | None = None
    consignee = endorsee = party_to = None
    if not isinstance(parties, dict):
        problems.append(_missing_or_type(doc, "documentParties", "$", "object"))
    else:
        base = "$.documentParties"
        if "shipper" not in parties:
            problems.append(_missing_or_type(parties, "shipper", base, "object"))
        shipper = _party(parties.get("shipper"), f"{base}.shipper", problems)
        consignee = _party(parties.get("consignee"), f"{base}.consignee", problems)
        endorsee = _party(parties.get("endorsee"), f"{base}.endorsee", problems)
        if issue_to is None:
            party_to = _party(parties.get("issueTo"), f"{base}.issueTo", problems)
    if issue_to is not None:
        party_to = _party(issue_to, "$.issueTo", problems)
    if problems or shipper is None:
        raise InvalidDocumentError(list(dict.fromkeys(problems)))
    return DocumentFacts(
        reference=reference,
        is_to_order=is_to_order,
        kind=DocumentKind.TO_ORDER if is_to_order else DocumentKind.STRAIGHT,
        issue_date=dates["issueDate"],
        shipped_on_board_date=dates["shippedOnBoardDate"],
        received_for_shipment_date=dates["receivedForShipmentDate"],
        carrier_code=carrier_code,
        shipper=shipper,
        consignee=consignee,
        endorsee=endorsee,
        issue_to=party_to,
    )


_DATE_FIELDS: Final = ("issueDate", "shippedOnBoardDate", "receivedForShipmentDate")


def _missing_or_type(obj: Mapping[str, Any], key: str, base: str, expected: str) -> Violation:
    path = f"{base}.{key}"
    if key not in obj:
        return Violation(path, "schema.required", f"required property {key!r} is missing")
    return Violation(path, "schema.type", f"must be of type {expected}, not {json_type(obj[key])}")


def _required_str(obj: Mapping[str, Any], key: str, base: str, problems: list[Violation]) -> str:
    value = obj.get(key)
    if isinstance(value, str):
        return value
    problems.append(_missing_or_type(obj, key, base, "string"))
    return ""


def _optional_date(doc: Mapping[str, Any], key: str, problems: list[Violation]) -> date | None:
    value = doc.get(key)
    if key not in doc:
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Violation(f"$.{key}", "schema.format", "must be a valid date"))
    return None


def _party(value: object, path: str, problems: list[Violation]) -> PartyFacts | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(Violation(path, "schema.type", f"must be of type object, not {json_type(value)}"))
        return None
    name = _required_str(value, "partyName", path, problems)
    codes: list[IdentifyingCode] = []
    raw_codes = value.get("identifyingCodes", [])
    if not isinstance(raw_codes, list):
        problems.append(_missing_or_type(value, "identifyingCodes", path, "array"))
        raw_codes = []
    for index, raw in enumerate(raw_codes):
        where = f"{path}.identifyingCodes[{index}]"
        if not isinstance(raw, dict):
            problems.append(Violation(where, "schema.type", f"must be of type object, not {json_type(raw)}"))
            continue
        provider = _required_str(raw, "codeListProvider", where, problems)
        party_code = _required_str(raw, "partyCode", where, problems)
        list_name = raw.get("codeListName")
        codes.append(IdentifyingCode(provider, party_code, list_name if isinstance(list_name, str) else None))
    platform = value.get("sendToPlatform")
    return PartyFacts(name, tuple(codes), platform if isinstance(platform, str) else None)
