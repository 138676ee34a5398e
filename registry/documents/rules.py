"""DCSA eBL 3.0 validation: the vendored schema plus the rules for an issued eBL the schema cannot carry.

Every broken rule is reported as a :class:`~registry.errors.Violation` with a JSONPath, all at once.
"""

from __future__ import annotations

from typing import Any, Final, cast

from registry.documents.canonical import Document
from registry.documents.facts import DocumentFacts, extract_facts
from registry.documents.limits import FATAL_RULES
from registry.documents.schema import json_type, schema_violations
from registry.documents.shape import shape_violations
from registry.errors import InvalidDocumentError, Violation

__all__ = ["checked_for_issuance", "find_violations", "validate_document", "validate_for_issuance"]

_SHIPMENT_DATES: Final = ("shippedOnBoardDate", "receivedForShipmentDate")


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
    shape = shape_violations(doc)
    if any(v.rule in FATAL_RULES for v in shape):
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


def checked_for_issuance(doc: object, *, issue_to: object = None) -> tuple[DocumentFacts, Document]:
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
        The document's :class:`DocumentFacts`, and the document as a checked
        :class:`~registry.documents.Document` (so that canonicalising it does not walk it again).

    Raises:
        InvalidDocumentError: with every violation found.
    """
    violations = list(find_violations(doc))
    if isinstance(doc, dict) and not any(v.rule in FATAL_RULES for v in violations):
        violations += _issuance_violations(doc)
        parties = doc.get("documentParties")
        if issue_to is None and isinstance(parties, dict) and "issueTo" in parties:
            violations += schema_violations(parties["issueTo"], "IssueToParty", "$.documentParties.issueTo")
    if issue_to is not None:
        violations += _issue_to_violations(issue_to)
    if violations:
        raise InvalidDocumentError(list(dict.fromkeys(violations)))
    facts = extract_facts(doc, issue_to=issue_to)
    return facts, Document.checked(cast("dict[str, Any]", doc))  # extract_facts refuses anything else


def validate_for_issuance(doc: object, *, issue_to: object = None) -> DocumentFacts:
    """Validate a transport document for issuance and return its facts: :func:`checked_for_issuance`
    without the checked document.

    Raises:
        InvalidDocumentError: with every violation found.
    """
    return checked_for_issuance(doc, issue_to=issue_to)[0]


def _issue_to_violations(issue_to: object) -> list[Violation]:
    if not isinstance(issue_to, dict):
        return [
            Violation("$.issueTo", "document.not-object", f"must be a JSON object, not {json_type(issue_to)}")
        ]
    shape = shape_violations(issue_to, root="$.issueTo")
    if any(v.rule in FATAL_RULES for v in shape):
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
