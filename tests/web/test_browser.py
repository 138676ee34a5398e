"""The verify page in Debian's Chromium (headless, driven by Playwright; never Playwright's download):
the htmx form answers in place, CSP holds, and a document full of markup runs nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import NEEDS_BROWSER, XSS, sign_in_page

pytestmark = NEEDS_BROWSER


@pytest.fixture
def page(browser: Any, gateway: Any, members: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=gateway.url, locale="en-GB")
    pg = context.new_page()
    pg.dialogs: list[str] = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    sign_in_page(pg, members["bank"].token)
    yield pg
    context.close()


def test_sign_in_verify_in_place_and_sign_out(page: Any, stages: Any) -> None:
    ebl = stages.issued()
    assert "Bank Ltd" in page.text_content("#acting-as")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.fill("#ebl_id", ebl)
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#status")
    assert page.text_content("#status") == "ACTIVE"
    assert page.url.endswith("/web/verify")
    assert not errors, errors  # no CSP violation (inline script or style) reported
    page.click("text=Sign out")
    page.wait_for_url("**/web/sign-in")


def test_a_document_full_of_markup_executes_nothing(page: Any, xss_ebl: Any) -> None:
    ebl, document = xss_ebl
    for ebl_id, presented in ((ebl, json.dumps(document, indent=1)), (XSS, ""), (ebl, XSS)):
        page.fill("#ebl_id", ebl_id)
        page.fill("#document", presented)
        page.click("#verify-form button[type=submit]")
        page.wait_for_selector("#verdict")
        assert page.evaluate("window.__xss") is None
        assert page.dialogs == []
        assert page.query_selector("img") is None
    page.goto("/web/verify")
    page.fill("#ebl_id", ebl)
    page.fill("#document", json.dumps(document, indent=1))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verdict")
    assert page.text_content("#verdict") == "MATCHES"
    assert json.dumps(XSS)[1:-1] in page.input_value("#document")  # the text shown literally
    assert page.evaluate("window.__xss") is None and page.dialogs == []


def test_a_dropped_document_file_is_verified(page: Any, xss_ebl: Any) -> None:
    _, document = xss_ebl
    text = json.dumps(document, indent=3)
    drop = page.evaluate_handle(
        """(text) => { const dt = new DataTransfer();
           dt.items.add(new File([text], "bill.json", {type: "application/json"})); return dt; }""",
        text,
    )
    page.dispatch_event("#document", "drop", {"dataTransfer": drop})
    page.wait_for_function("document.getElementById('document').value.length > 0")
    assert page.input_value("#document") == text
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verdict")
    assert page.text_content("#verdict") == "MATCHES"
