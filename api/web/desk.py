"""The carrier desk (``/web/desk``): issue from a DCSA transport document (one, or many at once through
``static/desk.js``), the surrender queue with accept and reject, and amend, void and switch to paper,
each behind a confirmation that says what happens to title. Every write is the carriers' ``/v1`` route
called through :func:`~api.web.rendering.call_api`, so the API's rules and refusals apply; the page then
follows the operation (``/v1/operations/{id}``) through to final."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import Principal
from api.web import session
from api.web.rendering import OPERATION_DONE, call_api, member_directory, problem_of, render

router = APIRouter(prefix="/web/desk", include_in_schema=False)

ACTIONS = ("accept-surrender", "reject-surrender", "amend", "void", "switch-to-paper")
"""The carriers' routes on one eBL, by the last segment of ``/v1/carriers/ebls/{id}/<action>``."""

QUEUE_ACTIONS = {
    "SURRENDER_REQUESTED": ("accept-surrender", "reject-surrender"),
    "SURRENDERED_FOR_AMENDMENT": ("amend", "void", "switch-to-paper"),
}
"""What the carrier may do with a bill in its queue, by the reason the API gives for it waiting."""

CODES = ("ISSUE", "SACC", "SREJ", "AMEND", "VOID", "SWTP")
"""The DCSA action codes of the desk's writes, each named in plain words on the operation page."""

_KEY = re.compile(r"^[A-Za-z0-9_:-]{16,120}$")


def _idempotency_key(fields: dict[str, str]) -> str | None:
    """The form's ``key`` (a fresh one in every rendered form, one per file from ``desk.js``) as the
    write's ``Idempotency-Key``: the same form posted twice (a double click, a resent page) issues once."""
    key = fields.get("key", "")
    return f"web-desk:{key}" if _KEY.match(key) else None


def _operation_page(op: dict[str, Any]) -> str:
    return f"/web/desk/operations/{quote(str(op.get('operationId', '')), safe='')}"


async def _desk(request: Request, who: Principal, status: int = 200, **context: Any) -> Response:
    """The desk page: the issue forms and the queue (one page of the carrier's awaiting bills)."""
    query = {"view": "awaiting", "limit": "50"}
    cursor = request.query_params.get("cursor", "")
    if cursor:
        query["cursor"] = cursor
    answer = await call_api(request, "GET", f"/v1/members/ebls?{urlencode(query)}")
    queue: dict[str, Any] = answer.json() if answer.status_code == 200 else {"items": [], "nextCursor": None}
    context.setdefault("document", "")
    context.setdefault("issue_to", "")
    context.setdefault("endorsee", "")
    context["form_key"] = secrets.token_hex(16)
    return render(
        request,
        "desk.html",
        who,
        status,
        members=await member_directory(request, who),
        queue=queue["items"],
        next_cursor=queue.get("nextCursor"),
        queue_problem=None if answer.status_code == 200 else problem_of(answer),
        queue_actions=QUEUE_ACTIONS,
        **context,
    )


@router.get("", response_class=HTMLResponse)
async def desk_page(request: Request, who: session.SignedIn) -> Response:
    if who.role != "carrier":  # the carriers' routes refuse any other role; say so before a form is filled
        return render(request, "desk_refused.html", who, 403)
    return await _desk(request, who)


def _issue_body(fields: dict[str, str]) -> tuple[str | None, str | None]:
    """The ``/v1/carriers/ebls`` body of the form, or the reason it cannot be one (not JSON)."""
    text = fields.get("document", "").strip()
    if not text:
        return None, "desk_need_document"
    try:
        document = json.loads(text)
    except ValueError:
        return None, "desk_not_json"
    body: dict[str, Any] = {"document": document, "issueTo": fields.get("issue_to", "").strip()}
    if fields.get("endorsee", "").strip():
        body["endorsee"] = fields["endorsee"].strip()
    return json.dumps(body), None


@router.post("/issue", response_class=HTMLResponse)
async def issue(request: Request) -> Response:
    """Issue one document. A plain form answers by sending the browser to the operation's page;
    ``desk.js`` posts each of many files with ``row`` (the file's name) and gets its result row."""
    who = await session.principal(request)
    fields = await session.form(request)
    if who is None:
        return render(request, "sign_in.html", None, 401, error="bad_credential")
    row = fields.get("row")
    keep = {k: fields.get(k, "").strip() for k in ("document", "issue_to", "endorsee")}
    if not session.csrf_ok(request, fields):
        if row is not None:
            return render(request, "desk_row.html", who, 403, file=row, error_text="csrf")
        return render(request, "desk.html", who, 403, error="csrf", members=[], queue=[], **keep)
    body, wrong = _issue_body(fields)
    if body is None:
        if row is not None:
            return render(request, "desk_row.html", who, 422, file=row, error_text=wrong)
        return await _desk(request, who, 422, error=wrong, **keep)
    wait = "true" if row is not None else "false"  # a row shows the eBL id; one issue shows the operation
    key = _idempotency_key(fields)
    answer = await call_api(request, "POST", f"/v1/carriers/ebls?wait={wait}", body, idempotency_key=key)
    if row is not None:
        op = answer.json() if answer.status_code in (200, 201, 202) else None
        problem = None if op is not None else problem_of(answer)
        return render(request, "desk_row.html", who, answer.status_code, file=row, op=op, problem=problem)
    if answer.status_code in (200, 201, 202):
        return RedirectResponse(_operation_page(answer.json()), status_code=303)
    return await _desk(request, who, answer.status_code, problem=problem_of(answer), **keep)


@router.get("/operations/{operation_id}", response_class=HTMLResponse)
async def operation(request: Request, who: session.SignedIn, operation_id: str) -> Response:
    """Where a desk write stands; the page polls itself (htmx) until final or failed."""
    answer = await call_api(request, "GET", f"/v1/operations/{quote(operation_id, safe='')}")
    if answer.status_code != 200:
        return render(request, "desk_operation.html", who, answer.status_code, problem=problem_of(answer))
    op = answer.json()
    return render(
        request, "desk_operation.html", who, op=op, done=op.get("status") in OPERATION_DONE, codes=CODES
    )


@router.get("/ebls/{ebl_id}/{action}", response_class=HTMLResponse)
async def confirm(request: Request, who: session.SignedIn, ebl_id: str, action: str) -> Response:
    """The confirmation of one action on one eBL: what will happen to title, and the form that does it."""
    if action not in ACTIONS:
        return render(request, "desk_refused.html", who, 404, reason="desk_no_such_action")
    context: dict[str, Any] = {"ebl_id": ebl_id, "action": action, "document": "", "paper": ""}
    answer = await call_api(request, "GET", f"/v1/banks/ebls/{quote(ebl_id, safe='')}/verification")
    if answer.status_code != 200:  # not the carrier's to see, or no such eBL: nothing to confirm
        return render(
            request, "desk_confirm.html", who, answer.status_code, problem=problem_of(answer), **context
        )
    return render(
        request, "desk_confirm.html", who, state=answer.json(), form_key=secrets.token_hex(16), **context
    )


def _action_body(action: str, fields: dict[str, str]) -> tuple[str | None, str | None]:
    if action == "amend":
        text = fields.get("document", "").strip()
        if not text:
            return None, "desk_need_document"
        try:
            return json.dumps({"document": json.loads(text)}), None
        except ValueError:
            return None, "desk_not_json"
    if action == "switch-to-paper":
        return json.dumps({"paperDocumentHash": fields.get("paper", "").strip()}), None
    return None, None


@router.post("/ebls/{ebl_id}/{action}", response_class=HTMLResponse)
async def act(request: Request, ebl_id: str, action: str) -> Response:
    """Do the confirmed action through ``/v1/carriers/ebls/{id}/<action>``, then follow its operation."""
    who = await session.principal(request)
    fields = await session.form(request)
    if who is None:
        return render(request, "sign_in.html", None, 401, error="bad_credential")
    if action not in ACTIONS:
        return render(request, "desk_refused.html", who, 404, reason="desk_no_such_action")
    keep: dict[str, Any] = {"ebl_id": ebl_id, "action": action, "action_tried": True}
    keep["form_key"] = secrets.token_hex(16)  # the refused request did nothing: a retry is a new one
    keep |= {"document": fields.get("document", ""), "paper": fields.get("paper", "")}
    if not session.csrf_ok(request, fields):
        return render(request, "desk_confirm.html", who, 403, error="csrf", **keep)
    body, wrong = _action_body(action, fields)
    if wrong is not None:
        return render(request, "desk_confirm.html", who, 422, error=wrong, **keep)
    path = f"/v1/carriers/ebls/{quote(ebl_id, safe='')}/{action}?wait=false"
    answer = await call_api(request, "POST", path, body, idempotency_key=_idempotency_key(fields))
    if answer.status_code in (200, 201, 202):
        return RedirectResponse(_operation_page(answer.json()), status_code=303)
    return render(request, "desk_confirm.html", who, answer.status_code, problem=problem_of(answer), **keep)
