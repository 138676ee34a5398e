"""RFC 9457 problem details: every error the gateway returns, with a stable machine-readable code.

Codes are grouped into the families clients branch on — ``not_holder``, ``wrong_state``,
``not_found``, ``duplicate``, ``invalid_document``, ``bad_signature``, ``expired``, ``forbidden_role``,
``suspended`` ... — and the precise contract error name travels beside it in ``error``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import (
    ChainError,
    ConfigurationError,
    ContractRevertError,
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
    "install_problem_handlers",
    "problem_for_contract_error",
    "problem_for_failed_operation",
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


def _for_registry_error(exc: RegistryError) -> Problem:
    if isinstance(exc, ContractRevertError):
        return problem_for_contract_error(exc)
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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return Problem(500, "internal_error", "Internal error", "see the server log").response(
            request.url.path
        )
