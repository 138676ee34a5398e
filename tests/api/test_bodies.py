"""A presented document is parsed, shape-checked and canonicalised once per request, whichever layer asks.

Before the documents package, a bank's verification walked the body seven times: the body guard's depth
scan and parse, then the route's depth scan, parse and shape walk, and a second shape walk before the
canonical form. These tests count the walks of one request against the gateway as it serves.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from registry.documents import canonical, jsontext
from tests.api.helpers import Stages, carrier_document, new_document


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


def _counting(monkeypatch: pytest.MonkeyPatch, walks: Counter[str], module: Any, name: str) -> None:
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        walks[f"{module.__name__}.{name}"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each walk over a document runs: depth scans, parses, shape walks, canonicalisations."""
    found: Counter[str] = Counter()
    _counting(monkeypatch, found, jsontext, "_nesting")
    _counting(monkeypatch, found, jsontext, "shape_violations")
    _counting(monkeypatch, found, canonical.rfc8785, "dumps")  # the module attribute canonical calls
    loads = json.loads

    def counted_loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(text, str | bytes) and b"transportDocumentReference" in (
            text if isinstance(text, bytes) else text.encode()
        ):
            found["json.loads"] += 1
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(jsontext.json, "loads", counted_loads)
    return found


@pytest.mark.parametrize("route", ["/v1/banks/verifications", "/v1/banks/ebls/{ebl}/verification"])
def test_a_bank_verification_walks_the_presented_document_once(
    stages: Stages, walks: Counter[str], route: str
) -> None:
    """The bank posts the document it was presented: one depth scan, one parse, one shape walk and one
    canonical form for the whole request, and the answer still says the document matches."""
    document = carrier_document(new_document("WALK"), "carrier")
    ebl = stages.post(
        "carrier", "/v1/carriers/ebls", {"document": document, "issueTo": stages.members["shipper"].org}
    )
    walks.clear()
    body = json.dumps(document, indent=2)
    response = stages.client("bank").post(
        route.format(ebl=ebl["eblId"]), content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["documentMatches"] is True
    assert walks == Counter(
        {
            "registry.documents.jsontext._nesting": 1,
            "json.loads": 1,
            "registry.documents.jsontext.shape_violations": 1,
            "rfc8785.dumps": 1,
        }
    )


def test_a_body_with_nan_is_still_refused_with_the_documents_own_words(stages: Stages) -> None:
    """The guard hands on only what it parsed strictly: NaN is refused by the document parser as before."""
    response = stages.client("bank").post(
        "/v1/banks/verifications",
        content='{"transportDocumentReference": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "NaN is not JSON" in response.text
