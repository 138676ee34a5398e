"""The DCSA ``ErrorResponse`` shape, in which every error under ``/v3`` is answered.

The DCSA APIs (Issuance, Surrender, Endorsement Chain 3.0.3) answer errors as ``ErrorResponse``
(``httpMethod``, ``requestUri``, ``statusCode``, ``statusCodeText``, ``statusCodeMessage``,
``providerCorrelationReference``, ``errorDateTime``, ``errors``), not RFC 9457 problems. The problem
handlers of :mod:`api.problems` render through :func:`error_response` for a ``/v3`` path, so the same
refusal keeps its status and its stable code: the code is the ``errorCodeText`` of the one
``DetailedError``, the detail its ``errorCodeMessage``. DCSA never standardised numeric ``errorCode``
values ("the value 7003 is just a random example"), so we send none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

__all__ = ["API_VERSION", "DCSA_PREFIX", "error_body", "error_response", "is_dcsa_path"]

DCSA_PREFIX = "/v3/"
API_VERSION = "3.0.3"
"""The ``API-Version`` every /v3 answer carries (the SemVer of the DCSA APIs served)."""
_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTION", "PATCH"}


def is_dcsa_path(path: str) -> bool:
    return path.startswith(DCSA_PREFIX)


def error_body(
    method: str,
    uri: str,
    status: int,
    code: str,
    message: str,
    *,
    correlation: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An ``ErrorResponse`` (field names and lengths as the YAML spells them)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {
        "httpMethod": method if method in _METHODS else "POST",
        "requestUri": uri,
        "statusCode": status,
        "statusCodeText": phrase[:50],
        "statusCodeMessage": message[:200],
    }
    if correlation:
        body["providerCorrelationReference"] = correlation[:100]
    body["errorDateTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body["errors"] = errors or [{"errorCodeText": code[:100], "errorCodeMessage": message[:5000]}]
    return body


def error_response(
    method: str,
    uri: str,
    status: int,
    code: str,
    message: str,
    *,
    correlation: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = error_body(method, uri, status, code, message, correlation=correlation, errors=errors)
    out = {"API-Version": API_VERSION}
    out.update(headers or {})
    return JSONResponse(body, status_code=status, headers=out)
