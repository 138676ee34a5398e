"""Shared examples and helpers for the tests of registry.documents."""

from __future__ import annotations

from typing import Any

import pytest

from registry.documents import (
    find_violations,
    validate_document,
    validate_for_issuance,
)
from registry.errors import InvalidDocumentError, Violation
from tests.fixtures.dcsa import issued_example

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
