"""Tests for registry.documents.schema: the vendored DCSA schema, ECMA-262 patterns, value-free messages."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from registry.documents.schema import SCHEMA_RESOURCE, json_path, matches_pattern
from registry.errors import Violation
from tests.fixtures.dcsa import issued_example
from tests.registry.documents.support import (
    violations_of,
)


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


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"^[A-Z]{2}[A-Z2-9]{3}$", "DKAAR", True),
        (r"^[A-Z]{2}[A-Z2-9]{3}$", "DKAAR\n", False),  # '$' is the very end in ECMA-262
        (r"^[\D]$", "\u0666", True),  # '\D' inside a class is "not an ASCII digit": Python's re disagrees
        (r"^[\S]+$", "a\ufeffb", False),  # U+FEFF is ECMAScript whitespace, not Python's
        (r"^\w+\b", "caf\u00e9", True),  # '\w' and '\b' are ASCII: the word ends before the e-acute
        (r"^\w+$", "caf\u00e9", False),
        (r"^.$", "\U0001f600", True),  # one code point, as with the 'u' flag JSON Schema assumes
        (r"^.$", "\u2028", False),  # '.' excludes every ECMAScript line terminator
    ],
)
def test_patterns_follow_ecma_262(pattern: str, text: str, expected: bool) -> None:
    """Patterns mean what ECMA-262 says (the translation to Python's re this replaced got the ``[\\D]``,
    ``[\\S]`` and ``\\b`` cases wrong)."""
    assert matches_pattern(pattern, text) is expected


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
