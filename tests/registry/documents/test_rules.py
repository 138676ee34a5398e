"""Tests for registry.documents.rules: the DCSA eBL 3.0 schema and rules for an issued eBL, all at once."""

from __future__ import annotations

import math
from datetime import date

import pytest

from registry.documents import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    IdentifyingCode,
    PartyFacts,
    canonical_json,
    document_hash,
    find_violations,
    validate_document,
    validate_for_issuance,
)
from registry.errors import InvalidDocumentError, Violation
from tests.fixtures.dcsa import example_names, issue_to_example, issued_example, load_example
from tests.registry.documents.support import (
    CONSIGNEE,
    ENDORSEE,
    nested,
    rules,
    straight_example,
    violations_of,
)


@pytest.mark.parametrize("name", example_names())
def test_every_dcsa_example_is_accepted_once_issuance_fields_are_set(name: str) -> None:
    """Each DCSA example transport document passes schema, rules and issuance checks once marked ISSUED."""
    doc = issued_example(name)
    assert find_violations(doc) == ()
    validate_document(doc)
    facts = validate_for_issuance(doc, issue_to=issue_to_example(name))
    assert facts.reference == doc["transportDocumentReference"]


def test_unmodified_regular_example_is_rejected_for_issuance() -> None:
    """The regular example as published is a DRAFT without issueDate, so it cannot be issued."""
    found = violations_of(load_example("regular"), issuance=True)
    assert {(v.path, v.rule) for v in found} == {
        ("$.issueDate", "dcsa.issue-date-required"),
        ("$.transportDocumentStatus", "dcsa.status-issued"),
    }


def test_issued_notification_example_lacks_issue_date_as_published() -> None:
    """The DCSA 'issued' notification example carries no issueDate, which the rules catch."""
    doc = load_example("notification-full-state")
    assert doc["transportDocumentStatus"] == "ISSUED"
    assert rules(doc) == {"dcsa.issue-date-required"}


def test_issue_to_is_validated_against_the_issue_to_party_schema() -> None:
    """A malformed issueTo is reported under $.issueTo with the schema rule that broke."""
    issue_to = {"partyName": "X", "sendToPlatform": "TOO-LONG", "identifyingCodes": []}
    found = violations_of(issued_example("issuance-request"), issuance=True, issue_to=issue_to)
    assert {(v.path, v.rule) for v in found} == {
        ("$.issueTo.sendToPlatform", "schema.maxLength"),
        ("$.issueTo.identifyingCodes", "schema.minItems"),
    }


def test_issue_to_must_be_an_object() -> None:
    """A non-object issueTo is refused with document.not-object at $.issueTo."""
    found = violations_of(issued_example("regular"), issuance=True, issue_to=["not", "a", "party"])
    assert found == (Violation("$.issueTo", "document.not-object", "must be a JSON object, not array"),)


def test_issue_to_inside_document_parties_is_used_and_validated() -> None:
    """documentParties.issueTo (the Shipping Instructions shape) is validated and extracted when present."""
    doc = issued_example("regular")
    doc["documentParties"]["issueTo"] = issue_to_example("issuance-request")
    assert validate_for_issuance(doc).issue_to == PartyFacts(
        "HHL Invest", (IdentifyingCode("BOLE", "BOLE001"),), "BOLE"
    )
    doc["documentParties"]["issueTo"] = {"partyName": "No codes"}
    found = violations_of(doc, issuance=True)
    assert [(v.path, v.rule) for v in found] == [
        ("$.documentParties.issueTo.identifyingCodes", "schema.required")
    ]


# --- schema violations carry JSON paths ----------------------------------------------------------


def test_validate_rejects_document_without_issue_date() -> None:
    """An eBL must carry issueDate."""
    assert violations_of(issued_example("regular", issueDate=None)) == (
        Violation("$.issueDate", "dcsa.issue-date-required", "an issued eBL must carry issueDate"),
    )


def test_validate_rejects_document_without_shipment_date() -> None:
    """An eBL needs one of shippedOnBoardDate / receivedForShipmentDate: both paths are named."""
    violations = violations_of(issued_example("regular", shippedOnBoardDate=None))
    assert [(v.path, v.rule) for v in violations] == [
        ("$.shippedOnBoardDate", "dcsa.one-shipment-date"),
        ("$.receivedForShipmentDate", "dcsa.one-shipment-date"),
    ]
    assert all("neither" in v.message for v in violations)


def test_validate_rejects_document_with_both_shipment_dates() -> None:
    """An eBL cannot be both shipped on board and received for shipment: each date is named by its path."""
    violations = violations_of(issued_example("regular", receivedForShipmentDate="2023-12-18"))
    assert [(v.path, v.rule) for v in violations] == [
        ("$.shippedOnBoardDate", "dcsa.one-shipment-date"),
        ("$.receivedForShipmentDate", "dcsa.one-shipment-date"),
    ]
    assert all("both" in v.message for v in violations)


def test_validate_accepts_received_for_shipment_document() -> None:
    """A received-for-shipment bill (isShippedOnBoardType false) is valid with receivedForShipmentDate."""
    doc = issued_example(
        "regular", shippedOnBoardDate=None, receivedForShipmentDate="2023-12-18", isShippedOnBoardType=False
    )
    facts = validate_for_issuance(doc)
    assert (facts.shipped_on_board_date, facts.received_for_shipment_date) == (None, date(2023, 12, 18))


def test_validate_rejects_shipment_date_contradicting_shipped_on_board_type() -> None:
    """The date present must agree with isShippedOnBoardType."""
    doc = issued_example("regular", shippedOnBoardDate=None, receivedForShipmentDate="2023-12-18")
    assert [(v.path, v.rule) for v in violations_of(doc)] == [
        ("$.isShippedOnBoardType", "dcsa.shipment-date-type")
    ]


@pytest.mark.parametrize(
    ("with_charges", "without_charges", "path"),
    [
        (1, 1, "$"),
        (2, None, "$.numberOfOriginalsWithCharges"),
        (None, 3, "$.numberOfOriginalsWithoutCharges"),
        (0, 2, "$.numberOfOriginalsWithoutCharges"),
    ],
)
def test_validate_rejects_more_than_one_original(
    with_charges: int | None, without_charges: int | None, path: str
) -> None:
    """numberOfOriginalsWithCharges + numberOfOriginalsWithoutCharges must not exceed 1."""
    doc = issued_example(
        "regular", numberOfOriginalsWithCharges=with_charges, numberOfOriginalsWithoutCharges=without_charges
    )
    assert [(v.path, v.rule) for v in violations_of(doc)] == [(path, "dcsa.single-original")]


@pytest.mark.parametrize(("with_charges", "without_charges"), [(1, 0), (0, 1), (0, 0), (1, None), (None, 1)])
def test_validate_accepts_a_single_original(with_charges: int | None, without_charges: int | None) -> None:
    """One original, or none stated, is fine (a missing count is 0)."""
    doc = issued_example(
        "regular", numberOfOriginalsWithCharges=with_charges, numberOfOriginalsWithoutCharges=without_charges
    )
    validate_document(doc)


def test_validate_rejects_to_order_document_with_consignee() -> None:
    """A to-order bill names an endorsee (or none: blank endorsed), never a consignee."""
    doc = issued_example("regular")
    doc["documentParties"]["consignee"] = CONSIGNEE
    assert violations_of(doc) == (
        Violation(
            "$.documentParties.consignee",
            "dcsa.to-order-no-consignee",
            "a to-order bill (isToOrder true) names an endorsee, not a consignee",
        ),
    )


def test_validate_rejects_straight_document_without_consignee() -> None:
    """A straight bill must name its consignee."""
    doc = straight_example()
    del doc["documentParties"]["consignee"]
    assert [(v.path, v.rule) for v in violations_of(doc)] == [
        ("$.documentParties.consignee", "dcsa.straight-needs-consignee")
    ]


def test_validate_rejects_straight_document_with_endorsee() -> None:
    """A straight bill cannot be endorsed."""
    doc = straight_example()
    doc["documentParties"]["endorsee"] = ENDORSEE
    assert [(v.path, v.rule) for v in violations_of(doc)] == [
        ("$.documentParties.endorsee", "dcsa.straight-no-endorsee")
    ]


def test_validate_rejects_to_order_sea_waybill() -> None:
    """A sea waybill (SWB) can never be to order."""
    doc = issued_example("regular", transportDocumentTypeCode="SWB")
    assert [(v.path, v.rule) for v in violations_of(doc)] == [
        ("$.isToOrder", "dcsa.sea-waybill-not-to-order")
    ]


def test_validate_rejects_paper_document() -> None:
    """isElectronic must be true for an eBL."""
    assert [(v.path, v.rule) for v in violations_of(issued_example("regular", isElectronic=False))] == [
        ("$.isElectronic", "dcsa.electronic")
    ]


def test_validate_for_issuance_rejects_a_status_other_than_issued() -> None:
    """Only a document with transportDocumentStatus ISSUED can be issued as a title."""
    doc = issued_example("regular", transportDocumentStatus="APPROVED")
    validate_document(doc)
    assert [(v.path, v.rule) for v in violations_of(doc, issuance=True)] == [
        ("$.transportDocumentStatus", "dcsa.status-issued")
    ]


def test_validate_for_issuance_rejects_a_sea_waybill() -> None:
    """A sea waybill is not a document of title, so it is not issued as one."""
    doc = straight_example(transportDocumentTypeCode="SWB")
    validate_document(doc)
    assert [(v.path, v.rule) for v in violations_of(doc, issuance=True)] == [
        ("$.transportDocumentTypeCode", "dcsa.bill-of-lading")
    ]


def test_rules_do_not_duplicate_schema_type_errors() -> None:
    """When a field the rules read has the wrong type, only the schema reports it."""
    doc = issued_example("regular", isToOrder="yes", isElectronic="no", numberOfOriginalsWithCharges="2")
    assert rules(doc) == {"schema.type"}


def test_validate_collects_all_violations() -> None:
    """Schema and rule violations are all reported together, not just the first."""
    doc = issued_example(
        "regular", issueDate=None, transportDocumentReference="R" * 21, isElectronic=False, carrierCode=None
    )
    doc["documentParties"]["consignee"] = CONSIGNEE
    del doc["transports"]["vesselVoyages"]
    with pytest.raises(InvalidDocumentError) as caught:
        validate_document(doc)
    assert {(v.path, v.rule) for v in caught.value.violations} == {
        ("$.transportDocumentReference", "schema.maxLength"),
        ("$.carrierCode", "schema.required"),
        ("$.transports.vesselVoyages", "schema.required"),
        ("$.issueDate", "dcsa.issue-date-required"),
        ("$.isElectronic", "dcsa.electronic"),
        ("$.documentParties.consignee", "dcsa.to-order-no-consignee"),
    }
    assert "(+5 more)" in str(caught.value)
    assert caught.value.code == "invalid_document"


# --- structural guards --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind"), [([], "array"), ("{}", "string"), (None, "null"), (1, "integer")])
def test_validate_rejects_non_object(value: object, kind: str) -> None:
    """Anything but a JSON object is refused with document.not-object."""
    assert violations_of(value) == (
        Violation("$", "document.not-object", f"must be a JSON object, not {kind}"),
    )


def test_validate_rejects_too_deep_document() -> None:
    """Nesting beyond MAX_DEPTH is refused with document.too-deep, and nothing else is checked."""
    doc = issued_example("regular", extension=nested(MAX_DEPTH))  # the document itself is level 1
    assert violations_of(doc) == (Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels"),)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    """A document nested exactly MAX_DEPTH levels deep passes the guard."""
    validate_document(issued_example("regular", extension=nested(MAX_DEPTH - 1)))


def test_validate_rejects_too_large_document() -> None:
    """A document over 1 MiB serialised is refused with document.too-large, and nothing else is checked."""
    doc = issued_example("regular", issueDate=None, extension="x" * MAX_DOCUMENT_BYTES)
    assert [(v.path, v.rule) for v in violations_of(doc)] == [("$", "document.too-large")]


def test_size_limit_counts_serialised_bytes_not_characters() -> None:
    """Characters that serialise long (control characters, non-ASCII) count at their serialised size."""
    base = len(canonical_json(issued_example("regular")))
    fits = issued_example("regular", extension="é" * ((MAX_DOCUMENT_BYTES - base) // 2 - 20))
    validate_document(fits)
    escaped = issued_example("regular", extension="\x01" * (MAX_DOCUMENT_BYTES // 5))
    assert [(v.path, v.rule) for v in violations_of(escaped)] == [("$", "document.too-large")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "NaN and Infinity are not JSON"),
        (-math.inf, "NaN and Infinity are not JSON"),
        (2**53, "integer outside the I-JSON range ±(2**53 - 1) cannot be canonicalised (RFC 8785)"),
        ({1: "x"}, "object key 1 is not a string"),
        ({"x"}, "set is not a JSON value"),
        (("a", "b"), "tuple is not a JSON value"),
        ("\ud800", "string is not valid Unicode"),
    ],
)
def test_validate_rejects_values_that_are_not_json(value: object, message: str) -> None:
    """Python values JSON cannot carry are refused with json.invalid at their path."""
    doc = issued_example("regular", extension={"list": [value]})
    found = [v for v in violations_of(doc) if v.rule == "json.invalid"]
    assert found == [Violation("$.extension.list[0]", "json.invalid", message)]
    with pytest.raises(InvalidDocumentError):
        document_hash(doc)


# --- hashing ------------------------------------------------------------------------------------
