"""The facts the title layer needs from a transport document: reference, negotiability, carrier, parties."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from registry.documents.schema import json_type
from registry.errors import InvalidDocumentError, Violation
from registry.types import DocumentKind

__all__ = [
    "CarrierCode",
    "DocumentFacts",
    "IdentifyingCode",
    "PartyFacts",
    "extract_facts",
    "transport_document_reference",
]

_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
