"""Screenshots of every page in both languages, taken in Debian's Chromium and saved under
``build/screenshots/`` (not committed; a few copies live in ``docs/screenshots/``): the sign-in page,
the verify page with a MATCHES answer and with a DOES NOT MATCH answer, the auditor's timeline and event
search, and the inbox (held, waiting, former, a transfer chosen, confirmed and final), each in en and
zh-Hans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry.chain.build import project_root
from tests.api.helpers import carrier_document, new_document, ok
from tests.web.conftest import NEEDS_BROWSER, sign_in_page

pytestmark = NEEDS_BROWSER

SCREENSHOTS = project_root() / "build" / "screenshots"
CATALOGUES = project_root() / "api" / "web" / "catalogues"
PNG = b"\x89PNG\r\n\x1a\n"


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(PNG), path
    return path


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_page_is_screenshotted_in_both_languages(
    browser: Any, gateway: Any, members: Any, lang: str
) -> None:
    words = json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8"))
    document = carrier_document(new_document("S"), "carrier")
    with gateway.client(members["carrier"].token) as c:
        body = {"document": document, "issueTo": members["shipper"].org}
        ebl = str(ok(c.post("/v1/carriers/ebls", json=body), 201)["eblId"])
    context = browser.new_context(base_url=gateway.url, viewport={"width": 1100, "height": 760})
    try:
        page = context.new_page()
        page.goto(f"/web/sign-in?lang={lang}")
        assert page.get_attribute("html", "lang") == lang
        _shot(page, f"sign-in-{lang}")

        page.fill("#credential", members["bank"].token)
        page.click("button[type=submit]")
        page.wait_for_url("**/web/verify")
        assert page.get_attribute("html", "lang") == lang  # the choice is remembered
        _shot(page, f"verify-{lang}")

        page.fill("#ebl_id", ebl)
        page.fill("#document", json.dumps(document, indent=1))
        page.click("#verify-form button[type=submit]")
        page.wait_for_selector("#verdict")
        assert page.text_content("#verdict") == words["matches"]
        _shot(page, f"verify-matches-{lang}")

        page.fill("#document", json.dumps({**document, "issueDate": "2024-01-03"}, indent=1))
        page.click("#verify-form button[type=submit]")
        page.wait_for_function(
            "t => document.getElementById('verdict').textContent === t", arg=words["no_match"]
        )
        assert page.query_selector("#presented-hash") is not None
        _shot(page, f"verify-does-not-match-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_auditors_pages_are_screenshotted_in_both_languages(
    browser: Any, gateway: Any, members: Any, stages: Any, lang: str
) -> None:
    ebl = stages.transferred()
    stages.post("consignee", f"/v1/holders/ebls/{ebl}/reject")
    context = browser.new_context(base_url=gateway.url, viewport={"width": 1100, "height": 760})
    try:
        page = context.new_page()
        sign_in_page(page, members["auditor"].token, f"/web/sign-in?lang={lang}")
        page.goto(f"/web/timeline?ebl_id={ebl}")
        page.wait_for_selector("#event-2")
        assert page.get_attribute("html", "lang") == lang
        _shot(page, f"timeline-{lang}")

        page.goto(f"/web/events?org={members['shipper'].org}&limit=8")
        page.wait_for_selector("#events")
        _shot(page, f"events-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_inbox_pages_are_screenshotted_in_both_languages(
    browser: Any, gateway: Any, members: Any, stages: Any, lang: str
) -> None:
    words = json.loads((CATALOGUES / f"{lang}.inbox.json").read_text("utf-8"))
    ebl = stages.issued()
    context = browser.new_context(base_url=gateway.url, viewport={"width": 1100, "height": 760})
    try:
        page = context.new_page()
        sign_in_page(page, members["shipper"].token, f"/web/sign-in?lang={lang}")
        page.goto("/web/inbox?limit=5")
        assert page.text_content("h1") == words["inbox"]
        _shot(page, f"inbox-held-{lang}")
        page.goto("/web/inbox?view=awaiting&limit=5")
        _shot(page, f"inbox-awaiting-{lang}")
        page.goto(f"/web/inbox/ebls/{ebl}/transfer")
        page.select_option("#party", members["bank"].org)
        _shot(page, f"inbox-transfer-choose-{lang}")
        page.click("#continue")
        page.wait_for_selector("#says")
        _shot(page, f"inbox-transfer-confirm-{lang}")
        page.click("#confirm-button")
        page.wait_for_selector("#op-status[data-status=final]", timeout=60_000)
        assert page.text_content("#op-status") == words["inbox_op_final"]
        _shot(page, f"inbox-operation-final-{lang}")
        page.goto("/web/inbox?view=former&limit=5")
        _shot(page, f"inbox-former-{lang}")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_carrier_desk_pages_are_screenshotted_in_both_languages(
    browser: Any, gateway: Any, members: Any, stages: Any, lang: str
) -> None:
    """The desk with a surrender in its queue and the rows of two files issued at once (one refused),
    the confirmation of accepting that surrender, and the operation page once final."""
    words = json.loads((CATALOGUES / f"{lang}.desk.json").read_text("utf-8"))
    waiting = stages.surrender_requested()
    files = [
        {"name": name, "mimeType": "application/json", "buffer": json.dumps(doc, indent=1).encode()}
        for name, doc in (
            ("bill-1.json", carrier_document(new_document("S1"), "carrier")),
            ("other-carrier.json", carrier_document(new_document("S2"), "other_carrier")),
        )
    ]
    context = browser.new_context(base_url=gateway.url, viewport={"width": 1100, "height": 760})
    try:
        page = context.new_page()
        sign_in_page(page, members["carrier"].token, f"/web/sign-in?lang={lang}")
        page.goto("/web/desk")
        assert page.get_attribute("html", "lang") == lang, page.content()[:3000]
        page.select_option("#issue_to", members["shipper"].org)
        page.set_input_files("#many-files", files)
        page.click("#issue-many")
        page.wait_for_function("() => document.getElementById('many-progress').value === 2")
        assert page.query_selector(f"#q-{waiting}") is not None
        _shot(page, f"desk-{lang}")

        page.click(f"#q-{waiting} a.action >> nth=0")
        page.wait_for_url(f"**/web/desk/ebls/{waiting}/accept-surrender")
        assert page.text_content("#consequence") == words["desk_means_accept-surrender"]
        _shot(page, f"desk-confirm-{lang}")

        page.click("#confirm")
        page.wait_for_url("**/web/desk/operations/**")
        page.wait_for_function(
            "t => document.getElementById('verdict').textContent === t", arg=words["desk_final"]
        )
        _shot(page, f"desk-operation-{lang}")
    finally:
        context.close()
