"""The auditor's timeline in Debian's Chromium: a new action appears on the open page without a reload
(htmx polling the live fragment), under the strict CSP, and the CSV export downloads as a file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Stages
from tests.web.conftest import NEEDS_BROWSER, sign_in_page

pytestmark = NEEDS_BROWSER


@pytest.fixture
def auditor(browser: Any, gateway: Any, members: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=gateway.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    sign_in_page(page, members["auditor"].token)
    yield page
    context.close()


def test_a_new_action_appears_on_the_open_timeline_without_reload(
    auditor: Any, stages: Stages, members: Any
) -> None:
    ebl = stages.issued()
    errors: list[str] = []
    auditor.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    auditor.goto(f"/web/timeline?ebl_id={ebl}")
    auditor.wait_for_selector("#event-0")
    assert auditor.query_selector("#event-1") is None
    auditor.evaluate("window.__same_page = true")  # gone if the page were loaded again
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/transfer", {"to": members["consignee"].org})
    auditor.wait_for_selector("#event-1[data-action=TRANSFER]")
    assert auditor.evaluate("window.__same_page") is True
    assert "Consignee Ltd" in auditor.text_content("#event-1")
    assert auditor.text_content("#count") == "2"
    assert not errors, errors  # no CSP violation reported


def test_the_csv_export_downloads_as_a_file(auditor: Any, stages: Stages) -> None:
    ebl = stages.transferred()
    auditor.goto(f"/web/timeline?ebl_id={ebl}")
    with auditor.expect_download() as info:
        auditor.click("#export-csv")
    download = info.value
    assert download.suggested_filename == f"timeline-{ebl}.csv"
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert [r["action"] for r in rows] == ["ISSUE", "TRANSFER"]
