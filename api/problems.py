"""RFC 9457 problem details: every error the gateway returns, with a stable machine-readable code.

Codes are grouped into the families clients branch on — ``not_holder``, ``wrong_state``,
``not_found``, ``duplicate``, ``invalid_document``, ``bad_signature``, ``expired``, ``forbidden_role``,
``suspended`` ... — and the precise contract error name travels beside it in ``error``.
"""

from __future__ import annotations

from typing import Any

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import (
    ChainError,
    ConfigurationError,
    ContractRevertError,
    DuplicateKeyError,
    IdempotencyConflictError,
    InvalidDocumentError,
    InvalidSignatureError,
    KeyManagementError,
    NotFoundError,
    RegistryError,
    UnknownKeyError,
)

__all__ = [
    "Problem",
    "ProblemOut",
    "document_problems",
    "install_problem_handlers",
    "problem_for_contract_error",
    "problem_for_duplicate_key",
    "problem_for_failed_operation",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://ebl-registry.dev/problems/"

# contract error name → (HTTP status, stable code)
_CONTRACT: dict[str, tuple[int, str]] = {
    "TitleNotHolder": (403, "not_holder"),
    "TitleNotEntitled": (403, "not_entitled"),
    "TitleNotEndorsee": (403, "not_endorsee"),
    "TitleNotIssuingCarrier": (403, "not_issuing_carrier"),
    "MembershipRoleRequired": (403, "forbidden_role"),
    "MembershipUnauthorizedKey": (403, "unauthorized_key"),
    "MembershipOrganisationNotActive": (403, "suspended"),
    "TitleUnknownEbl": (404, "not_found"),
    "MembershipUnknownOrganisation": (422, "unknown_organisation"),
    "TitleAlreadyIssued": (409, "duplicate"),
    "MembershipOrganisationExists": (409, "duplicate"),
    "MembershipKeyExists": (409, "duplicate"),
    "TitleWrongStatus": (409, "wrong_state"),
    "TitleNotEndorsable": (409, "wrong_state"),
    "TitleNothingToReject": (409, "wrong_state"),
    "TitleWrongSurrenderReason": (409, "wrong_state"),
    "TitleStraightBillRecipient": (409, "straight_bill_recipient"),
    "TitleInvalidCounterparty": (422, "invalid_counterparty"),
    "TitleExpiredSignature": (400, "expired"),
    "TitleInvalidSignature": (400, "bad_signature"),
    "TitleNonceUsed": (409, "nonce_used"),
    "TitleZeroHash": (422, "invalid_request"),
    "TitleInvalidAction": (422, "invalid_request"),
    "TitleInvalidKind": (422, "invalid_request"),
    "EnforcedPause": (503, "paused"),
}


class Problem(Exception):
    """Raise to answer with a problem+json response."""

    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        headers = {"Retry-After": "1"} if self.status in (429, 503) else None
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=headers)


def problem_for_failed_operation(error_code: str | None, detail: str | None, operation_id: str) -> Problem:
    """The problem for an operation that failed on chain after acceptance (journal ``error_code`` is the
    contract error name when there is one): the same status and stable code as a refused simulation."""
    name = error_code or "refused"
    status, code = _CONTRACT.get(name, (409, name))
    return Problem(
        status, code, "The operation failed on chain", detail or "", error=name, operationId=operation_id
    )


def problem_for_contract_error(exc: ContractRevertError) -> Problem:
    """The problem a decoded contract revert maps to."""
    status, code = _CONTRACT.get(exc.error_name, (409, "refused"))
    args = {
        k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in exc.args_by_name.items()
    }
    return Problem(
        status, code, "The registry refused the operation", str(exc), error=exc.error_name, args=args
    )


def problem_for_duplicate_key(exc: DuplicateKeyError) -> Problem:
    """422 ``duplicate_key``: JSON that names a key twice in one object (I-JSON), each repeat by its
    JSON path (of the request body, or of the presented document)."""
    violations = [{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations]
    return Problem(
        422,
        "duplicate_key",
        "The JSON names a key twice in one object",
        f"refused, not read one way: duplicate key at {', '.join(exc.paths)}",
        violations=violations,
    )


def _for_registry_error(exc: RegistryError) -> Problem:
    if isinstance(exc, ContractRevertError):
        return problem_for_contract_error(exc)
    if isinstance(exc, DuplicateKeyError):
        return problem_for_duplicate_key(exc)
    if isinstance(exc, InvalidDocumentError):
        violations = [{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations]
        return Problem(
            422, "invalid_document", "The transport document is not valid", str(exc), violations=violations
        )
    if isinstance(exc, NotFoundError):
        return Problem(404, "not_found", "Not found", str(exc))
    if isinstance(exc, IdempotencyConflictError):
        return Problem(
            409, "idempotency_conflict", "Idempotency-Key reused for a different request", str(exc)
        )
    if isinstance(exc, InvalidSignatureError):
        return Problem(400, "bad_signature", "The signature is not acceptable", str(exc))
    if isinstance(exc, UnknownKeyError):
        return Problem(409, "no_custodial_key", "No custodial key for this organisation", str(exc))
    if isinstance(exc, KeyManagementError | ConfigurationError):
        return Problem(500, exc.code, "The registry is misconfigured", "see the server log")
    if isinstance(exc, ChainError):
        return Problem(503, "ledger_unavailable", "The ledger did not answer", str(exc))
    return Problem(500, exc.code, "Internal error", "see the server log")


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json; never leak a traceback."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> JSONResponse:
        return _for_registry_error(exc).response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "path": "$." + ".".join(str(p) for p in e.get("loc", ())[1:]),
                "message": e.get("msg", ""),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        return Problem(
            422, "invalid_request", "The request is not valid", "see errors", errors=errors
        ).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthenticated",
            403: "forbidden_role",
            404: "not_found",
            405: "method_not_allowed",
        }.get(exc.status_code, "http_error")
        return Problem(exc.status_code, code, str(exc.detail), str(exc.detail)).response(request.url.path)

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError) -> JSONResponse:
        return Problem(422, "invalid_request", "The request is not valid", str(exc)).response(
            request.url.path
        )

    # The ledger's JSON-RPC connection failed (the chain is down or restarting): 503 + Retry-After,
    # not 500; accepted writes are journaled and resubmitted when it is back.
    @app.exception_handler(requests.exceptions.ConnectionError)
    @app.exception_handler(requests.exceptions.Timeout)
    async def _ledger_unreachable(request: Request, exc: Exception) -> JSONResponse:
        return Problem(503, "ledger_unavailable", "The ledger did not answer", type(exc).__name__).response(
            request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return Problem(500, "internal_error", "Internal error", "see the server log").response(
            request.url.path
        )


# ------------------------------------------------------------------ OpenAPI: the problems, documented


class ProblemOut(BaseModel):
    """RFC 9457 problem details, as every error response carries them (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI naming the problem family: " + TYPE_BASE + "<code>")
    title: str
    status: int = Field(ge=100, le=599, description="The HTTP status, repeated")
    detail: str
    code: str = Field(description="Stable machine-readable code, e.g. not_holder, wrong_state, not_found")
    instance: str | None = Field(default=None, description="The request path")
    error: str | None = Field(default=None, description="The contract error name, when the chain refused")
    args: dict[str, Any] | None = Field(default=None, description="The contract error's arguments")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Request validation errors")
    violations: list[dict[str, Any]] | None = Field(default=None, description="Document rule violations")
    operation_id: str | None = Field(
        default=None, alias="operationId", description="The operation that failed on chain"
    )


_STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: body not UTF-8 or JSON nested too deeply; bad or expired signature",
    401: "No, invalid or revoked credential",
    403: "The role or the organisation may not do this (on chain: not holder, not entitled ...)",
    404: "Unknown, or not visible to this principal",
    409: "Refused in the current state: duplicate, wrong state, nonce used, idempotency conflict",
    413: "Request body too large",
    422: "The request is not valid",
    429: "Rate limit of the credential exceeded (Retry-After)",
    500: "Unexpected error (details only in the server log)",
    503: "The ledger did not answer or is being recovered, or title actions are paused (Retry-After)",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` documenting ``statuses`` as problem+json."""
    return {
        status: {
            "description": _STATUS_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document describe the errors the gateway really answers with.

    Routers declare their own refusals (403, 404, 409, 503) with :func:`problem_responses`; what
    applies to every route is added here, where it is enforced: the body guard's 400 and 413 on every
    method that may carry a body, the credential check's 401 and 429 on every authenticated route, 422
    (problem+json, not FastAPI's ``HTTPValidationError``) on every route with parameters or a body, and
    500 everywhere.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses: dict[str, Any] = operation["responses"]
                params = operation.get("parameters", [])
                statuses = [500]
                if method in ("post", "put", "patch", "delete"):
                    statuses += [400, 413]
                if any(
                    p.get("in") == "header" and p.get("name", "").lower() == "authorization" for p in params
                ):
                    statuses += [401, 429]
                if params or "requestBody" in operation or "422" in responses:
                    statuses.append(422)
                for status, response in problem_responses(*statuses).items():
                    if str(status) == "422" or str(status) not in responses:
                        responses[str(status)] = response
                operation["responses"] = dict(sorted(responses.items()))
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
