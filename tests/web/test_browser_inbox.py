"""The inbox in Debian's Chromium (headless, driven by Playwright; never Playwright's download): a holder
clicks a transfer through choose, confirm and the operation page, which htmx polls to final."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import NEEDS_BROWSER, sign_in_page

pytestmark = NEEDS_BROWSER


def test_a_holder_clicks_a_transfer_through_to_final(
    browser: Any, gateway: Any, members: Any, stages: Any
) -> None:
    ebl = stages.issued()
    context = browser.new_context(base_url=gateway.url, locale="en-GB")
    try:
        page = context.new_page()
        sign_in_page(page, members["shipper"].token)
        errors: list[str] = []  # after the first page: its favicon.ico request is a 404
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
        page.click("nav >> text=Inbox")
        page.wait_for_url("**/web/inbox")
        page.click(f"#bill-{ebl} .act-transfer")
        page.select_option("#party", members["bank"].org)
        page.click("#continue")
        says = page.text_content("#says") or ""
        assert says.startswith("Title passes to Bank Ltd (LEI:API-BANK). You will no longer hold this bill.")
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status") else None)
        page.click("#confirm-button")
        page.wait_for_url("**/web/inbox/operations/*")
        first = page.get_attribute("#op-status", "data-status")
        page.wait_for_selector("#op-status[data-status=final]", timeout=60_000)  # htmx polled it in place
        assert "/status" not in page.url
        assert first == "final" or polls, (first, polls)  # not final at first: htmx asked again in place
        assert "Bank Ltd" in (page.text_content("#holder") or "")
        assert page.query_selector("#refresh") is None
        assert not errors, errors  # no CSP violation
    finally:
        context.close()
    with gateway.client(members["bank"].token) as bank:
        assert (
            bank.get(f"/v1/banks/ebls/{ebl}/verification").json()["holder"]["address"] == members["bank"].org
        )
