"""The web pages: sign-in, sign-out and verify. Every answer comes from the ``/v1`` API, called
in-process with the session's credential (:func:`call_api`), so the page applies the same rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Credentials, Principal
from api.web import session
from api.web.exports import attachment, safe_name
from api.web.rendering import call_api, problem_of, render

router = APIRouter(prefix="/web", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home() -> Response:
    return RedirectResponse("/web/verify", status_code=303)


def _sign_in_form(request: Request, who: Principal | None, status: int = 200, **context: Any) -> Response:
    """The sign-in page with its login-CSRF token (and the pre-session cookie the token is bound to)."""
    nonce = session.pre_session(request)
    token = session.sign_in_token(request, nonce)
    response = render(request, "sign_in.html", who, status, sign_in_csrf=token, **context)
    session.keep_pre_session(response, request, nonce)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request, await session.principal(request))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    fields = await session.form(request)
    if not session.sign_in_ok(request, fields):
        return _sign_in_form(request, None, 403, error="csrf")
    token = fields.get("credential", "").strip()
    store: Credentials = request.app.state.credentials
    found = await run_in_threadpool(store.check, token) if token else "invalid"
    if not isinstance(found, Principal):
        return _sign_in_form(request, None, 401, error="bad_credential")
    response = RedirectResponse("/web/verify", status_code=303)
    session.start(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    fields = await session.form(request)
    if not session.csrf_ok(request, fields):
        return _sign_in_form(request, await session.principal(request), 403, error="csrf")
    response = RedirectResponse("/web/sign-in", status_code=303)
    session.end(response)
    return response


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request, who: session.SignedIn) -> Response:
    return render(request, "verify.html", who, ebl_id="", document="")


def _verification_call(ebl_id: str, document: str) -> tuple[str, str, str | None]:
    if ebl_id and document:
        return "POST", f"/v1/banks/ebls/{quote(ebl_id, safe='')}/verification", document
    if ebl_id:
        return "GET", f"/v1/banks/ebls/{quote(ebl_id, safe='')}/verification", None
    return "POST", "/v1/banks/verifications", document


@router.post("/verify", response_class=HTMLResponse)
async def verify(request: Request) -> Response:
    who = await session.principal(request)
    fields = await session.form(request)
    if who is None:
        return _sign_in_form(request, None, 401, error="bad_credential")
    if not session.csrf_ok(request, fields):
        return render(request, "verify.html", who, 403, error="csrf", ebl_id="", document="")
    ebl_id, document = fields.get("ebl_id", "").strip(), fields.get("document", "").strip()
    context: dict[str, Any] = {"ebl_id": ebl_id, "document": document}
    if not ebl_id and not document:
        return render(request, "verify.html", who, 422, error="need_input", **context)
    answer = await call_api(request, *_verification_call(ebl_id, document))
    if answer.status_code == 200:
        context["v"] = answer.json()
    elif answer.status_code == 404:
        context["no_such"] = True
    else:
        context["problem"] = problem_of(answer)
    return render(request, "verify.html", who, **context)


@router.post("/verify/attestation")
async def attestation(request: Request) -> Response:
    """The signed attestation (compact JWS) of an eBL, as a file to keep with the credit file."""
    who = await session.principal(request)
    fields = await session.form(request)
    if who is None or not session.csrf_ok(request, fields):
        return render(request, "verify.html", who, 403, error="csrf", ebl_id="", document="")
    ebl_id, document = fields.get("ebl_id", "").strip(), fields.get("document", "").strip()
    path = f"/v1/banks/ebls/{quote(ebl_id, safe='')}/attestations"
    answer = await call_api(request, "POST", path, document or "", accept="application/jose")
    if answer.status_code != 200:
        context = {"ebl_id": ebl_id, "document": document, "problem": problem_of(answer)}
        return render(request, "verify.html", who, answer.status_code, **context)
    return attachment(answer.content, "application/jose", f"attestation-{safe_name(ebl_id, 'ebl')}.jws")
