"""Helpers of the DCSA platform API tests: issuance requests as a carrier's system sends them, and the
DCSA ``ErrorResponse`` assertion."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
import rfc8785

from tests.api.helpers import new_document
from tests.fixtures.dcsa import issue_to_example

ERROR_FIELDS = {"httpMethod", "requestUri", "statusCode", "statusCodeText", "errorDateTime", "errors"}


def checksum(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def manifest(document: dict[str, Any], issue_to: dict[str, Any]) -> str:
    """A compact JWS whose payload is the ``IssuanceManifest`` of this request (the signature bytes are
    a placeholder: the carrier's key is the PINT slice's to verify)."""
    header = _b64(json.dumps({"alg": "ES256", "kid": "carrier-key-1"}).encode())
    payload = _b64(
        json.dumps({"documentChecksum": checksum(document), "issueToChecksum": checksum(issue_to)}).encode()
    )
    return f"{header}.{payload}.{_b64(b'signature')}"


def issue_to_party(platform: str, org: str, name: str = "Shipper Ltd") -> dict[str, Any]:
    party = issue_to_example("issuance-request") or {}
    return {
        **party,
        "partyName": name,
        "sendToPlatform": platform,
        "identifyingCodes": [{"codeListProvider": platform, "partyCode": org}],
    }


def issuance_request(
    platform: str,
    to: str,
    *,
    document: dict[str, Any] | None = None,
    straight_to: str | None = None,
    visualisation: bool = True,
) -> dict[str, Any]:
    """An ``IssuanceRequest`` for a fresh document (to order, or straight to the member ``straight_to``)."""
    doc = document if document is not None else new_document("D")
    if straight_to is not None:
        doc["isToOrder"] = False
        parties = dict(doc.get("documentParties") or {})
        parties.pop("endorsee", None)
        parties["consignee"] = {
            "partyName": "Consignee Ltd",
            "identifyingCodes": [{"codeListProvider": platform, "partyCode": straight_to}],
        }
        doc["documentParties"] = parties
    party = issue_to_party(platform, to)
    body: dict[str, Any] = {
        "document": doc,
        "issueTo": party,
        "issuanceManifestSignedContent": manifest(doc, party),
    }
    if visualisation:
        body["eBLVisualisationByCarrier"] = {
            "name": "eBL.pdf",
            "content": base64.b64encode(b"%PDF-1.7 ...").decode(),
        }
    return body


def assert_error_response(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The answer is a DCSA ``ErrorResponse`` with this status (and ``errorCodeText``)."""
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text[:500]}"
    assert response.headers["content-type"] == "application/json", response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body.keys() >= ERROR_FIELDS, body
    assert body["statusCode"] == status
    assert body["httpMethod"] == response.request.method
    assert body["requestUri"] == response.request.url.path
    assert body["errors"] and all({"errorCodeText", "errorCodeMessage"} <= e.keys() for e in body["errors"])
    if code is not None:
        assert body["errors"][0]["errorCodeText"] == code, body
    return body
