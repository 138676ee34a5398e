"""The carrier desk over HTTP against the real gateway: issue one document and follow it to final,
issue several (good ones issued, each bad one shown with the API's own problem), the surrender queue's
accept and reject, amend, void and switch to paper, each reaching the chain (checked through /v1), CSRF
refused, and a non-carrier refused as the API refuses it."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

import httpx

from api.web.desk import ACTIONS, CODES, QUEUE_ACTIONS
from registry.chain.build import project_root
from tests.api.helpers import Stages, carrier_document, new_document, ok
from tests.web.conftest import XSS, csrf_of, signed_in

OPERATION = re.compile(r"^/web/desk/operations/([0-9A-Za-z_-]+)$")


def _state(stages: Stages, ebl: str) -> dict[str, Any]:
    """The eBL's title state as the API answers a bank."""
    return dict(ok(stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification")))


def _follow(web: httpx.Client, response: httpx.Response) -> str:
    """The operation page a desk write sends the browser to, reloaded (as its Refresh link or htmx does)
    until the operation is final or failed; its last HTML."""
    assert response.status_code == 303, response.text[:800]
    location = response.headers["location"]
    assert OPERATION.match(location), location
    for _ in range(200):  # bounded: the relayer makes an operation final within a few blocks
        page = web.get(location)
        assert page.status_code == 200, page.text[:800]
        if 'id="op-status" class="status">final<' in page.text:
            assert 'hx-trigger="every 1s"' not in page.text  # stops polling once done
            assert 'id="verdict">FINAL<' in page.text
            return page.text
        assert 'class="status">failed<' not in page.text, page.text
        assert 'hx-trigger="every 1s"' in page.text and 'id="refresh"' in page.text
    raise AssertionError(f"{location} never became final")


def _shown(page: str, element: str) -> str:
    found = re.search(rf'id="{element}"[^>]*>([^<]*)<', page)
    assert found, f"no #{element} in the page"
    return html.unescape(found.group(1))


def test_the_desk_issues_one_document_to_a_member_chosen_from_the_directory(
    gateway: Any, members: Any, stages: Stages
) -> None:
    shipper = members["shipper"]
    document = carrier_document(new_document("D1"), "carrier")
    with signed_in(gateway.url, members["carrier"].token) as web:
        desk = web.get("/web/desk").text
        assert '<a href="/web/desk">Carrier desk</a>' in desk
        assert '<div class="card js-only" id="many" hidden>' in desk  # many files at once needs JS
        assert f'<option value="{shipper.org}">Shipper Ltd (LEI LEI:API-SHIPPER) · trader</option>' in desk
        assert f'value="{members["carrier"].org}"' not in desk  # not oneself
        fields = {"csrf": csrf_of(desk), "issue_to": shipper.org, "document": json.dumps(document)}
        page = _follow(web, web.post("/web/desk/issue", data=fields))
    assert _shown(page, "op-action") == "ISSUE"
    ebl = _shown(page, "op-ebl")
    state = _state(stages, ebl)
    assert state["status"] == "ACTIVE" and state["holder"]["address"] == shipper.org


def test_many_files_each_get_their_row_good_ones_issued_bad_ones_with_the_apis_problem(
    gateway: Any, members: Any, stages: Stages
) -> None:
    good = [carrier_document(new_document(f"M{i}"), "carrier") for i in range(2)]
    refused = carrier_document(new_document("MX"), "other_carrier")  # names another carrier
    with gateway.client(members["carrier"].token) as api:  # what the API itself answers that document
        problem = api.post("/v1/carriers/ebls", json={"document": refused, "issueTo": members["shipper"].org})
    assert problem.status_code >= 400
    words = f"{problem.json()['title']}: {problem.json()['detail']}"
    files = [("a.json", json.dumps(good[0])), ("b.json", json.dumps(refused)), ("c.json", "{not json")]
    files.append(("d.json", json.dumps(good[1], indent=2)))
    files.append(("e.json", json.dumps(good[0])))  # a.json again: the chain refuses a second issuance
    with signed_in(gateway.url, members["carrier"].token) as web:
        csrf = csrf_of(web.get("/web/desk").text)
        rows = {}
        for name, text in files:
            r = web.post(
                "/web/desk/issue",
                data={"csrf": csrf, "issue_to": members["shipper"].org, "document": text, "row": name},
            )
            assert r.text.lstrip().startswith("<tr"), r.text[:300]
            rows[name] = (r.status_code, r.text)
    for name in ("a.json", "d.json"):
        status, row = rows[name]
        assert status == 201 and "Issued" in row, row
        ebl = re.search(r'class="row-ebl">(\d+)<', row)
        assert ebl, row
        assert _state(stages, ebl.group(1))["status"] == "ACTIVE"
    status, row = rows["b.json"]
    assert status == problem.status_code and words in html.unescape(row), row
    assert 'class="row-ebl"' not in row
    status, row = rows["c.json"]
    assert status == 422 and "The document is not JSON" in row
    status, row = rows["e.json"]
    assert status == 409 and 'class="row-problem"' in row and 'class="row-ebl"' not in row, row


def test_the_surrender_queue_accepts_and_rejects_on_chain(gateway: Any, members: Any, stages: Stages) -> None:
    accepted, rejected = stages.surrender_requested(), stages.surrender_requested()
    with signed_in(gateway.url, members["carrier"].token) as web:
        desk = web.get("/web/desk").text
        for ebl in (accepted, rejected):
            assert f'id="q-{ebl}"' in desk
            assert f'href="/web/desk/ebls/{ebl}/accept-surrender"' in desk
            assert f'href="/web/desk/ebls/{ebl}/reject-surrender"' in desk
        confirm = web.get(f"/web/desk/ebls/{accepted}/accept-surrender").text
        assert "the eBL ends: its title is spent" in _shown(confirm, "consequence")
        assert _shown(confirm, "status") == "SURRENDER_REQUESTED" and "Shipper Ltd" in confirm
        page = _follow(
            web, web.post(f"/web/desk/ebls/{accepted}/accept-surrender", data={"csrf": csrf_of(confirm)})
        )
        assert _shown(page, "op-action") == "SACC"
        confirm = web.get(f"/web/desk/ebls/{rejected}/reject-surrender").text
        assert "holds title again" in _shown(confirm, "consequence")
        page = _follow(
            web, web.post(f"/web/desk/ebls/{rejected}/reject-surrender", data={"csrf": csrf_of(confirm)})
        )
        assert _shown(page, "op-action") == "SREJ"
        desk = web.get("/web/desk").text
        assert f'id="q-{accepted}"' not in desk and f'id="q-{rejected}"' not in desk
    assert _state(stages, accepted)["status"] == "SURRENDERED"
    back = _state(stages, rejected)
    assert back["status"] == "ACTIVE" and back["holder"]["address"] == members["shipper"].org


def test_amend_void_and_switch_to_paper_each_behind_a_confirmation(
    gateway: Any, members: Any, stages: Stages
) -> None:
    to_amend, to_void, to_paper = (
        stages.surrendered_for_amendment(),
        stages.surrendered_for_amendment(),
        stages.for_paper(),
    )
    amended = carrier_document(new_document("AM"), "carrier")
    with signed_in(gateway.url, members["carrier"].token) as web:
        desk = web.get("/web/desk").text
        for ebl in (to_amend, to_void, to_paper):
            for action in ("amend", "void", "switch-to-paper"):
                assert f'href="/web/desk/ebls/{ebl}/{action}"' in desk
        confirm = web.get(f"/web/desk/ebls/{to_amend}/amend").text
        assert "issued as a new eBL in its place" in _shown(confirm, "consequence")
        fields = {"csrf": csrf_of(confirm), "document": json.dumps(amended)}
        page = _follow(web, web.post(f"/web/desk/ebls/{to_amend}/amend", data=fields))
        assert _shown(page, "op-action") == "AMEND"
        successor = _shown(page, "op-successor")

        confirm = web.get(f"/web/desk/ebls/{to_void}/void").text
        assert "nothing replaces it" in _shown(confirm, "consequence")
        page = _follow(web, web.post(f"/web/desk/ebls/{to_void}/void", data={"csrf": csrf_of(confirm)}))
        assert _shown(page, "op-action") == "VOID"

        confirm = web.get(f"/web/desk/ebls/{to_paper}/switch-to-paper").text
        assert "Title then travels with the paper" in _shown(confirm, "consequence")
        fields = {"csrf": csrf_of(confirm), "paper": "0x" + "ab" * 32}
        page = _follow(web, web.post(f"/web/desk/ebls/{to_paper}/switch-to-paper", data=fields))
        assert _shown(page, "op-action") == "SWTP"
    old = _state(stages, to_amend)
    assert old["status"] == "VOIDED" and str(old["successor"]) == successor
    assert _state(stages, successor)["status"] == "ACTIVE"
    assert _state(stages, to_void)["status"] == "VOIDED"
    assert _state(stages, to_paper)["status"] == "SWITCHED_TO_PAPER"


def test_a_desk_write_the_api_refuses_shows_its_problem(gateway: Any, members: Any, stages: Stages) -> None:
    ebl = stages.issued()  # ACTIVE: nothing to void
    with gateway.client(members["carrier"].token) as api:
        refused = api.post(f"/v1/carriers/ebls/{ebl}/void")
    assert refused.status_code >= 400
    with signed_in(gateway.url, members["carrier"].token) as web:
        csrf = csrf_of(web.get(f"/web/desk/ebls/{ebl}/void").text)
        r = web.post(f"/web/desk/ebls/{ebl}/void", data={"csrf": csrf})
    assert r.status_code == refused.status_code
    assert _shown(r.text, "problem") == f"{refused.json()['title']}: {refused.json()['detail']}"
    assert _state(stages, ebl)["status"] == "ACTIVE"


def test_desk_forms_without_the_csrf_token_are_refused(gateway: Any, members: Any, stages: Stages) -> None:
    document = carrier_document(new_document("CS"), "carrier")
    waiting = stages.surrender_requested()
    with signed_in(gateway.url, members["carrier"].token) as web:
        csrf = csrf_of(web.get("/web/desk").text)
        fields = {"issue_to": members["shipper"].org, "document": json.dumps(document)}
        assert web.post("/web/desk/issue", data=fields).status_code == 403
        assert web.post("/web/desk/issue", data={**fields, "csrf": "0" * 64}).status_code == 403
        assert web.post("/web/desk/issue", data={**fields, "row": "x.json"}).status_code == 403
        other = {"Origin": "https://evil.example"}
        r = web.post("/web/desk/issue", data={**fields, "csrf": csrf}, headers=other)
        assert r.status_code == 403
        assert web.post(f"/web/desk/ebls/{waiting}/accept-surrender", data={}).status_code == 403
    with gateway.client(members["bank"].token) as bank:  # nothing was issued
        assert bank.post("/v1/banks/verifications", json=document).status_code == 404
    assert _state(stages, waiting)["status"] == "SURRENDER_REQUESTED"


def test_a_non_carrier_is_refused_as_the_api_refuses_it(gateway: Any, members: Any) -> None:
    document = carrier_document(new_document("NC"), "carrier")
    body = {"document": document, "issueTo": members["shipper"].org}
    with gateway.client(members["bank"].token) as api:
        refused = api.post("/v1/carriers/ebls", json=body)
    assert refused.status_code == 403
    with signed_in(gateway.url, members["bank"].token) as web:
        desk = web.get("/web/desk")
        assert desk.status_code == 403 and 'id="issue-form"' not in desk.text
        assert 'href="/web/desk"' not in web.get("/web/verify").text  # no nav link to it either
        csrf = csrf_of(web.get("/web/verify").text)
        fields = {"csrf": csrf, "issue_to": members["shipper"].org, "document": json.dumps(document)}
        r = web.post("/web/desk/issue", data=fields)
        assert r.status_code == 403
        assert _shown(r.text, "problem") == f"{refused.json()['title']}: {refused.json()['detail']}"
        r = web.post("/web/desk/issue", data={**fields, "row": "a.json"})
        assert r.status_code == 403 and refused.json()["detail"] in html.unescape(r.text)


def test_desk_fields_are_rendered_as_text(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["carrier"].token) as web:
        csrf = csrf_of(web.get("/web/desk").text)
        r = web.post("/web/desk/issue", data={"csrf": csrf, "issue_to": "", "document": XSS, "row": XSS})
        assert "<script>window.__xss" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in r.text
        r = web.post("/web/desk/issue", data={"csrf": csrf, "issue_to": "", "document": XSS})
        assert r.status_code == 422 and "<script>window.__xss" not in r.text
        assert "&lt;/textarea&gt;&lt;script&gt;" in r.text
        markup = '"><img src=x onerror="window.__xss=2">'
        r = web.get(f"/web/desk/ebls/{quote(markup, safe='')}/void")
        assert r.status_code == 422 and 'id="confirm-form"' not in r.text  # the API's answer to that id
        assert "<img src=x" not in r.text and "&lt;img src=x" in r.text


def test_every_desk_string_is_in_both_languages() -> None:
    """Each string the desk's templates and module name (``t.desk…``, ``"desk_…"``, and the per-action
    ``"desk_do_" ~ action`` families) is in en and zh-Hans alike, and no catalogue entry is unused."""
    folder = project_root() / "api" / "web"
    en, zh = (
        json.loads((folder / "catalogues" / f"{lang}.desk.json").read_text("utf-8"))
        for lang in ("en", "zh-Hans")
    )
    assert en.keys() == zh.keys() and all(zh.values())
    sources = [p.read_text("utf-8") for p in (folder / "templates").glob("desk*.html")]
    sources.append((folder / "desk.py").read_text("utf-8"))
    used: set[str] = set()
    for text in sources:
        used |= set(re.findall(r"\bt\.(desk\w*)", text)) | set(re.findall(r'"(desk_\w+)"', text))
    families = {
        "desk_do_": ACTIONS,
        "desk_means_": ACTIONS,
        "desk_awaiting_": tuple(QUEUE_ACTIONS),
        "desk_code_": CODES,
    }
    for prefix, suffixes in families.items():
        assert prefix in used
        used |= {prefix + s for s in suffixes}
    used -= families.keys()
    assert used <= en.keys(), sorted(used - en.keys())
    assert en.keys() <= used, sorted(en.keys() - used)


def test_another_carriers_bill_is_not_offered_for_action(gateway: Any, members: Any, stages: Stages) -> None:
    ebl = stages.surrendered_for_amendment()
    with gateway.client(members["other_carrier"].token) as api:
        unseen = api.get(f"/v1/banks/ebls/{ebl}/verification")
        refused = api.post(f"/v1/carriers/ebls/{ebl}/void")
    with signed_in(gateway.url, members["other_carrier"].token) as web:
        desk = web.get("/web/desk").text
        assert f'id="q-{ebl}"' not in desk
        r = web.get(f"/web/desk/ebls/{ebl}/void")
        assert r.status_code == unseen.status_code == 404 and 'id="confirm-form"' not in r.text
        r = web.post(f"/web/desk/ebls/{ebl}/void", data={"csrf": csrf_of(desk)})
        assert r.status_code == refused.status_code
        assert _shown(r.text, "problem") == f"{refused.json()['title']}: {refused.json()['detail']}"
    assert _state(stages, ebl)["status"] == "SURRENDERED_FOR_AMENDMENT"


def test_a_form_posted_twice_acts_once(gateway: Any, members: Any, stages: Stages) -> None:
    """Each rendered form carries its own idempotency key: posting it again (a double click, a resent
    page) answers the same operation instead of a second issuance failing on chain."""
    document = carrier_document(new_document("TW"), "carrier")
    with signed_in(gateway.url, members["carrier"].token) as web:
        desk = web.get("/web/desk").text
        key = re.search(r'name="key" value="([0-9a-f]{32})"', desk)
        assert key and key.group(1) not in web.get("/web/desk").text  # a fresh key per form
        fields = {"csrf": csrf_of(desk), "key": key.group(1), "issue_to": members["shipper"].org}
        fields["document"] = json.dumps(document)
        first, second = (web.post("/web/desk/issue", data=fields) for _ in range(2))
        assert first.headers["location"] == second.headers["location"]
        page = _follow(web, second)
    assert _state(stages, _shown(page, "op-ebl"))["status"] == "ACTIVE"


def test_the_desk_has_no_inline_script_carries_the_headers_and_stays_light(
    gateway: Any, members: Any
) -> None:
    with signed_in(gateway.url, members["carrier"].token) as web:
        r = web.get("/web/desk")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert "<script>" not in r.text and " on" + "click=" not in r.text
        scripts = re.findall(r'<script src="([^"]+)"', r.text)
        assert "/web/static/desk.js" in scripts
        weight = len(r.content) + len(web.get("/web/static/web.css").content)
        weight += sum(len(web.get(src).content) for src in scripts)
        assert weight < 300 * 1024


def test_a_bill_endorsed_in_blank_shows_in_the_queue_and_its_confirmation(
    gateway: Any, members: Any, stages: Stages
) -> None:
    """No endorsee (endorsed in blank): the queue and the confirmation say so rather than failing."""
    ebl = stages.issued()
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/endorse-in-blank")
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/surrender", {"reason": "DELIVERY"})
    assert _state(stages, ebl)["endorsee"] is None
    with signed_in(gateway.url, members["carrier"].token) as web:
        desk = web.get("/web/desk")
        assert desk.status_code == 200 and f'id="q-{ebl}"' in desk.text
        confirm = web.get(f"/web/desk/ebls/{ebl}/reject-surrender")
        assert confirm.status_code == 200 and _shown(confirm.text, "endorsee") == "none"
