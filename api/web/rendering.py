"""What every web page shares: the templates, the in-process ``/v1`` call with the session's
credential (:func:`call_api`), and :func:`render`, which adds the language, the acting-as line and the
CSRF token to every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import Credentials, Principal
from api.web import i18n, session

__all__ = ["OPERATION_DONE", "call_api", "lei", "member_directory", "problem_of", "render", "templates"]

OPERATION_DONE = ("final", "failed")
"""The statuses after which an operation page stops polling."""


def lei(identifier: str) -> str:
    """An organisation's identifier as the pages show it: ``LEI 5493…``, or as it is when it already
    names itself an LEI (``LEI:DEMO-BANK-0001``), never ``LEI LEI:…``."""
    return identifier if identifier.upper().startswith("LEI") else f"LEI {identifier}"


templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
)
templates.env.filters["lei"] = lei


async def call_api(
    request: Request,
    method: str,
    path: str,
    body: str | None = None,
    accept: str = "application/json",
    *,
    idempotency_key: str | None = None,
) -> httpx.Response:
    """One ``/v1`` request through this same app (its guards, auth, rate limit and rules); a write may
    carry an ``Idempotency-Key`` so that a form posted twice acts once."""
    headers = {"Authorization": f"Bearer {session.credential(request)}", "Accept": accept}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if body is not None:
        headers["Content-Type"] = "application/json"
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.internal") as client:
        return await client.request(method, path, content=body, headers=headers)


def _acting_as(request: Request, who: Principal | None) -> str | None:
    if who is None:
        return None
    if who.org is None:
        return f"{who.name} ({who.role})"
    store: Credentials = request.app.state.credentials
    profile = store.profiles({who.org}).get(who.org)
    label = profile.name if profile is not None else who.name
    known = f", {lei(profile.identifier)}" if profile is not None and profile.identifier else ""
    return f"{label} ({who.role}{known})"


def render(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> Response:
    lang = i18n.choose(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": i18n.CATALOGUES[lang],
            "lang": lang,
            "languages": i18n.LANGUAGES,
            "acting_as": _acting_as(request, who),
            "role": who.role if who else None,
            "csrf": session.csrf_token(request) if who else "",
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie("ebl_lang", lang, max_age=365 * 86400, samesite="strict", path="/web")
    return response


def problem_of(answer: httpx.Response) -> str:
    """The API's refusal in its own words, one line: ``title: detail`` and any validation messages."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {answer.status_code}"
    said = f"{body.get('title', '')}: {body.get('detail', '')}".strip(": ") or f"HTTP {answer.status_code}"
    errors = [e.get("message", "") for e in body.get("errors", []) if isinstance(e, dict)]
    return f"{said} ({'; '.join(errors)})" if errors else said


async def member_directory(request: Request, who: Principal) -> list[dict[str, Any]]:
    """The member organisations the caller may name (``GET /v1/members/directory``), itself left out;
    empty when the API refuses."""
    answer = await call_api(request, "GET", "/v1/members/directory?limit=1000")
    if answer.status_code != 200:
        return []
    return [o for o in answer.json() if o.get("address") != who.org]
