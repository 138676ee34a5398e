"""The auditor's pages: one eBL's chain of custody as a live timeline (``/web/timeline``), the event
search (``/web/events``), and their CSV and JSON exports.

Every row comes from the auditors' routes, called in-process with the session's credential
(``GET /v1/auditors/ebls/{id}/history`` and ``GET /v1/auditors/events``), so a caller who is not an
auditor is refused here exactly as the API refuses them (same status, same problem). Actions are shown
in the words of DCSA's Endorsement Chain 3.0.3 (``ISSUE``, ``TRANSFER``, ``SURRENDERED`` ...; the API's
own code where the standard has no word), with the actor's and counterparty's legal names and LEIs.

Live: the timeline's list polls ``/web/timeline/live`` every 2 s through htmx, which answers 204 (htmx
leaves the page alone) until the chain has a new event; without JavaScript the page has a Refresh link.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Credentials, Principal
from api.web import session
from api.web.exports import csv_response, json_response, safe_name
from api.web.rendering import call_api, problem_of, render
from registry.dcsa.chains import ACTION_CODES
from registry.records import EventOut, EventPageOut
from registry.types import Action

router = APIRouter(prefix="/web", include_in_schema=False)

ACTIONS = tuple(a.dcsa_code for a in Action)
"""The API's action codes, the search's choices."""

COLUMNS = (
    "ebl_id",
    "seq",
    "action",
    "dcsa_action",
    "actor",
    "actor_name",
    "actor_lei",
    "counterparty",
    "counterparty_name",
    "counterparty_lei",
    "block_number",
    "block_time",
    "tx_hash",
    "log_index",
    "platform",
)
"""The CSV export's columns, a timeline row each."""

Format = Annotated[str, Query(pattern="^(csv|json)$")]
PAGE_SIZE = 50
EXPORT_PAGES = 100
EXPORT_PAGE_SIZE = 1000
"""A search export follows the API's cursor for at most this many pages of 1000 events."""

_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def dcsa_words(action: str) -> str:
    """The Endorsement Chain 3.0.3 ``actionCode`` of an API action code, else the API's code."""
    return ACTION_CODES.get(action, action)


async def _rows(request: Request, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's events (its JSON, read back as :class:`EventOut`) with the DCSA wording and both
    parties' legal names and LEIs."""
    read = [EventOut.read(e) for e in events]
    store: Credentials = request.app.state.credentials
    addresses = {a for e in read for a in (e.actor, e.counterparty) if a}
    profiles = await run_in_threadpool(store.profiles, addresses) if addresses else {}
    rows = []
    for e in read:
        row: dict[str, Any] = e.model_dump()
        row["block_time"] = e.block_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        row["dcsa_action"] = dcsa_words(e.action)
        for side, address in (("actor", e.actor), ("counterparty", e.counterparty)):
            profile = profiles.get(address or "")
            row[f"{side}_name"] = profile.name if profile is not None else None
            row[f"{side}_lei"] = profile.identifier if profile is not None else None
        rows.append(row)
    return rows


def _refused(request: Request, who: Principal, answer: httpx.Response, name: str, **context: Any) -> Response:
    """The page with the API's refusal (NO SUCH eBL for its 404), under the API's status."""
    status = answer.status_code
    return render(request, name, who, status, problem=problem_of(answer), no_such=status == 404, **context)


def _history_path(ebl_id: str) -> str:
    return f"/v1/auditors/ebls/{quote(ebl_id, safe='')}/history"


async def _history(request: Request, ebl_id: str) -> tuple[httpx.Response, list[dict[str, Any]]]:
    answer = await call_api(request, "GET", _history_path(ebl_id))
    return answer, (answer.json() if answer.status_code == 200 else [])


@router.get("/timeline", response_class=HTMLResponse)
async def timeline_page(request: Request, who: session.SignedIn, ebl_id: str = "") -> Response:
    ebl_id = ebl_id.strip()
    if not ebl_id:
        return render(request, "timeline.html", who, ebl_id="")
    answer, events = await _history(request, ebl_id)
    if answer.status_code != 200:
        return _refused(request, who, answer, "timeline.html", ebl_id=ebl_id)
    return render(request, "timeline.html", who, ebl_id=ebl_id, rows=await _rows(request, events))


@router.get("/timeline/live", response_class=HTMLResponse)
async def timeline_live(request: Request, ebl_id: str = "", seen: int = -1) -> Response:
    """The timeline's list again when it has more than ``seen`` events; 204 (nothing to swap) else."""
    who = await session.principal(request)
    if who is None:
        return Response(status_code=401)
    answer, events = await _history(request, ebl_id.strip())
    if answer.status_code != 200:
        return Response(status_code=answer.status_code)
    if len(events) == seen:
        return Response(status_code=204)
    rows = await _rows(request, events)
    return render(request, "timeline_live.html", who, ebl_id=ebl_id.strip(), rows=rows)


def _export(rows: list[dict[str, Any]], raw: Any, format: str, stem: str) -> Response:
    if format == "json":
        return json_response(raw, f"{stem}.json")
    return csv_response(COLUMNS, rows, f"{stem}.csv")


@router.get("/timeline/export")
async def timeline_export(
    request: Request, who: session.SignedIn, ebl_id: str = "", format: Format = "csv"
) -> Response:
    """The timeline as CSV (the page's columns) or JSON (the API's answer, unchanged)."""
    ebl_id = ebl_id.strip()
    answer, events = await _history(request, ebl_id)
    if answer.status_code != 200:
        return _refused(request, who, answer, "timeline.html", ebl_id=ebl_id)
    stem = f"timeline-{safe_name(ebl_id, 'ebl')}"
    return _export(await _rows(request, events), events, format, stem)


def _api_time(value: str) -> str:
    """A ``datetime-local`` value (UTC, as the form says) as the API's ISO 8601 with a zone."""
    value = value.strip()
    if _MINUTE.match(value):
        value += ":00"
    return value + "Z" if _NAIVE.match(value) else value


def _filters(request: Request) -> dict[str, str]:
    """The search's filters from the query string, the time range defaulting to everything until
    tomorrow (minutes, UTC, as ``datetime-local`` shows them)."""
    q = request.query_params
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    limit = q.get("limit", "").strip()
    return {
        "org": q.get("org", "").strip(),
        "action": q.get("action", "").strip().upper(),
        "since": q.get("since", "").strip() or "2000-01-01T00:00",
        "until": q.get("until", "").strip() or tomorrow,
        "limit": limit if limit.isdigit() else str(PAGE_SIZE),
    }


def _events_path(filters: dict[str, str], cursor: str | None, limit: str | None = None) -> str:
    params = {
        "org": filters["org"],
        "since": _api_time(filters["since"]),
        "until": _api_time(filters["until"]),
        "limit": limit or filters["limit"],
    }
    if filters["action"]:
        params["action"] = filters["action"]
    if cursor:
        params["cursor"] = cursor
    return "/v1/auditors/events?" + urlencode(params)


def _page_link(filters: dict[str, str], cursor: str) -> str:
    return "/web/events?" + urlencode({**{k: v for k, v in filters.items() if v}, "cursor": cursor})


@router.get("/events", response_class=HTMLResponse)
async def events_page(request: Request, who: session.SignedIn, cursor: str = "") -> Response:
    filters = _filters(request)
    context: dict[str, Any] = {"f": filters, "actions": ACTIONS, "searched": bool(filters["org"])}
    if not filters["org"]:
        return render(request, "events.html", who, **context)
    answer = await call_api(request, "GET", _events_path(filters, cursor or None))
    if answer.status_code != 200:
        return _refused(request, who, answer, "events.html", **context)
    page = EventPageOut.read(answer.json())
    context["rows"] = await _rows(request, answer.json()["events"])
    context["next"] = _page_link(filters, page.next_cursor) if page.next_cursor else None
    context["exports"] = urlencode({k: v for k, v in filters.items() if v and k != "limit"})
    context["first"] = "/web/events?" + urlencode({k: v for k, v in filters.items() if v}) if cursor else None
    return render(request, "events.html", who, **context)


async def _all_events(request: Request, filters: dict[str, str]) -> tuple[httpx.Response, list[Any] | None]:
    """Every event of the search, page after page through the API's cursor, or the first refusal; None
    when the search has more than :data:`EXPORT_PAGES` pages (the file would be cut short: narrow it)."""
    events: list[Any] = []
    cursor: str | None = None
    for _ in range(EXPORT_PAGES):
        answer = await call_api(request, "GET", _events_path(filters, cursor, limit=str(EXPORT_PAGE_SIZE)))
        if answer.status_code != 200:
            return answer, []
        page = answer.json()
        events.extend(page["events"])
        cursor = EventPageOut.read(page).next_cursor
        if not cursor:
            return answer, events
    return answer, None


@router.get("/events/export")
async def events_export(request: Request, who: session.SignedIn, format: Format = "csv") -> Response:
    """The whole search (every page) as CSV (the page's columns) or JSON (the API's events)."""
    filters = _filters(request)
    context: dict[str, Any] = {"f": filters, "actions": ACTIONS, "searched": True}
    answer, events = await _all_events(request, filters)
    if answer.status_code != 200:
        return _refused(request, who, answer, "events.html", **context)
    if events is None:  # a partial file would pass for the whole search: refuse, and say how to narrow it
        limit = EXPORT_PAGES * EXPORT_PAGE_SIZE
        return render(request, "events.html", who, 422, too_large=f"{limit:,}", **context)
    stem = f"events-{safe_name(filters['org'], 'org')}"
    return _export(await _rows(request, events), events, format, stem)
