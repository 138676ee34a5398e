"""The holder's inbox (any member): the bills it holds, those waiting for its action and those it held,
and the holder's actions on a bill (transfer, endorse to order / named / in blank, reject, surrender).

Every action goes through three pages: choose (the counterparty from the member directory, the kind of
endorsement, the reason of a surrender), confirm (what will happen to title, in plain words; the only
form that writes, with the CSRF token) and the operation, polled through to final (htmx every second,
a Refresh link without JavaScript). Every answer comes from ``/v1`` through :func:`call_api`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import Principal
from api.web import session
from api.web.rendering import OPERATION_DONE, call_api, lei, member_directory, problem_of, render

router = APIRouter(prefix="/web/inbox", include_in_schema=False)

VIEWS = ("held", "awaiting", "former")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
ACTIONS = ("transfer", "endorse", "endorse-in-blank", "reject", "surrender")
NAMES_A_PARTY = ("transfer", "endorse")
ENDORSEMENTS = ("to_order", "named")
SURRENDERS = ("DELIVERY", "SWTP", "COD", "SWI")
"""Surrender for delivery, or for amendment with its DCSA reason code."""


def _ebl_path(ebl_id: str) -> str:
    return quote(ebl_id, safe="")


async def _bill(request: Request, ebl_id: str) -> tuple[dict[str, Any] | None, str | None, int]:
    """The bill's title state (the banks' verification answer) or the API's problem and status."""
    answer = await call_api(request, "GET", f"/v1/banks/ebls/{_ebl_path(ebl_id)}/verification")
    if answer.status_code == 200:
        return answer.json(), None, 200
    return None, problem_of(answer), answer.status_code


@router.get("", response_class=HTMLResponse)
async def inbox(request: Request, who: session.SignedIn) -> Response:
    view = request.query_params.get("view", "held")
    view = view if view in VIEWS else "held"
    cursor = request.query_params.get("cursor", "")
    limit = request.query_params.get("limit", "")
    limit = limit if limit.isdigit() and 1 <= int(limit) <= MAX_PAGE_SIZE else str(PAGE_SIZE)
    path = f"/v1/members/ebls?view={view}&limit={limit}"
    if cursor:
        path += f"&cursor={quote(cursor, safe='')}"
    answer = await call_api(request, "GET", path)
    context: dict[str, Any] = {"view": view, "views": VIEWS, "items": [], "next_cursor": None, "limit": limit}
    if answer.status_code == 200:
        page = answer.json()
        context["items"], context["next_cursor"] = page["items"], page["nextCursor"]
        return render(request, "inbox.html", who, **context)
    return render(request, "inbox.html", who, answer.status_code, problem=problem_of(answer), **context)


def _choice(action: str, fields: dict[str, str]) -> dict[str, str]:
    """The action's parameters from a query or form: party, endorsement kind, surrender reason."""
    choice = {"party": fields.get("party", "").strip()} if action in NAMES_A_PARTY else {}
    if action == "endorse":
        mode = fields.get("mode", "to_order")
        choice["mode"] = mode if mode in ENDORSEMENTS else "to_order"
    if action == "surrender":
        reason = fields.get("reason", "")
        choice["reason"] = reason if reason in SURRENDERS else ""
    return choice


def _chosen(action: str, choice: dict[str, str]) -> bool:
    if action in NAMES_A_PARTY:
        return bool(choice["party"])
    if action == "surrender":
        return bool(choice["reason"])
    return True


def _body(action: str, choice: dict[str, str]) -> str | None:
    """The ``/v1/holders`` request body of the action."""
    if action == "transfer":
        return json.dumps({"to": choice["party"]})
    if action == "endorse":
        return json.dumps({"endorsee": choice["party"], "toOrder": choice["mode"] == "to_order"})
    if action == "surrender":
        reason = choice["reason"]
        if reason == "DELIVERY":
            return json.dumps({"reason": "DELIVERY"})
        return json.dumps({"reason": "AMENDMENT", "reasonCode": reason})
    return None


def label(org: dict[str, Any] | None) -> str:
    """An organisation in plain words: ``X Ltd (LEI ...)``, or its address when it has no profile."""
    if not org:
        return ""
    name = org.get("name") or org.get("address", "")
    ident = org.get("identifier") or ""
    if not ident:
        return str(name)
    return f"{name} ({lei(ident)})"


def says(action: str, choice: dict[str, str]) -> str:
    """The catalogue key of what the action does to title, in plain words."""
    if action == "endorse":
        return f"inbox_says_endorse_{choice['mode']}"
    if action == "surrender":
        return (
            "inbox_says_surrender_delivery"
            if choice["reason"] == "DELIVERY"
            else "inbox_says_surrender_amendment"
        )
    return "inbox_says_" + action.replace("-", "_")


async def _action_page(
    request: Request,
    who: Principal,
    ebl_id: str,
    action: str,
    choice: dict[str, str],
    status: int = 200,
    **extra: Any,
) -> Response:
    bill, problem, code = await _bill(request, ebl_id)
    context: dict[str, Any] = {"ebl_id": ebl_id, "action": action, "choice": choice, "bill": bill, **extra}
    if bill is None:
        return render(
            request, "inbox_action.html", who, status if status != 200 else code, problem=problem, **context
        )
    directory = await member_directory(request, who) if action in NAMES_A_PARTY else []
    party = next((o for o in directory if o["address"].lower() == choice.get("party", "").lower()), None)
    if action in NAMES_A_PARTY and choice.get("party") and party is None:
        party = {"address": choice["party"]}  # not in the directory: the API decides
    context |= {
        "directory": directory,
        "party": party,
        "confirming": _chosen(action, choice),
        "says": says(action, choice) if _chosen(action, choice) else "",
        "party_label": label(party),
        "carrier_label": label(bill.get("carrier")) or "",
        "reasons": SURRENDERS,
        "modes": ENDORSEMENTS,
    }
    return render(request, "inbox_action.html", who, status, **context)


@router.get("/ebls/{ebl_id}/{action}", response_class=HTMLResponse)
async def action_page(request: Request, who: session.SignedIn, ebl_id: str, action: str) -> Response:
    """Choose the action's parameters, then confirm it (GET: nothing is written)."""
    if action not in ACTIONS:
        return render(request, "inbox.html", who, 404, error="inbox_no_such_action", **_empty())
    return await _action_page(request, who, ebl_id, action, _choice(action, dict(request.query_params)))


def _empty() -> dict[str, Any]:
    return {"view": "held", "views": VIEWS, "items": [], "next_cursor": None, "limit": str(PAGE_SIZE)}


@router.post("/ebls/{ebl_id}/{action}", response_class=HTMLResponse)
async def act(request: Request, ebl_id: str, action: str) -> Response:
    """The confirmed action: ``POST /v1/holders/ebls/{id}/{action}?wait=false``, then its operation."""
    who = await session.principal(request)
    fields = await session.form(request)
    if who is None:  # signed out (or the session expired) before confirming: nothing is written
        return render(request, "inbox.html", None, 401, error="bad_credential", **_empty())
    if action not in ACTIONS:
        return render(request, "inbox.html", who, 404, error="inbox_no_such_action", **_empty())
    choice = _choice(action, fields)
    if not session.csrf_ok(request, fields):
        return render(request, "inbox.html", who, 403, error="csrf", **_empty())
    if not _chosen(action, choice):
        return await _action_page(request, who, ebl_id, action, choice, 422)
    path = f"/v1/holders/ebls/{_ebl_path(ebl_id)}/{action}?wait=false"
    answer = await call_api(request, "POST", path, _body(action, choice))
    if answer.status_code in (200, 202):
        operation = answer.json()["operationId"]
        return RedirectResponse(f"/web/inbox/operations/{quote(operation, safe='')}", status_code=303)
    return await _action_page(
        request, who, ebl_id, action, choice, answer.status_code, refused=problem_of(answer)
    )


async def _operation(request: Request, operation_id: str) -> tuple[dict[str, Any], int]:
    """The operation (``GET /v1/operations/{id}``) and, once final, the bill's title state after it."""
    answer = await call_api(request, "GET", f"/v1/operations/{quote(operation_id, safe='')}")
    context: dict[str, Any] = {"operation_id": operation_id}
    if answer.status_code != 200:
        return {**context, "problem": problem_of(answer)}, answer.status_code
    op = answer.json()
    context |= {"op": op, "done": op["status"] in OPERATION_DONE}
    if op["status"] == "final" and op.get("eblId"):
        context["bill"], _, _ = await _bill(request, str(op["eblId"]))
    return context, 200


@router.get("/operations/{operation_id}", response_class=HTMLResponse)
async def operation_page(request: Request, who: session.SignedIn, operation_id: str) -> Response:
    context, status = await _operation(request, operation_id)
    return render(request, "inbox_operation.html", who, status, **context)


@router.get("/operations/{operation_id}/status", response_class=HTMLResponse)
async def operation_status(request: Request, operation_id: str) -> Response:
    """The operation's fragment alone, which htmx polls every second until it is final or failed."""
    who = await session.principal(request)
    if who is None:
        return Response(status_code=401)
    context, status = await _operation(request, operation_id)
    return render(request, "inbox_operation_status.html", who, status, **context)
