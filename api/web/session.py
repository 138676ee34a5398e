"""The web session: the organisation's API credential in an HttpOnly, SameSite=Strict cookie (Secure
over TLS), and a CSRF token derived from it that every form posts back.

The CSRF token is ``HMAC-SHA256(credential, "csrf")``: a page on another origin can neither read the
cookie nor the token, and the gateway keeps no session state (it runs several workers). Forms are also
refused when their ``Origin`` header names another origin.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Credentials, Principal

COOKIE = "ebl_session"
MAX_AGE = 8 * 3600
"""The session cookie expires after a working day; sign in again then."""


def csrf_token(credential: str) -> str:
    return hmac.new(credential.encode(), b"csrf", hashlib.sha256).hexdigest()


def credential(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


async def principal(request: Request) -> Principal | None:
    """Who the session acts as, checked against the credential store on every request (a revoked or
    expired credential signs the session out)."""
    token = credential(request)
    if not token:
        return None
    store: Credentials = request.app.state.credentials
    cached = store.cached(token)
    found = cached if cached is not None else await run_in_threadpool(store.check, token)
    return found if isinstance(found, Principal) else None


def start(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/web", httponly=True, samesite="strict")


async def form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the first value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def csrf_ok(request: Request, fields: dict[str, str]) -> bool:
    token = credential(request)
    sent = fields.get("csrf", "")
    return bool(token) and same_origin(request) and hmac.compare_digest(sent, csrf_token(token or ""))
