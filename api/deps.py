"""Request dependencies: the runtime, the authenticated principal, role checks and rate limits.

Authorisation is enforced twice: here the gateway refuses what the principal's role may not do, and
on chain the contract refuses what the signer may not do.

The dependencies are ``async``: FastAPI runs a plain ``def`` dependency in the worker-thread pool, one
hop per dependency per request, and these only read request state and a dictionary. The one slow step,
verifying a token not seen within the credential cache's lifetime (argon2), still runs in the pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import logs
from api.auth import ApiRole, Credentials, Principal, Refusal
from api.problems import Problem
from api.rate_limits import RateLimiter
from registry.runtime import Runtime

__all__ = [
    "BEARER",
    "CredentialsDep",
    "CurrentPrincipal",
    "RateLimiter",
    "RuntimeDep",
    "member_org",
    "require_role",
]


async def get_runtime(request: Request) -> Runtime:
    """The registry runtime the app was started with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_credentials(request: Request) -> Credentials:
    """The credential store."""
    credentials: Credentials = request.app.state.credentials
    return credentials


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]


BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="ebl_<id>.<secret>",
    description="An API credential: `Authorization: Bearer ebl_<id>.<secret>` (governance issues them)",
    auto_error=False,  # a missing or malformed header is our own 401 problem, below
)
"""The bearer scheme, declared in the OpenAPI document (Swagger UI's Authorize button) and read here."""


async def get_principal(
    request: Request,
    credentials: CredentialsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Principal:
    """Authenticate ``Authorization: Bearer ebl_<id>.<secret>`` and apply the principal's rate limit."""
    if bearer is None or not bearer.credentials:
        raise Problem(
            401,
            "unauthenticated",
            "Authentication required",
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},  # RFC 6750 3.1: no error code
        )
    token = bearer.credentials.strip()
    cached = credentials.cached(token)
    found = cached if cached is not None else await run_in_threadpool(credentials.check, token)
    if not isinstance(found, Principal):
        detail = _REFUSALS[found]
        raise Problem(
            401,
            "unauthenticated",
            "Invalid, revoked or expired credential",
            detail,
            headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", '
                f'error_description="{detail}"'
            },
        )
    principal = found
    logs.note_principal(principal.credential_id, principal.role, principal.org)  # never the token
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.allow(principal.credential_id):
        raise Problem(429, "rate_limited", "Too many requests", f"limit {limiter.rate:g}/s per credential")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]

REALM = "ebl-registry"
"""The ``realm`` of every 401's ``WWW-Authenticate: Bearer`` challenge (RFC 6750)."""

_REFUSALS: dict[Refusal, str] = {
    "invalid": "the token is not a valid credential",
    "revoked": "the credential was revoked",
    "expired": "the credential has expired",
}


def require_role(*roles: ApiRole) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency refusing principals whose role is not one of ``roles`` (403 forbidden_role)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Problem(
                403,
                "forbidden_role",
                "Not allowed for this role",
                f"{principal.role} may not call this endpoint",
            )
        return principal

    return check


def member_org(principal: Principal) -> str:
    """The member organisation a principal acts for (403 if it has none)."""
    if principal.org is None:
        raise Problem(403, "forbidden_role", "Not a member organisation", f"{principal.role} holds no title")
    return principal.org
