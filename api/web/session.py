"""The web session: a sealed, HttpOnly, SameSite=Strict cookie (Secure over TLS), and a CSRF token that
every form posts back.

- **Sealed.** The cookie holds the organisation's API credential encrypted and authenticated with
  Fernet (``cryptography``: AES-128-CBC + HMAC-SHA256, with its issue time), under a key kept in the data
  folder (``secrets/web-session-key``, mode 0600) that every gateway worker of one registry shares. The
  browser never holds a usable ``/v1`` bearer token; a cookie older than :data:`MAX_AGE` is refused by
  its own timestamp, whatever the browser does with ``Max-Age``.
- **CSRF.** A signed-in form carries ``HMAC(key, credential)``. The sign-in form, before there is a
  session, carries ``HMAC(key, pre-session nonce)`` whose nonce sits in its own Strict cookie (login
  CSRF: a page elsewhere cannot sign a victim in as the attacker). Forms are also refused when the
  browser names another origin (``Origin``, or ``Sec-Fetch-Site: cross-site``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Credentials, Principal

COOKIE = "ebl_session"
PRE_SESSION = "ebl_pre_session"
MAX_AGE = 8 * 3600
"""The session expires after a working day; sign in again then."""


def _key_file(request: Request) -> Path:
    return Path(request.app.state.runtime.settings.data_dir) / "secrets" / "web-session-key"


def _key(request: Request) -> bytes:
    """The registry's session key, made once (exclusively, so concurrent workers agree) and cached."""
    cached: bytes | None = getattr(request.app.state, "web_session_key", None)
    if cached is not None:
        return cached
    path = _key_file(request)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
    key = path.read_bytes().strip()
    request.app.state.web_session_key = key
    return key


def _mac(request: Request, value: str, purpose: bytes) -> str:
    return hmac.new(_key(request), purpose + b"\0" + value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token a signed-in page's forms post back (empty without a session)."""
    token = credential(request)
    return _mac(request, token, b"csrf") if token else ""


def credential(request: Request) -> str | None:
    """The API credential sealed in the session cookie, or None when it is absent, altered or expired;
    opened once per request (the page, its CSRF token and each ``/v1`` call it makes all ask)."""
    if "ebl_credential" in request.scope.get("state", {}):
        opened: str | None = request.state.ebl_credential
        return opened
    sealed = request.cookies.get(COOKIE)
    opened = None
    if sealed:
        try:
            opened = Fernet(_key(request)).decrypt(sealed.encode(), ttl=MAX_AGE).decode()
        except (InvalidToken, UnicodeDecodeError):
            opened = None
    request.state.ebl_credential = opened
    return opened


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


class SignInRequired(Exception):
    """Raised by :data:`SignedIn` on a page that needs a session the request does not have; the web app
    answers it with a redirect to the sign-in page (:func:`to_sign_in`), never with a problem document."""


async def _signed_in(request: Request) -> Principal:
    who = await principal(request)
    if who is None:
        raise SignInRequired
    return who


SignedIn = Annotated[Principal, Depends(_signed_in)]
"""A page route's parameter: who the session acts as; without a valid session, the sign-in page."""


async def to_sign_in(request: Request, exc: Exception) -> Response:
    """The handler of :class:`SignInRequired`: 303 to the sign-in page."""
    return RedirectResponse("/web/sign-in", status_code=303)


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/web",
    )


def start(response: Response, request: Request, token: str) -> None:
    _cookie(response, request, COOKIE, Fernet(_key(request)).encrypt(token.encode()).decode(), MAX_AGE)
    response.delete_cookie(PRE_SESSION, path="/web", httponly=True, samesite="strict")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/web", httponly=True, samesite="strict")


def pre_session(request: Request) -> str:
    """This browser's pre-session nonce (the one its cookie holds, or a new one to set)."""
    return request.cookies.get(PRE_SESSION) or secrets.token_urlsafe(24)


def sign_in_token(request: Request, nonce: str) -> str:
    """The sign-in form's token for ``nonce``."""
    return _mac(request, nonce, b"sign-in")


def keep_pre_session(response: Response, request: Request, nonce: str) -> None:
    _cookie(response, request, PRE_SESSION, nonce, 3600)


def sign_in_ok(request: Request, fields: dict[str, str]) -> bool:
    """The sign-in form came from this origin's own sign-in page, in this browser."""
    nonce = request.cookies.get(PRE_SESSION, "")
    sent = fields.get("csrf", "")
    return (
        bool(nonce) and same_origin(request) and hmac.compare_digest(sent, _mac(request, nonce, b"sign-in"))
    )


async def form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the first value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def csrf_ok(request: Request, fields: dict[str, str]) -> bool:
    sent = fields.get("csrf", "")
    expected = csrf_token(request)
    return bool(expected) and same_origin(request) and hmac.compare_digest(sent, expected)
