"""RFC 9457 problem details: every error the gateway returns, with a stable machine-readable code.

Codes are grouped into the families clients branch on — ``not_holder``, ``wrong_state``,
``not_found``, ``duplicate``, ``invalid_document``, ``bad_signature``, ``expired``, ``forbidden_role``,
``suspended`` ... — and the precise contract error name travels beside it in ``error``. Every code the
gateway can answer with is in :data:`registry.records.problems.PROBLEM_CODES` (its HTTP status and
meaning), which the OpenAPI document (:mod:`api.problem_docs`) and the README's table are generated
from; ``detail`` and ``args`` speak DCSA words ("the eBL
is SURRENDERED", ``"status": "SURRENDERED"``), never enum numbers or Solidity signatures.
"""

from __future__ import annotations

from typing import Any

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import logs
from api.dcsa_errors import error_response, is_dcsa_path
from api.problem_docs import ProblemOut, codes_for_status, document_problems, problem_responses
from registry.errors import (
    CarrierCodeTakenError,
    CarrierMismatchError,
    ChainError,
    ConfigurationError,
    ContractRevertError,
    DcsaRequestConflictError,
    DuplicateKeyError,
    IdempotencyConflictError,
    InvalidDocumentError,
    InvalidRequestError,
    InvalidSignatureError,
    KeyManagementError,
    NoMatchingEblError,
    NotFoundError,
    RegistryError,
    TransferInProgressError,
    TrustListError,
    UnknownKeyError,
    UnknownPlatformError,
    render_value,
)
from registry.records.problems import (
    CONTRACT_PROBLEMS,
    PROBLEM_CODES,
    PROBLEM_JSON,
    TYPE_BASE,
    contract_problem,
    problem_code_of,
    status_of,
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

# contract error name → (HTTP status, code), both read from the one table of codes
_CONTRACT: dict[str, tuple[int, str]] = {name: contract_problem(name) for name in CONTRACT_PROBLEMS}


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


def problem_for_failed_operation(error_code: str | None, detail: str | None, operation_id: str) -> Problem:
    """The problem for an operation that failed on chain after acceptance (journal ``error_code`` is the
    contract error name when there is one): the same status and stable code as a refused simulation."""
    name = error_code or "refused"
    code = problem_code_of(name) or "refused"
    status = status_of(code)
    return Problem(
        status, code, "The operation failed on chain", detail or "", error=name, operationId=operation_id
    )


def problem_for_contract_error(exc: ContractRevertError) -> Problem:
    """The problem a decoded contract revert maps to: its sentence in DCSA words as ``detail``, its
    arguments as text (enums by name, numbers as decimal strings) in ``args``."""
    status, code = contract_problem(exc.error_name)
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
    if isinstance(exc, DcsaRequestConflictError):
        return Problem(409, "duplicate", "Already requested", str(exc))
    if isinstance(exc, NotFoundError):
        return Problem(404, "not_found", "Not found", str(exc))
    if isinstance(exc, UnknownPlatformError):
        return Problem(404, "unknown_platform", "Unknown platform", str(exc))
    if isinstance(exc, TransferInProgressError):
        return Problem(409, "transfer_in_progress", "A transfer of this bill is unfinished", str(exc))
    if isinstance(exc, TrustListError):
        return Problem(422, "invalid_platform", "The platform entry is not usable", str(exc))
    if isinstance(exc, IdempotencyConflictError):
        return Problem(
            409, "idempotency_conflict", "Idempotency-Key reused for a different request", str(exc)
        )
    if isinstance(exc, InvalidRequestError):
        return Problem(422, "invalid_request", "The request is not valid", str(exc))
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


def _answer(request: Request, problem: Problem) -> JSONResponse:
    """problem+json, or under ``/v3`` the DCSA ``ErrorResponse`` (:mod:`api.dcsa_errors`)."""
    if not is_dcsa_path(request.url.path):
        return problem.response(request.url.path)
    problem.response(request.url.path)  # the same bookkeeping: the 5xx log line, the operation id
    errors = problem.extra.get("errors")
    detailed = (
        [
            {
                "errorCodeText": problem.code,
                "errorCodeMessage": str(e.get("message") or problem.detail)[:5000],
                "jsonPath": str(e.get("path", ""))[:500],
            }
            for e in errors
        ]
        if isinstance(errors, list) and errors
        else None
    )
    headers = {"Retry-After": "1"} if problem.status in (429, 503) else {}
    headers.update(problem.headers)
    return error_response(
        request.method,
        request.url.path,
        problem.status,
        problem.code,
        problem.detail or problem.title,
        correlation=logs.current_request_id(),
        errors=detailed,
        headers=headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json (the DCSA ``ErrorResponse`` under ``/v3``); never leak a
    traceback."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return _answer(request, exc)

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> JSONResponse:
        return _answer(request, _for_registry_error(exc))

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
        dcsa = is_dcsa_path(request.url.path)  # DCSA: a malformed request is a 400
        status, code = (400, "bad_request") if dcsa else (422, "invalid_request")
        return _answer(
            request,
            Problem(status, code, "The request is not valid", "see errors", errors=errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthenticated",
            403: "forbidden_role",
            404: "not_found",
            405: "method_not_allowed",
        }.get(exc.status_code, "http_error")
        return _answer(request, Problem(exc.status_code, code, str(exc.detail), str(exc.detail)))

    # The ledger's JSON-RPC connection failed (the chain is down or restarting): 503 + Retry-After,
    # not 500; accepted writes are journaled and resubmitted when it is back.
    @app.exception_handler(requests.exceptions.ConnectionError)
    @app.exception_handler(requests.exceptions.Timeout)
    async def _ledger_unreachable(request: Request, exc: Exception) -> JSONResponse:
        return _answer(
            request, Problem(503, "ledger_unavailable", "The ledger did not answer", type(exc).__name__)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _answer(request, Problem(500, "internal_error", "Internal error", "see the server log"))
