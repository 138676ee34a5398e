"""The OpenAPI document's account of errors: the ``Problem`` schema and, per route, the problem+json
answers it may give with the codes each status carries (all read from the one table of codes,
:data:`registry.records.problems.PROBLEM_CODES`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from registry.records.problems import PROBLEM_CODES, PROBLEM_JSON, TYPE_BASE

__all__ = ["ProblemOut", "codes_for_status", "document_problems", "problem_responses"]


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
