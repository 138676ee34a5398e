"""The OpenAPI document describes what the gateway really answers with (regressions found by schemathesis).

Found by ``test_schemathesis.py``: every error (400, 401, 403, 404, 409, 413, 422, 429 ...) was answered
as ``application/problem+json`` but the document listed only 2xx and FastAPI's ``HTTPValidationError``
422 as ``application/json``; ``/metrics`` answered ``text/plain`` documented as JSON; the auditor routes
answer ``text/csv`` with ``format=csv``, documented as JSON only.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from api.main import create_app
from tests.api.helpers import PROBLEM_JSON

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_error_is_documented_as_problem_json(document) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"type", "title", "status", "detail", "code"} <= set(schemas["Problem"]["required"])
    for method, path, op in _operations(document):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, f"{method.upper()} {path} {status}"


def test_errors_every_route_can_answer_are_documented(document) -> None:
    for method, path, op in _operations(document):
        statuses = set(op["responses"])
        label = f"{method.upper()} {path}"
        assert "500" in statuses, label
        if method != "get":
            assert {"400", "413"} <= statuses, label  # the body guard
        if path.startswith("/v1/"):
            assert {"401", "429"} <= statuses, label  # credential check, rate limit
            assert op["security"] == [{"bearer": []}], label  # the bearer scheme (Swagger UI's Authorize)
        if op.get("parameters") or "requestBody" in op:
            assert "422" in statuses, label  # validation
        if "{ebl_id}" in path or "{operation_id}" in path:
            assert "404" in statuses, label
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]


def test_non_json_successes_are_documented(document) -> None:
    assert set(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    for path in ("/v1/auditors/ebls/{ebl_id}/history", "/v1/auditors/events"):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) == {
            "application/json",
            "text/csv",
        }


def _conforms(document: dict[str, Any], method: str, path: str, r: httpx.Response) -> None:
    """The response's status and media type are documented for the operation, and a JSON body validates."""
    responses = document["paths"][path][method]["responses"]
    assert str(r.status_code) in responses, f"{method.upper()} {path}: {r.status_code} undocumented"
    media = r.headers["content-type"].split(";")[0].strip()
    content = responses[str(r.status_code)]["content"]
    assert media in content, f"{method.upper()} {path} {r.status_code}: {media} not in {set(content)}"
    if media.endswith("json"):
        schema = {**content[media]["schema"], "components": document["components"]}
        jsonschema.validate(r.json(), schema)


def test_real_answers_conform_to_the_document(gateway, members) -> None:
    served = httpx.get(f"{gateway.url}/openapi.json").json()
    auditor = {"Authorization": f"Bearer {members['auditor'].token}"}
    shipper = {"Authorization": f"Bearer {members['shipper'].token}"}
    transfer = "/v1/holders/ebls/{ebl_id}/transfer"
    history = "/v1/auditors/ebls/{ebl_id}/history"
    with httpx.Client(base_url=gateway.url, timeout=60) as c:
        cases = [
            ("post", transfer, c.post("/v1/holders/ebls/1/transfer", json={"to": members["bank"].org}), 401),
            ("post", transfer, c.post("/v1/holders/ebls/1/transfer", json={}, headers=auditor), 403),
            ("post", transfer, c.post("/v1/holders/ebls/1/transfer", json={}, headers=shipper), 422),
            (
                "post",
                transfer,
                c.post("/v1/holders/ebls/x/transfer", json={"to": members["bank"].org}, headers=shipper),
                422,
            ),
            (
                "post",
                transfer,
                c.post("/v1/holders/ebls/1/transfer", json={"to": members["bank"].org}, headers=shipper),
                404,
            ),
            (
                "post",
                transfer,
                c.post(
                    "/v1/holders/ebls/1/transfer",
                    content=b"\xff\xfe",
                    headers={**shipper, "Content-Type": "application/json"},
                ),
                400,
            ),
            (
                "get",
                history,
                c.get("/v1/auditors/ebls/1/history", params={"format": "bad"}, headers=auditor),
                422,
            ),
            ("get", "/metrics", c.get("/metrics"), 200),
        ]
        for method, path, response, status in cases:
            assert response.status_code == status, (
                f"{method} {path}: {response.status_code} {response.text[:300]}"
            )
            _conforms(served, method, path, response)
