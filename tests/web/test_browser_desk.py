"""The carrier desk in Debian's Chromium (headless, through Playwright; never Playwright's download):
two files issued at once with the progress bar and a row each, and one pasted document followed to
final by the operation page polling itself, with no CSP violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from registry.chain.build import project_root
from tests.api.helpers import carrier_document, new_document
from tests.web.conftest import NEEDS_BROWSER, sign_in_page

pytestmark = NEEDS_BROWSER


@pytest.fixture
def desk(browser: Any, gateway: Any, members: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=gateway.url, locale="en-GB")
    pg = context.new_page()
    pg.errors: list[str] = []  # type: ignore[attr-defined]

    def console(m: Any) -> None:  # the browser's own favicon request is no page error
        if m.type == "error" and not str(m.location.get("url", "")).endswith("/favicon.ico"):
            pg.errors.append(f"{m.text} {m.location.get('url')}")  # type: ignore[attr-defined]

    pg.on("console", console)
    sign_in_page(pg, members["carrier"].token)
    pg.click("nav >> text=Carrier desk")
    pg.wait_for_url("**/web/desk")
    yield pg
    context.close()


def test_two_files_are_issued_at_once_with_the_progress_bar(desk: Any, members: Any, stages: Any) -> None:
    shipper = members["shipper"]
    files = [
        {
            "name": f"bill-{i}.json",
            "mimeType": "application/json",
            "buffer": json.dumps(carrier_document(new_document(f"B{i}"), "carrier"), indent=2).encode(),
        }
        for i in range(2)
    ]
    assert desk.is_visible("#many") and not desk.is_visible(".no-js-note")
    desk.select_option("#issue_to", shipper.org)
    desk.set_input_files("#many-files", files)
    desk.click("#issue-many")
    desk.wait_for_function("() => document.getElementById('many-progress').value === 2")
    assert desk.get_attribute("#many-progress", "max") == "2"
    desk.wait_for_selector("#many-results tr:nth-child(2)")
    assert desk.text_content("#many-count") == "2 / 2"
    rows = desk.query_selector_all("#many-results tr")
    assert [r.query_selector(".row-file").text_content() for r in rows] == ["bill-0.json", "bill-1.json"]
    for row in rows:
        assert row.query_selector(".status").text_content() == "Issued"
        ebl = row.query_selector(".row-ebl").text_content()
        state = stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification").json()
        assert state["status"] == "ACTIVE" and state["holder"]["address"] == shipper.org
    assert not desk.errors, desk.errors  # no CSP violation (inline script or style) reported


def test_one_pasted_document_is_followed_to_final_in_place(desk: Any, members: Any) -> None:
    desk.select_option("#issue_to", members["shipper"].org)
    desk.fill("#document", json.dumps(carrier_document(new_document("P"), "carrier")))
    desk.click("#issue")
    desk.wait_for_url("**/web/desk/operations/**")
    operation = desk.url
    desk.wait_for_function("() => document.getElementById('op-status').textContent === 'final'")
    assert desk.text_content("#verdict") == "FINAL" and desk.text_content("#op-ebl").isdigit()
    assert desk.url == operation and desk.query_selector("#refresh") is None
    assert not desk.errors, desk.errors


def test_files_dropped_on_the_desk_are_issued(desk: Any, members: Any) -> None:
    """A file dropped on the document box fills it (drop.js); files dropped on the many-files card are
    the ones issued."""
    texts = [json.dumps(carrier_document(new_document(f"DR{i}"), "carrier")) for i in range(2)]
    drop = desk.evaluate_handle(
        """(texts) => { const dt = new DataTransfer();
           texts.forEach((t, i) => dt.items.add(new File([t], `dropped-${i}.json`)));
           return dt; }""",
        texts,
    )
    desk.dispatch_event("#document", "drop", {"dataTransfer": drop})
    desk.wait_for_function("() => document.getElementById('document').value.length > 0")
    assert desk.input_value("#document") == texts[0]
    desk.select_option("#issue_to", members["shipper"].org)
    desk.dispatch_event("#many", "drop", {"dataTransfer": drop})
    assert desk.text_content("#many-count") == "dropped-0.json, dropped-1.json"
    desk.click("#issue-many")
    desk.wait_for_function("() => document.getElementById('many-progress').value === 2")
    files = [c.text_content() for c in desk.query_selector_all("#many-results .row-file")]
    assert files == ["dropped-0.json", "dropped-1.json"]
    assert [c.text_content() for c in desk.query_selector_all("#many-results .status")] == ["Issued"] * 2
    assert not desk.errors, desk.errors


AXE = project_root() / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(not AXE.exists(), reason=f"{AXE} is absent (npm ci installs axe-core)")
def test_the_desk_pages_have_no_serious_accessibility_violation(
    browser: Any, gateway: Any, members: Any, stages: Any
) -> None:
    """axe-core on the desk (with a queue and result rows), a confirmation and an operation page: no
    serious or critical violation, under the pages' real CSP (``page.evaluate`` goes through the DevTools
    protocol, which CSP does not govern)."""
    waiting = stages.surrender_requested()
    context = browser.new_context(base_url=gateway.url)
    try:
        page = context.new_page()
        sign_in_page(page, members["carrier"].token)
        page.goto("/web/desk")
        page.select_option("#issue_to", members["shipper"].org)
        bill = json.dumps(carrier_document(new_document("AX"), "carrier")).encode()
        page.set_input_files(
            "#many-files", [{"name": "a.json", "mimeType": "application/json", "buffer": bill}]
        )
        page.click("#issue-many")
        page.wait_for_function("() => document.getElementById('many-progress').value === 1")
        found = {"desk": _axe(page)}
        page.goto(f"/web/desk/ebls/{waiting}/accept-surrender")
        found["confirm"] = _axe(page)
        page.click("#confirm")
        page.wait_for_url("**/web/desk/operations/**")
        found["operation"] = _axe(page)
    finally:
        context.close()
    assert found == {"desk": [], "confirm": [], "operation": []}, found


def _axe(page: Any) -> list[str]:
    page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    assert result["passes"], "axe checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
