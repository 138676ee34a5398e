"""Tests for registry.documents: DCSA eBL 3.0 validation, canonical hashing, identity and facts."""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import date
from importlib import resources
from typing import Any

import pytest
import rfc8785
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from registry._dcsa_schema import SCHEMA_RESOURCE, json_path, translate_pattern
from registry.documents import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_TEXT_BYTES,
    CarrierCode,
    IdentifyingCode,
    PartyFacts,
    canonical_form,
    canonical_json,
    document_hash,
    document_hash_bytes,
    ebl_id,
    extract_facts,
    find_violations,
    hash_json_text,
    parse_json_text,
    parse_json_value,
    tdr_hash,
    transport_document_reference,
    validate_document,
    validate_for_issuance,
)
from registry.errors import DuplicateKeyError, InvalidDocumentError, Violation
from registry.types import DocumentKind
from tests.fixtures.dcsa import example_names, issue_to_example, issued_example, load_example

CARRIER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"

ENDORSEE = {
    "partyName": "Bank of Example",
    "identifyingCodes": [
        {"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": "5493001KJTIIGC8Y1R12"}
    ],
}
CONSIGNEE = {
    "partyName": "Consignee Ltd",
    "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "CONSIGNEE-1"}],
}


def straight_example(**overrides: Any) -> dict[str, Any]:
    """The conformance kit's straight bill (with consignee), made issuable."""
    return issued_example("ctk-pint-straight", **overrides)


def rules(doc: object) -> set[str]:
    """The set of rule ids violated by ``doc``."""
    return {v.rule for v in find_violations(doc)}


def violations_of(doc: object, *, issuance: bool = False, issue_to: object = None) -> tuple[Violation, ...]:
    """The violations raised by validate_document (or validate_for_issuance) for ``doc``."""
    with pytest.raises(InvalidDocumentError) as caught:
        if issuance:
            validate_for_issuance(doc, issue_to=issue_to)
        else:
            validate_document(doc)
    return caught.value.violations


def nested(depth: int) -> Any:
    """A JSON value whose containers nest ``depth`` levels (an object holding arrays)."""
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


# --- the DCSA examples ----------------------------------------------------------------------------


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


def test_facts_of_the_regular_example() -> None:
    """extract_facts reads the TDR, negotiability, dates, carrier code and shipper of the regular example."""
    facts = validate_for_issuance(issued_example("regular"))
    assert facts.reference == "62CD536BA8D34C469AFD"
    assert facts.is_to_order is True
    assert facts.kind is DocumentKind.TO_ORDER
    assert facts.issue_date == date(2024, 1, 2)
    assert facts.shipped_on_board_date == date(2023, 12, 20)
    assert facts.received_for_shipment_date is None
    assert facts.carrier_code == CarrierCode("MSC", "SMDG")
    assert str(facts.carrier_code) == "SMDG:MSC"
    assert facts.shipper == PartyFacts("DCSA CTK")
    assert (facts.consignee, facts.endorsee, facts.issue_to) == (None, None, None)


def test_facts_of_a_straight_example_name_the_consignee() -> None:
    """A straight bill's facts carry kind STRAIGHT and the consignee with its identifying codes."""
    facts = validate_for_issuance(straight_example())
    assert facts.kind is DocumentKind.STRAIGHT
    assert facts.consignee == PartyFacts("DCSA CTK Consignee", (IdentifyingCode("ZZZ", "CONSIGNEE"),))


def test_facts_of_a_to_order_document_name_the_endorsee() -> None:
    """A to-order bill with an endorsee is valid and its facts carry the endorsee."""
    doc = issued_example("regular")
    doc["documentParties"]["endorsee"] = ENDORSEE
    facts = validate_for_issuance(doc)
    assert facts.endorsee == PartyFacts(
        "Bank of Example", (IdentifyingCode("GLEIF", "5493001KJTIIGC8Y1R12", "LEI"),)
    )


def test_issue_to_of_the_issuance_request_is_extracted() -> None:
    """The issuance request's issueTo (beside the document) becomes facts.issue_to, platform included."""
    facts = validate_for_issuance(
        issued_example("issuance-request"), issue_to=issue_to_example("issuance-request")
    )
    assert facts.issue_to == PartyFacts("HHL Invest", (IdentifyingCode("BOLE", "BOLE001"),), "BOLE")


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


def test_schema_error_for_missing_property_points_at_the_property() -> None:
    """A missing required property is reported at its own path, e.g. $.transports.portOfLoading."""
    doc = issued_example("regular")
    del doc["transports"]["portOfLoading"]
    found = violations_of(doc)
    assert found == (
        Violation(
            "$.transports.portOfLoading", "schema.required", "required property 'portOfLoading' is missing"
        ),
    )


def test_schema_type_error_carries_json_path() -> None:
    """A wrongly typed field is reported as schema.type at its path, naming both types."""
    doc = issued_example("regular")
    doc["documentParties"]["shipper"]["partyName"] = 7
    (violation,) = violations_of(doc)
    assert violation == Violation(
        "$.documentParties.shipper.partyName", "schema.type", "must be of type string, not integer"
    )


def test_schema_max_length_error_carries_json_path() -> None:
    """A transport document reference over 20 characters breaks schema.maxLength at its path."""
    doc = issued_example("regular", transportDocumentReference="R" * 21)
    assert violations_of(doc) == (
        Violation("$.transportDocumentReference", "schema.maxLength", "must be at most 20 characters long"),
    )


def test_schema_errors_inside_arrays_use_index_paths() -> None:
    """Errors inside arrays carry [index] segments."""
    doc = issued_example("regular")
    doc["consignmentItems"][0]["HSCodes"] = ["640510", "64x510"]
    doc["consignmentItems"][0]["cargoItems"][0]["outerPackaging"]["numberOfPackages"] = 0
    assert {(v.path, v.rule) for v in violations_of(doc)} == {
        ("$.consignmentItems[0].HSCodes[1]", "schema.pattern"),
        ("$.consignmentItems[0].cargoItems[0].outerPackaging.numberOfPackages", "schema.minimum"),
    }


def test_schema_enum_error_lists_allowed_values() -> None:
    """An unknown code is schema.enum, and the message lists the allowed codes."""
    (violation,) = violations_of(issued_example("regular", carrierCodeListProvider="IATA"))
    assert (violation.path, violation.rule) == ("$.carrierCodeListProvider", "schema.enum")
    assert '"SMDG"' in violation.message and '"NMFTA"' in violation.message


@pytest.mark.parametrize(
    "value", ["2023-02-30", "2023-2-3", "20231220", "2023-12-20T00:00:00Z", "2023-12-20\n"]
)
def test_schema_checks_date_format(value: str) -> None:
    """Dates must be RFC 3339 full dates that exist in the calendar."""
    found = violations_of(issued_example("regular", shippedOnBoardDate=value))
    assert [(v.path, v.rule) for v in found] == [("$.shippedOnBoardDate", "schema.format")]


def test_schema_one_of_error_explains_the_alternatives() -> None:
    """An object matching no oneOf branch is schema.oneOf at its path; the message names each branch's gap."""
    (violation,) = violations_of(issued_example("regular", invoicePayableAt={}))
    assert (violation.path, violation.rule) == ("$.invoicePayableAt", "schema.oneOf")
    assert "[UN Location Code] required property 'UNLocationCode' is missing" in violation.message
    assert "[Free text] required property 'freeText' is missing" in violation.message


def test_schema_one_of_error_when_several_alternatives_match() -> None:
    """An object matching two oneOf branches is refused as ambiguous."""
    (violation,) = violations_of(
        issued_example("regular", invoicePayableAt={"UNLocationCode": "DKAAR", "freeText": "x"})
    )
    assert (violation.path, violation.rule) == ("$.invoicePayableAt", "schema.oneOf")
    assert "more than one" in violation.message


def test_schema_pattern_end_anchor_follows_ecmascript() -> None:
    """A trailing newline does not satisfy '$' (Python's re alone would accept 'HHL718\\n')."""
    found = violations_of(issued_example("regular", transportDocumentReference="HHL718\n"))
    assert [(v.path, v.rule) for v in found] == [("$.transportDocumentReference", "schema.pattern")]


def test_schema_pattern_digit_class_is_ascii_only() -> None:
    """'\\d' matches ASCII digits only, as in ECMAScript, so Arabic-Indic digits are not an HS code."""
    doc = issued_example("regular")
    doc["consignmentItems"][0]["HSCodes"] = ["٦٤٠٥١٠"]
    assert [(v.path, v.rule) for v in violations_of(doc)] == [
        ("$.consignmentItems[0].HSCodes[0]", "schema.pattern")
    ]


def test_translate_pattern_keeps_literals_and_classes() -> None:
    """ECMA translation rewrites anchors and shorthands but leaves escaped literals and classes alone."""
    assert translate_pattern(r"^[A-Z]{2}[A-Z2-9]{3}$") == r"^[A-Z]{2}[A-Z2-9]{3}\Z"
    assert translate_pattern(r"^[0-9](\.[0-9])?$") == r"^[0-9](\.[0-9])?\Z"
    assert translate_pattern(r"[\d]\$") == r"[0-9]\$"


def test_schema_messages_do_not_echo_document_values() -> None:
    """Messages stay short even when the offending value is huge."""
    (violation,) = violations_of(issued_example("regular", termsAndConditions="secret " * 10_000))
    assert violation.rule == "schema.maxLength"
    assert "secret" not in violation.message and len(violation.message) < 100


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    """Keys that are not identifiers use bracket notation with escaped quotes."""
    assert json_path(["a", 0, "odd key", "it's", "b"]) == "$.a[0]['odd key']['it\\'s'].b"
    assert json_path([]) == "$"


# --- DCSA rules the schema does not carry --------------------------------------------------------


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


def test_document_hash_equals_sha256_of_rfc8785_canonical_json() -> None:
    """document_hash is SHA-256 hex over rfc8785.dumps, computed independently here."""
    doc = issued_example("regular")
    expected = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    assert document_hash(doc) == expected
    assert canonical_json(doc) == rfc8785.dumps(doc)


def test_document_hash_of_the_pint_example_is_pinned() -> None:
    """The PINT example's document hashes to a pinned value (guards against canonicalisation drift)."""
    doc = load_example("pint-envelope")
    assert document_hash(doc) == "7be082114ba3783e20d92bd305f784b483d66fa6a53130d891e67fcddfd04644"
    assert document_hash(load_example("issuance-request")) == document_hash(doc)


def test_canonical_json_matches_the_rfc_8785_example() -> None:
    """The worked example of RFC 8785 section 3.2.2 canonicalises byte for byte as the RFC shows."""
    text = (
        '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n'
        "              2e-3, 0.000000000000000000000000001],\n"
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(parse_json_text(text)) == expected
    assert hash_json_text(text) == hashlib.sha256(expected).hexdigest()


def test_document_hash_bytes_is_the_raw_digest() -> None:
    """document_hash_bytes is the 32-byte form of document_hash."""
    doc = issued_example("regular")
    raw = document_hash_bytes(doc)
    assert len(raw) == 32
    assert raw.hex() == document_hash(doc)


def test_canonical_form_is_the_canonical_json_and_its_raw_digest() -> None:
    """What issuance stores (the canonical JSON) and records on chain (its digest), canonicalised once."""
    doc = issued_example("regular")
    canonical, raw = canonical_form(doc)
    assert canonical == canonical_json(doc)
    assert raw == document_hash_bytes(doc)


def test_document_hash_changes_with_content() -> None:
    """Any change to the data changes the hash."""
    doc = issued_example("regular")
    other = issued_example("regular", issueDate="2024-01-03")
    assert document_hash(doc) != document_hash(other)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
)
_layouts = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t", " \r\n "]),
        "separators": st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")]),
        "ensure_ascii": st.booleans(),
        "padding": st.sampled_from(["", " ", "\n", "\r\n\t "]),
    }
)


def _render(doc: Any, layout: dict[str, Any]) -> str:
    body = json.dumps(
        doc, indent=layout["indent"], separators=layout["separators"], ensure_ascii=layout["ensure_ascii"]
    )
    padding: str = layout["padding"]
    return padding + body + padding


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(), layout=_layouts)
def test_hash_of_the_example_is_independent_of_key_order_and_whitespace(
    seed: int, layout: dict[str, Any]
) -> None:
    """Re-serialising the example with shuffled keys and random layout does not change its hash."""
    doc = issued_example("regular")
    text = _render(_shuffled(doc, random.Random(seed)), layout)
    assert hash_json_text(text) == document_hash(doc)
    assert hash_json_text(text.encode("utf-8")) == document_hash(doc)


@settings(max_examples=150, deadline=None)
@given(doc=st.dictionaries(st.text(), _json_values, max_size=6), seed=st.integers(), layout=_layouts)
def test_hash_of_any_json_object_is_independent_of_key_order_and_whitespace(
    doc: dict[str, Any], seed: int, layout: dict[str, Any]
) -> None:
    """For arbitrary JSON objects, hashing the presented text equals hashing the data."""
    text = _render(_shuffled(doc, random.Random(seed)), layout)
    assert hash_json_text(text) == document_hash(doc) == hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


@pytest.mark.parametrize(
    ("text_a", "text_b"),
    [
        ('{"n": 1}', '{"n": 1.0}'),
        ('{"n": 1}', '{"n": 1e0}'),
        ('{"n": 4.50}', '{"n": 4.5}'),
        ('{"n": 0.1}', '{"n": 0.1000000000000000055511151231257827}'),
        ('{"n": -0}', '{"n": 0}'),
        ('{"s": "A\\u00e9"}', '{"s": "Aé"}'),
        ('{"s": "\\/"}', '{"s": "/"}'),
    ],
)
def test_hash_json_text_ignores_number_and_string_spelling(text_a: str, text_b: str) -> None:
    """Numbers equal as IEEE doubles, and strings equal after unescaping, hash the same (RFC 8785)."""
    assert hash_json_text(text_a) == hash_json_text(text_b)


def test_hash_json_text_keeps_integers_exact() -> None:
    """Integers up to 2**53 - 1 are parsed and hashed exactly."""
    assert canonical_json(parse_json_text('{"n": 9007199254740991}')) == b'{"n":9007199254740991}'
    assert hash_json_text('{"n": 9007199254740991}') != hash_json_text('{"n": 9007199254740990}')


def _json_invalid(text: str | bytes) -> Violation:
    with pytest.raises(InvalidDocumentError) as caught:
        hash_json_text(text)
    (violation,) = caught.value.violations
    return violation


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"a": 1, "a": 1}', "$.a"),
        ('{"x": {"b": 1, "b": 2}}', "$.x.b"),
        ('{"l": [{"c": 0, "c": 0}]}', "$.l[0].c"),
        ('{"odd key": {"c": 0, "c": 1}}', "$['odd key'].c"),
    ],
)
def test_hash_json_text_rejects_duplicate_keys(text: str, path: str) -> None:
    """Duplicate keys, at any depth, make the text ambiguous and are refused at the repeated key's path."""
    with pytest.raises(DuplicateKeyError) as caught:
        hash_json_text(text)
    assert caught.value.paths == (path,)
    (violation,) = caught.value.violations
    assert (violation.path, violation.rule) == (path, "json.duplicate-key")
    assert "duplicate object key" in violation.message


def test_every_duplicate_key_is_named_in_text_order() -> None:
    """All repeats are reported, outer before inner when the outer comes first in the text."""
    text = '{"a": 1, "a": 2, "b": [1, {"c": {"d": 0, "d": 1}}], "a": 3, "e": {"f": 0, "f": 0}}'
    with pytest.raises(DuplicateKeyError) as caught:
        parse_json_text(text)
    assert caught.value.paths == ("$.a", "$.b[1].c.d", "$.e.f")


def test_parse_json_value_refuses_duplicate_keys_in_any_json() -> None:
    """Request bodies and typed data are not documents, but they are refused the same way."""
    assert parse_json_value('[{"a": 1}, 2]') == [{"a": 1}, 2]
    with pytest.raises(DuplicateKeyError) as caught:
        parse_json_value('[{"typedData": {"message": {"nonce": "1", "nonce": "2"}}}]')
    assert caught.value.paths == ("$[0].typedData.message.nonce",)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_hash_json_text_rejects_nan_and_infinity(constant: str) -> None:
    """Python's NaN/Infinity extensions are not JSON."""
    assert _json_invalid('{"n": ' + constant + "}") == Violation(
        "$", "json.invalid", f"{constant} is not JSON"
    )


@pytest.mark.parametrize(
    "text",
    ['{"n": 9007199254740992}', '{"n": -9007199254740992}', '{"n": 1e400}', '{"s": "\\ud800"}'],
)
def test_hash_json_text_rejects_values_without_canonical_form(text: str) -> None:
    """Integers beyond 2**53 - 1, overflowing floats and lone surrogates have no RFC 8785 form."""
    assert _json_invalid(text).rule == "json.invalid"


def test_hash_json_text_rejects_invalid_utf8() -> None:
    """Bytes that are not UTF-8 are refused with the offending offset."""
    assert _json_invalid(b'{"s": "\xff"}') == Violation(
        "$", "json.invalid", "not valid UTF-8 (byte offset 7)"
    )


@pytest.mark.parametrize("text", ['\ufeff{"a": 1}', b'\xef\xbb\xbf{"a": 1}'])
def test_hash_json_text_rejects_byte_order_mark(text: str | bytes) -> None:
    """A byte order mark is not part of JSON text (RFC 8259 section 8.1)."""
    assert _json_invalid(text).rule == "json.invalid"


@pytest.mark.parametrize("text", ["", "{", '{"a": 1,}', "{'a': 1}", '{"a": 1} x', '{"a": 01}'])
def test_hash_json_text_rejects_syntax_errors(text: str) -> None:
    """Malformed JSON is refused with the position of the error."""
    violation = _json_invalid(text)
    assert violation.rule == "json.invalid"
    assert "line 1 column" in violation.message


@pytest.mark.parametrize("text", ["[]", '"doc"', "1", "null"])
def test_hash_json_text_rejects_non_object_top_level(text: str) -> None:
    """A transport document is a JSON object."""
    assert _json_invalid(text).rule == "document.not-object"


@pytest.mark.parametrize("depth", [MAX_DEPTH, 100_000])
def test_hash_json_text_rejects_deep_nesting(depth: int) -> None:
    """Nesting deeper than MAX_DEPTH is refused, however deep (no RecursionError escapes)."""
    text = '{"a": ' + "[" * depth + "]" * depth + "}"
    assert _json_invalid(text) == Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")


def test_hash_json_text_rejects_oversized_text() -> None:
    """Text over MAX_TEXT_BYTES is refused before parsing; a document over MAX_DOCUMENT_BYTES after."""
    assert _json_invalid(b" " * (MAX_TEXT_BYTES + 1)).rule == "document.too-large"
    assert _json_invalid('{"a": "' + "x" * MAX_DOCUMENT_BYTES + '"}').rule == "document.too-large"


def test_parse_json_text_returns_the_object() -> None:
    """parse_json_text returns the parsed object with exact integers and floats as doubles."""
    assert parse_json_text(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


# --- identity -----------------------------------------------------------------------------------


def test_transport_document_reference_reads_the_tdr() -> None:
    """transport_document_reference returns transportDocumentReference."""
    assert transport_document_reference(issued_example("regular")) == "62CD536BA8D34C469AFD"


def test_transport_document_reference_rejects_missing_reference() -> None:
    """A document without a TDR raises InvalidDocumentError with schema.required."""
    with pytest.raises(InvalidDocumentError) as caught:
        transport_document_reference(issued_example("regular", transportDocumentReference=None))
    assert [(v.path, v.rule) for v in caught.value.violations] == [
        ("$.transportDocumentReference", "schema.required")
    ]


def test_tdr_hash_is_keccak256_of_the_utf8_reference() -> None:
    """tdr_hash is keccak256 over the UTF-8 bytes (checked against the published keccak256('abc'))."""
    assert tdr_hash("abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert tdr_hash("HHLÆ1") == keccak("HHLÆ1".encode())
    assert len(tdr_hash("62CD536BA8D34C469AFD")) == 32


def test_tdr_hash_rejects_an_empty_reference() -> None:
    """An empty reference has no meaning and is refused."""
    with pytest.raises(ValueError):
        tdr_hash("")


def test_ebl_id_is_keccak256_of_the_abi_encoded_carrier_and_tdr_hash() -> None:
    """ebl_id equals uint256(keccak256(abi.encode(address, bytes32))) encoded by hand here."""
    digest = tdr_hash("62CD536BA8D34C469AFD")
    encoded = bytes(12) + bytes.fromhex(CARRIER[2:]) + digest
    assert ebl_id(CARRIER, digest) == int.from_bytes(keccak(encoded), "big")
    assert ebl_id(CARRIER, digest) != ebl_id(CARRIER, tdr_hash("62CD536BA8D34C469AFE"))


@pytest.mark.parametrize(
    "carrier", [CARRIER.lower(), CARRIER.upper().replace("0X", "0x"), "0x1234", "carrier"]
)
def test_ebl_id_requires_a_checksummed_carrier_address(carrier: str) -> None:
    """A carrier address that is not checksummed is refused."""
    with pytest.raises(ValueError):
        ebl_id(carrier, tdr_hash("HHL71800000"))


def test_ebl_id_requires_a_32_byte_tdr_hash() -> None:
    """The TDR hash must be a bytes32."""
    with pytest.raises(ValueError):
        ebl_id(CARRIER, b"\x00" * 31)


# --- facts extraction ---------------------------------------------------------------------------


def test_extract_facts_reports_every_missing_field() -> None:
    """extract_facts refuses a document lacking what it reads, listing each gap."""
    doc = issued_example("regular", isToOrder=None, carrierCode=None, issueDate="12/12/2020")
    del doc["documentParties"]["shipper"]
    with pytest.raises(InvalidDocumentError) as caught:
        extract_facts(doc)
    assert {(v.path, v.rule) for v in caught.value.violations} == {
        ("$.isToOrder", "schema.required"),
        ("$.carrierCode", "schema.required"),
        ("$.issueDate", "schema.format"),
        ("$.documentParties.shipper", "schema.required"),
    }


def test_extract_facts_rejects_non_object() -> None:
    """extract_facts refuses anything but an object."""
    with pytest.raises(InvalidDocumentError):
        extract_facts(["not", "a", "document"])


def test_document_facts_are_frozen() -> None:
    """DocumentFacts cannot be modified after extraction."""
    facts = extract_facts(issued_example("regular"))
    with pytest.raises(AttributeError):
        facts.reference = "other"  # type: ignore[misc]


# --- the vendored schema and speed ---------------------------------------------------------------


def test_vendored_schema_is_valid_draft_2020_12_with_licence_header() -> None:
    """The packaged schema is a valid 2020-12 schema naming its DCSA source and the Apache-2.0 licence."""
    schema = json.loads(resources.files("registry").joinpath("schemas", SCHEMA_RESOURCE).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-source"]["license"] == "Apache-2.0"
    assert schema["x-source"]["file"] == "EBL_v3.0.0.yaml"
    assert {"TransportDocument", "IssueToParty", "DocumentParties", "Consignee", "Endorsee"} <= set(
        schema["$defs"]
    )


def test_vendored_schema_has_no_openapi_only_keywords() -> None:
    """OpenAPI 3.0 keywords were converted: no nullable/example/discriminator, numeric exclusive bounds."""
    schema = json.loads(resources.files("registry").joinpath("schemas", SCHEMA_RESOURCE).read_text("utf-8"))
    seen: list[tuple[str, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"nullable", "example", "discriminator"} or (
                    key in {"exclusiveMinimum", "exclusiveMaximum"} and isinstance(value, bool)
                ):
                    seen.append((key, value))
                if key not in {"properties", "$defs"}:
                    walk(value)
                else:
                    for sub in value.values():
                        walk(sub)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    assert seen == []
