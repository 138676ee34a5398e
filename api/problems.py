"""RFC 9457 problem details: every error the gateway returns, with a stable machine-readable code.

Codes are grouped into the families clients branch on — ``not_holder``, ``wrong_state``,
``not_found``, ``duplicate``, ``invalid_document``, ``bad_signature``, ``expired``, ``forbidden_role``,
``suspended`` ... — and the precise contract error name travels beside it in ``error``. Every code the
gateway can answer with is in :data:`PROBLEM_CODES` (its HTTP status and meaning), which the OpenAPI
document and the README's table are generated from; ``detail`` and ``args`` speak DCSA words ("the eBL
is SURRENDERED", ``"status": "SURRENDERED"``), never enum numbers or Solidity signatures.
"""

from __future__ import annotations

from typing import Any

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import logs
from registry.errors import (
    CarrierCodeTakenError,
    CarrierMismatchError,
    ChainError,
    ConfigurationError,
    ContractRevertError,
    DuplicateKeyError,
    IdempotencyConflictError,
    InvalidDocumentError,
    InvalidSignatureError,
    KeyManagementError,
    NoMatchingEblError,
    NotFoundError,
    RegistryError,
    UnknownKeyError,
    render_value,
)

__all__ = [
    "PROBLEM_CODES",
    "Problem",
    "ProblemOut",
    "codes_for_status",
    "document_problems",
    "install_problem_handlers",
    "problem_code_of",
    "problem_for_contract_error",
    "problem_for_duplicate_key",
    "problem_for_failed_operation",
    "problem_for_registry_error",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://ebl-registry.dev/problems/"

PROBLEM_CODES: dict[str, tuple[int, str]] = {
    # 400
    "invalid_encoding": (400, "The request body is not UTF-8"),
    "too_deep": (400, "The request JSON is nested more than 64 levels deep"),
    "expired": (400, "The signature's deadline has passed"),
    "bad_signature": (400, "The signature is malformed, malleable, or not by the claimed signer"),
    "http_error": (400, "The HTTP request itself was refused (the status says how)"),
    # 401
    "unauthenticated": (401, "No credential, or one that is invalid, revoked or expired"),
    # 403
    "forbidden_role": (403, "The credential's role, or the organisation's, may not do this"),
    "not_holder": (403, "The acting organisation is not the holder of the eBL"),
    "not_entitled": (403, "The holder is neither the endorsee nor holding a blank-endorsed bill"),
    "not_endorsee": (403, "Only the endorsee may nominate the next endorsee"),
    "not_issuing_carrier": (403, "Only the carrier that issued the eBL may do this"),
    "unauthorized_key": (403, "The signing key is not an active key of the organisation"),
    "suspended": (403, "The organisation is suspended: it may neither act nor receive title"),
    # 404
    "not_found": (404, "No such eBL, organisation or operation, or none this principal may see"),
    "no_matching_ebl": (404, "No eBL was issued for the presented document"),
    # 405
    "method_not_allowed": (405, "The path does not accept this HTTP method"),
    # 409
    "duplicate": (
        409,
        "Already exists: the eBL, a record of the same document (one record per document), the "
        "organisation, the key, or a carrier code another carrier has",
    ),
    "wrong_state": (409, "Not allowed in the eBL's current status (the detail names it)"),
    "straight_bill_recipient": (409, "A straight bill goes only to its named consignee"),
    "nonce_used": (409, "The signature's nonce was already used (a replay)"),
    "last_key": (409, "An organisation cannot revoke its last active key"),
    "idempotency_conflict": (409, "The Idempotency-Key was used before for a different request"),
    "no_custodial_key": (409, "The gateway holds no active key for this organisation: sign it yourself"),
    "refused": (409, "The ledger refused the operation without a reason the registry knows"),
    # 413
    "payload_too_large": (413, "The request body is larger than the gateway accepts"),
    # 422
    "invalid_request": (422, "The request is not valid (the errors name each field)"),
    "invalid_document": (422, "The transport document breaks the DCSA schema or a DCSA rule (JSON paths)"),
    "carrier_mismatch": (
        422,
        "The document names another carrier than the one issuing it ($.carrierCode is not one of its codes)",
    ),
    "duplicate_key": (422, "The JSON names a key twice in one object (I-JSON)"),
    "role_mismatch": (422, "The credential's role is not the organisation's role on chain"),
    "unknown_organisation": (422, "The organisation named is not a member"),
    "invalid_counterparty": (422, "The counterparty is not acceptable for this action (e.g. the holder)"),
    # 429
    "rate_limited": (429, "The credential's rate limit is exceeded (Retry-After)"),
    # 500
    "misconfigured": (500, "The registry's keys or settings are misconfigured (see the server log)"),
    "internal_error": (500, "Unexpected error (see the server log)"),
    # 503
    "ledger_unavailable": (503, "The ledger did not answer or is being recovered (Retry-After)"),
    "paused": (503, "Title actions are paused by governance (Retry-After)"),
    "not_ready": (503, "The gateway is not ready: chain, database or index (Retry-After)"),
}
"""Every problem ``code`` the gateway answers with → (HTTP status, meaning)."""

# contract error name → (HTTP status, stable code); every custom error in the contracts' ABI
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
    "TitleDuplicateDocument": (409, "duplicate"),
    "TitleOnlySelf": (422, "invalid_request"),
    "TitleERC721Disabled": (422, "invalid_request"),
    "MembershipKeyNotOwned": (403, "unauthorized_key"),
    "MembershipLastKey": (409, "last_key"),
    "MembershipInvalidRole": (422, "invalid_request"),
    "MembershipZeroAddress": (422, "invalid_request"),
    "AccessControlUnauthorizedAccount": (403, "forbidden_role"),
    "AccessControlBadConfirmation": (422, "invalid_request"),
    "EnforcedPause": (503, "paused"),
    "ExpectedPause": (409, "wrong_state"),
    "InvalidShortString": (422, "invalid_request"),
    "StringTooLong": (422, "invalid_request"),
}


class Problem(Exception):
    """Raise to answer with a problem+json response (``headers``: extra response headers, e.g. a 401's
    ``WWW-Authenticate``)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str = "",
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra
        self.headers = dict(headers or {})

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
        if self.status >= 500:  # rendered in the exception handler: the log line gets the traceback
            logs.record_failure()
            request_id = logs.current_request_id()  # what "see the server log" is looked up by
            if request_id is not None:
                body["requestId"] = request_id
        if isinstance(self.extra.get("operationId"), str):
            logs.note_operation(self.extra["operationId"])
        headers = {"Retry-After": "1"} if self.status in (429, 503) else {}
        headers.update(self.headers)
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=headers)


def problem_code_of(error_code: str | None) -> str | None:
    """The problem code for what the journal records as a failed operation's ``error_code`` (the
    contract error name, or a registry error code): ``TitleWrongStatus`` → ``wrong_state``."""
    if not error_code:
        return None
    if error_code in _CONTRACT:
        return _CONTRACT[error_code][1]
    return error_code if error_code in PROBLEM_CODES else "refused"


def problem_for_failed_operation(error_code: str | None, detail: str | None, operation_id: str) -> Problem:
    """The problem for an operation that failed on chain after acceptance (journal ``error_code`` is the
    contract error name when there is one): the same status and stable code as a refused simulation."""
    name = error_code or "refused"
    code = problem_code_of(name) or "refused"
    status = PROBLEM_CODES[code][0]
    return Problem(
        status, code, "The operation failed on chain", detail or "", error=name, operationId=operation_id
    )


def problem_for_contract_error(exc: ContractRevertError) -> Problem:
    """The problem a decoded contract revert maps to: its sentence in DCSA words as ``detail``, its
    arguments as text (enums by name, numbers as decimal strings) in ``args``."""
    status, code = _CONTRACT.get(exc.error_name, (409, "refused"))
    args = {k: v if isinstance(v, bool) else render_value(v) for k, v in exc.args_by_name.items()}
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


def problem_for_registry_error(exc: RegistryError) -> Problem:
    """The problem any registry error answers with (as the gateway's handler renders it)."""
    return _for_registry_error(exc)


def _for_registry_error(exc: RegistryError) -> Problem:
    if isinstance(exc, ContractRevertError):
        return problem_for_contract_error(exc)
    if isinstance(exc, DuplicateKeyError):
        return problem_for_duplicate_key(exc)
    if isinstance(exc, CarrierMismatchError):
        violations = [{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations]
        return Problem(
            422,
            "carrier_mismatch",
            "The document names another carrier",
            str(exc),
            violations=violations,
        )
    if isinstance(exc, CarrierCodeTakenError):
        return Problem(
            409,
            "duplicate",
            "The carrier code belongs to another organisation",
            str(exc),
        )
    if isinstance(exc, InvalidDocumentError):
        violations = [{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations]
        return Problem(
            422, "invalid_document", "The transport document is not valid", str(exc), violations=violations
        )
    if isinstance(exc, NoMatchingEblError):
        return Problem(
            404,
            "no_matching_ebl",
            "No eBL was issued for this document",
            str(exc),
            presentedHash=exc.document_hash,
        )
    if isinstance(exc, NotFoundError):
        return Problem(404, "not_found", "Not found", str(exc))
    if isinstance(exc, IdempotencyConflictError):
        return Problem(
            409, "idempotency_conflict", "Idempotency-Key reused for a different request", str(exc)
        )
    if isinstance(exc, InvalidSignatureError):
        if exc.reason == "expired":
            return Problem(400, "expired", "The signature's deadline has passed", str(exc))
        return Problem(400, "bad_signature", "The signature is not acceptable", str(exc))
    if isinstance(exc, UnknownKeyError):
        return Problem(409, "no_custodial_key", "No custodial key for this organisation", str(exc))
    if isinstance(exc, KeyManagementError | ConfigurationError):
        return Problem(
            500, "misconfigured", "The registry is misconfigured", f"{exc.code}: see the server log"
        )
    if isinstance(exc, ChainError):
        return Problem(503, "ledger_unavailable", "The ledger did not answer", str(exc))
    return Problem(500, "internal_error", "Internal error", f"{exc.code}: see the server log")


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
    code: str = Field(
        description="Stable machine-readable code; every code, its status and meaning:\n\n"
        + "\n".join(f"- `{code}` ({status}): {meaning}" for code, (status, meaning) in PROBLEM_CODES.items()),
        json_schema_extra={"enum": list(PROBLEM_CODES)},
    )
    instance: str | None = Field(default=None, description="The request path")
    error: str | None = Field(default=None, description="The contract error name, when the chain refused")
    args: dict[str, Any] | None = Field(default=None, description="The contract error's arguments")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Request validation errors")
    violations: list[dict[str, Any]] | None = Field(default=None, description="Document rule violations")
    operation_id: str | None = Field(
        default=None, alias="operationId", description="The operation that failed on chain"
    )
    request_id: str | None = Field(
        default=None,
        alias="requestId",
        description="5xx only: the request's X-Request-ID, which the server log's line for it carries",
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


def codes_for_status(status: int) -> list[str]:
    """The problem codes answered with ``status``, in table order."""
    return [code for code, (s, _) in PROBLEM_CODES.items() if s == status]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` documenting ``statuses`` as problem+json, each with the codes it may carry
    (in the description and as ``x-problem-codes``)."""
    return {
        status: {
            "description": _STATUS_DESCRIPTIONS[status]
            + ". Codes: "
            + ", ".join(f"`{code}`" for code in codes_for_status(status)),
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
            "x-problem-codes": codes_for_status(status),
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
                if operation.get("security"):  # the bearer scheme (api.deps.BEARER)
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
