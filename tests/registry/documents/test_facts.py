"""Tests for registry.documents.facts: what the title layer reads from a transport document."""

from __future__ import annotations

from datetime import date

import pytest

from registry.documents import (
    CarrierCode,
    IdentifyingCode,
    PartyFacts,
    extract_facts,
    transport_document_reference,
    validate_for_issuance,
)
from registry.errors import InvalidDocumentError
from registry.types import DocumentKind
from tests.fixtures.dcsa import issue_to_example, issued_example
from tests.registry.documents.support import (
    ENDORSEE,
    straight_example,
)


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
