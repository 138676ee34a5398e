"""The auditor's timeline and event search over HTTP against the real gateway, signed in through the
sign-in form: rows in chain order in DCSA words with legal names, filters and pagination, CSV and JSON
exports (compared with the API's own answers), formula-looking cells neutralised, refusal exactly as the
API refuses, and the live fragment picking up a new action."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.api.helpers import Stages, carrier_document, new_document, ok
from tests.web.conftest import signed_in

FORMULA = '=HYPERLINK("http://attacker.invalid","open")'
"""A legal name a spreadsheet would run as a formula if written to CSV as it is."""


@dataclass(frozen=True)
class Fresh:
    """An organisation onboarded for one test module, so its events are only the ones made here."""

    org: str
    token: str
    name: str


def _onboard(gateway: Any, governance_token: str, name: str) -> Fresh:
    body = {"identifier": f"LEI:TL-{uuid.uuid4().hex[:12].upper()}", "name": name, "role": "trader"}
    with gateway.client(governance_token) as gov:
        made = ok(gov.post("/v1/governance/organisations", json=body), 201)
    return Fresh(made["organisation"]["address"], made["credential"]["token"], name)


def _issue_to(stages: Stages, org: str) -> str:
    body = {"document": carrier_document(new_document("TL"), "carrier"), "issueTo": org}
    return str(stages.post("carrier", "/v1/carriers/ebls", body)["eblId"])


@pytest.fixture(scope="module")
def surrendered(stages: Stages, members: Any) -> str:
    """Issued to the shipper, endorsed to order and transferred to the bank, surrendered for delivery by
    the bank and accepted by the carrier."""
    ebl = stages.issued()
    bank = members["bank"].org
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/endorse", {"endorsee": bank})
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/transfer", {"to": bank})
    stages.post("bank", f"/v1/holders/ebls/{ebl}/surrender", {"reason": "DELIVERY"})
    stages.post("carrier", f"/v1/carriers/ebls/{ebl}/accept-surrender")
    return ebl


@pytest.fixture(scope="module")
def formula_org(gateway: Any, governance_token: str, stages: Stages, members: Any) -> tuple[Fresh, list[str]]:
    """An organisation whose legal name is :data:`FORMULA`, with two eBLs issued to it, the first
    transferred on to the consignee: three events (ISSUE, ISSUE, TRANSFER)."""
    fresh = _onboard(gateway, governance_token, FORMULA)
    ebls = [_issue_to(stages, fresh.org), _issue_to(stages, fresh.org)]
    with gateway.client(fresh.token) as c:
        ok(c.post(f"/v1/holders/ebls/{ebls[0]}/transfer", json={"to": members["consignee"].org}))
    return fresh, ebls


def _actions(html: str) -> list[str]:
    return re.findall(r'class="event[^"]*"[^>]*data-action="([A-Z_]+)"', html)


def _api(gateway: Any, token: str, path: str) -> httpx.Response:
    with gateway.client(token) as c:
        return c.get(path)


def _search(org: str, **extra: str) -> str:
    return urlencode({"org": org, "since": "2000-01-01T00:00", **extra})


def test_the_timeline_shows_every_action_in_order_in_dcsa_words(
    gateway: Any, members: Any, surrendered: str
) -> None:
    history = ok(_api(gateway, members["auditor"].token, f"/v1/auditors/ebls/{surrendered}/history"))
    with signed_in(gateway.url, members["auditor"].token) as web:
        page = web.get("/web/timeline", params={"ebl_id": surrendered})
    assert page.status_code == 200, page.text
    html = page.text
    assert _actions(html) == ["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER", "SURRENDER_FOR_DELIVERY", "SACC"]
    assert [e["action"] for e in history] == _actions(html)
    # DCSA Endorsement Chain wording: the carrier's acceptance is SURRENDERED
    assert re.findall(r'class="action-code">([A-Z_]+)<', html) == [
        "ISSUE",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "SURRENDER_FOR_DELIVERY",
        "SURRENDERED",
    ]
    transfer = html[html.index('id="event-2"') : html.index('id="event-3"')]
    assert (
        "Shipper Ltd" in transfer
        and "Bank Ltd" in transfer
        and "LEI:API-BANK" in transfer
        and "LEI LEI" not in transfer
    )
    for e in history:
        assert e["txHash"] in html and f'class="block">{e["blockNumber"]}<' in html


def test_the_timeline_polls_a_fragment_and_has_a_refresh_link_without_script(
    gateway: Any, members: Any, surrendered: str
) -> None:
    with signed_in(gateway.url, members["auditor"].token) as web:
        html = web.get("/web/timeline", params={"ebl_id": surrendered}).text
    assert 'hx-trigger="every 2s"' in html and f"/web/timeline/live?ebl_id={surrendered}&amp;seen=5" in html
    assert f'href="/web/timeline?ebl_id={surrendered}" id="refresh"' in html
    assert "<script>" not in html


def test_the_live_fragment_shows_a_new_event_after_a_new_action(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    with signed_in(gateway.url, members["auditor"].token) as web:
        live = {"ebl_id": ebl, "seen": "1"}
        unchanged = web.get("/web/timeline/live", params=live)
        assert unchanged.status_code == 204 and unchanged.content == b""
        stages.post("shipper", f"/v1/holders/ebls/{ebl}/transfer", {"to": members["consignee"].org})
        fresh = web.get("/web/timeline/live", params=live)
    assert fresh.status_code == 200
    assert fresh.text.lstrip().startswith('<section id="live"')  # a fragment, not a page
    assert _actions(fresh.text) == ["ISSUE", "TRANSFER"]
    assert "Consignee Ltd" in fresh.text and "seen=2" in fresh.text


def test_the_search_is_filtered_by_organisation_action_and_time(
    gateway: Any, members: Any, formula_org: tuple[Fresh, list[str]]
) -> None:
    fresh, ebls = formula_org
    with signed_in(gateway.url, members["auditor"].token) as web:
        everything = web.get(f"/web/events?{_search(fresh.org)}")
        transfers = web.get(f"/web/events?{_search(fresh.org, action='TRANSFER')}")
        later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        future = web.get(f"/web/events?{_search(fresh.org, since=later, until=later[:4] + '9' + later[5:])}")
        past = web.get(f"/web/events?{_search(fresh.org, until='2001-01-01T00:00')}")
    assert everything.status_code == 200, everything.text
    assert _actions(everything.text) == ["ISSUE", "ISSUE", "TRANSFER"]
    assert _actions(transfers.text) == ["TRANSFER"] and ebls[0] in transfers.text
    assert _actions(future.text) == [] and _actions(past.text) == []


def test_the_search_is_paginated_through_the_apis_cursor(
    gateway: Any, members: Any, formula_org: tuple[Fresh, list[str]]
) -> None:
    fresh, _ = formula_org
    with signed_in(gateway.url, members["auditor"].token) as web:
        first = web.get(f"/web/events?{_search(fresh.org, limit='2')}").text
        assert _actions(first) == ["ISSUE", "ISSUE"]
        found = re.search(r'href="([^"]+)" id="next-page"', first)
        assert found, "no next-page link"
        second = web.get(found.group(1).replace("&amp;", "&")).text
    assert _actions(second) == ["TRANSFER"]
    assert 'id="next-page"' not in second and 'id="first-page"' in second


def test_the_timeline_csv_parses_and_has_every_row(gateway: Any, members: Any, surrendered: str) -> None:
    history = ok(_api(gateway, members["auditor"].token, f"/v1/auditors/ebls/{surrendered}/history"))
    with signed_in(gateway.url, members["auditor"].token) as web:
        r = web.get("/web/timeline/export", params={"ebl_id": surrendered, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="timeline-{surrendered}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["seq"], row["action"], row["tx_hash"]) for row in rows] == [
        (str(e["seq"]), e["action"], e["txHash"]) for e in history
    ]
    assert rows[-1]["dcsa_action"] == "SURRENDERED"
    assert (rows[2]["actor_name"], rows[2]["counterparty_name"]) == ("Shipper Ltd", "Bank Ltd")


def test_a_formula_looking_cell_is_neutralised_in_every_csv(
    gateway: Any, members: Any, formula_org: tuple[Fresh, list[str]]
) -> None:
    fresh, ebls = formula_org
    with signed_in(gateway.url, members["auditor"].token) as web:
        timeline = web.get("/web/timeline/export", params={"ebl_id": ebls[0], "format": "csv"})
        search = web.get(f"/web/events/export?{_search(fresh.org, format='csv')}")
        page = web.get("/web/timeline", params={"ebl_id": ebls[0]})
    issue, transfer = list(csv.DictReader(io.StringIO(timeline.text)))
    assert issue["counterparty_name"] == "'" + FORMULA
    assert transfer["actor_name"] == "'" + FORMULA
    found = list(csv.DictReader(io.StringIO(search.text)))
    assert len(found) == 3 and all("'" + FORMULA in (r["actor_name"], r["counterparty_name"]) for r in found)
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in found for cell in r.values())
    assert "=HYPERLINK(&#34;http://attacker.invalid&#34;" in page.text  # the page shows the name as text


def test_the_json_exports_are_the_apis_answers(
    gateway: Any, members: Any, surrendered: str, formula_org: tuple[Fresh, list[str]]
) -> None:
    auditor = members["auditor"].token
    fresh, _ = formula_org
    history = ok(_api(gateway, auditor, f"/v1/auditors/ebls/{surrendered}/history"))
    until = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00Z")
    query = urlencode({"org": fresh.org, "since": "2000-01-01T00:00:00Z", "until": until})
    events = ok(_api(gateway, auditor, f"/v1/auditors/events?{query}"))
    with signed_in(gateway.url, auditor) as web:
        timeline = web.get("/web/timeline/export", params={"ebl_id": surrendered, "format": "json"})
        search = web.get(f"/web/events/export?{_search(fresh.org, format='json')}")
    assert timeline.headers["content-disposition"].startswith("attachment;")
    assert json.loads(timeline.text) == history
    assert events["nextCursor"] is None and json.loads(search.text) == events["events"]


def test_a_search_too_large_for_one_file_is_refused_not_cut_short(
    gateway: Any, members: Any, formula_org: tuple[Fresh, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export pages through the API at most EXPORT_PAGES times: a search with more events than that
    says so (422, and how to narrow it) instead of handing over a file that passes for the whole search."""
    from api.web import timeline

    fresh, _ = formula_org  # three events
    monkeypatch.setattr(timeline, "EXPORT_PAGES", 1)
    monkeypatch.setattr(timeline, "EXPORT_PAGE_SIZE", 2)
    with signed_in(gateway.url, members["auditor"].token) as web:
        refused = web.get(f"/web/events/export?{_search(fresh.org, format='csv')}")
        monkeypatch.setattr(timeline, "EXPORT_PAGE_SIZE", 3)
        whole = web.get(f"/web/events/export?{_search(fresh.org, format='csv')}")
    assert refused.status_code == 422
    assert "more than 2 events" in refused.text and "Narrow it" in refused.text
    assert "content-disposition" not in refused.headers
    assert whole.status_code == 200 and len(list(csv.DictReader(io.StringIO(whole.text)))) == 3


EVENTS_API = "/v1/auditors/events?org={org}&since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "web_path, api_path",
    [
        ("/web/timeline?ebl_id={ebl}", "/v1/auditors/ebls/{ebl}/history"),
        ("/web/timeline/export?ebl_id={ebl}&format=csv", "/v1/auditors/ebls/{ebl}/history?format=csv"),
        ("/web/events?org={org}", EVENTS_API),
        ("/web/events/export?org={org}&format=json", EVENTS_API),
    ],
)
def test_a_member_who_is_not_an_auditor_is_refused_as_the_api_refuses(
    gateway: Any, members: Any, surrendered: str, web_path: str, api_path: str
) -> None:
    bank = members["bank"]
    fill = {"ebl": surrendered, "org": bank.org}
    refused = _api(gateway, bank.token, api_path.format(**fill))
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    with signed_in(gateway.url, bank.token) as web:
        r = web.get(web_path.format(**fill))
    assert r.status_code == refused.status_code
    assert 'id="verdict"' in r.text and detail in r.text.replace("&#39;", "'")
    assert "content-disposition" not in r.headers


def test_bad_filters_get_the_apis_clear_refusal(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["auditor"].token) as web:
        bad_org = web.get("/web/events", params={"org": "not-an-address"})
        bad_action = web.get(f"/web/events?{_search(members['shipper'].org, action='SAIL')}")
        bad_time = web.get(f"/web/events?{_search(members['shipper'].org, until='yesterday')}")
        bad_format = web.get("/web/timeline/export", params={"ebl_id": "1", "format": "xlsx"})
    for r in (bad_org, bad_action, bad_time):
        assert r.status_code == 422 and 'id="problem"' in r.text, r.text
    assert "unknown action code" in bad_action.text
    assert bad_format.status_code == 422 and "content-disposition" not in bad_format.headers


def test_an_unknown_or_malformed_ebl_id_is_answered_as_the_api_answers(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["auditor"].token) as web:
        unknown = web.get("/web/timeline", params={"ebl_id": "1"})
        malformed = web.get("/web/timeline", params={"ebl_id": "abc"})
    assert unknown.status_code == 404 and 'id="verdict">NO SUCH eBL<' in unknown.text
    assert "eBL 1 not found" in unknown.text
    assert malformed.status_code == 422 and "String should match pattern" in malformed.text


def test_the_pages_need_a_session(gateway: Any) -> None:
    for path in ("/web/timeline", "/web/events", "/web/timeline/export?ebl_id=1"):
        r = httpx.get(gateway.url + path)
        assert r.status_code == 303 and r.headers["location"] == "/web/sign-in", path
    assert httpx.get(gateway.url + "/web/timeline/live?ebl_id=1&seen=0").status_code == 401


def test_the_timeline_speaks_chinese(gateway: Any, members: Any, surrendered: str) -> None:
    with signed_in(gateway.url, members["auditor"].token) as web:
        html = web.get("/web/timeline", params={"ebl_id": surrendered, "lang": "zh-Hans"}).text
    assert '<html lang="zh-Hans">' in html and "时间线" in html and "承运人接受交单" in html
