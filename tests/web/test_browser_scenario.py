"""The README's letter of credit done entirely by clicking, in Debian's Chromium, against the gateway as
``make run`` starts it (``python -m scripts.serve`` on its own data folder, with its demo members).

Each party has its own browser context (its own cookies) and signs in through the sign-in page with the
credential ``make run`` printed. The carrier issues ``examples/bl.json`` to the shipper from the desk;
the shipper endorses the bill to the bank and hands it over from the inbox; the bank verifies it on the
verify page (the presented file: MATCHES; a tampered copy: DOES NOT MATCH with both hashes), then
endorses to the consignee and hands it over; the consignee surrenders for delivery; the carrier accepts
from the desk's surrender queue; the auditor reads the timeline and exports it as CSV. The test itself
calls ``/v1`` only at the end, to read the final state. Every step is screenshotted under
``build/screenshots/scenario-*.png``, and no page runs anything it should not: no dialog, no uncaught
error, no console error, no CSP violation, no failed request (the browser's own favicon.ico aside).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.chain.build import project_root
from tests.support.gateway_process import GatewayProcess
from tests.web.conftest import NEEDS_BROWSER, sign_in_page

pytestmark = NEEDS_BROWSER

BILL = project_root() / "examples" / "bl.json"
SHOTS = project_root() / "build" / "screenshots"
PARTIES = ("carrier", "shipper", "bank", "consignee", "auditor")
NAMES = {
    "shipper": "Demo Exporter GmbH",
    "bank": "Demo Trade Bank plc",
    "consignee": "Demo Importer Ltd",
}
"""The demo members' legal names (scripts/serve.py DEMO), as the pages show them."""

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""
"""Collects the page's CSP violations (an init script runs outside the page's CSP)."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[GatewayProcess]:
    """``make run``'s gateway on a fresh data folder, stopped (by pid) whatever happens."""
    process = GatewayProcess(tmp_path)
    try:
        process.start()
        yield process
    finally:
        process.close()


class Party:
    """One organisation at its own browser: its context, its page, and everything that went wrong."""

    def __init__(self, browser: Any, url: str, who: str, token: str) -> None:
        self.who = who
        self.context = browser.new_context(base_url=url, locale="en-GB", accept_downloads=True)
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.on("response", self._response)
        sign_in_page(self.page, token)
        assert NAMES.get(who, "") in (self.page.text_content("#acting-as") or "")

    def _console(self, m: Any) -> None:
        if m.type == "error" and not str(m.location.get("url", "")).endswith("/favicon.ico"):
            self.problems.append(f"console: {m.text} {m.location.get('url')}")

    def _dialog(self, d: Any) -> None:  # alert(), confirm(), prompt(): nothing of ours opens one
        self.problems.append(f"dialog: {d.message}")
        d.dismiss()

    def _response(self, r: Any) -> None:
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            self.problems.append(f"{r.status} {r.url}")

    def shot(self, step: str) -> None:
        """A screenshot of this step; and nothing ran that should not have."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"scenario-{step}.png"), full_page=True)
        self.check(step)

    def check(self, step: str) -> None:
        """Nothing ran that should not have: no CSP violation, dialog, page error or failed request."""
        assert "LEI LEI" not in self.page.text_content("body"), step  # an LEI is labelled once
        violations = self.page.evaluate("window.__csp || []")
        assert not violations, (step, violations)
        assert not self.problems, (step, self.problems)


def inbox_action(holder: Party, ebl: str, action: str, says: str, **choose: str) -> None:
    """From the inbox, one action on ``ebl``: choose, read what it does to title, confirm, follow to
    final."""
    page = holder.page
    page.click("nav >> text=Inbox")
    page.wait_for_url("**/web/inbox")
    page.click(f"#bill-{ebl} .act-{action}")
    for field, value in choose.items():
        page.select_option(f"#{field}", value)
    page.click("#continue")
    assert (page.text_content("#says") or "").startswith(says), page.text_content("#says")
    page.click("#confirm-button")
    page.wait_for_url("**/web/inbox/operations/*")
    page.wait_for_selector("#op-status[data-status=final]", timeout=90_000)  # htmx polls it in place


def test_the_letter_of_credit_is_clicked_through_by_every_party(browser: Any, served: GatewayProcess) -> None:
    credentials = served.credentials
    assert credentials is not None
    org = {who: credentials[who]["org"] for who in ("carrier", "shipper", "bank", "consignee")}
    parties: dict[str, Party] = {}
    try:
        for who in PARTIES:
            parties[who] = Party(browser, served.url, who, credentials[who]["token"])
        carrier, shipper, bank, consignee, auditor = (parties[w] for w in PARTIES)
        text = BILL.read_text("utf-8")

        # 1. the carrier drops examples/bl.json on the desk, picks the shipper, issues; follows to final
        desk = carrier.page
        desk.click("nav >> text=Carrier desk")
        desk.wait_for_url("**/web/desk")
        drop = desk.evaluate_handle(
            """(text) => { const dt = new DataTransfer();
               dt.items.add(new File([text], "bl.json", {type: "application/json"})); return dt; }""",
            text,
        )
        desk.dispatch_event("#document", "drop", {"dataTransfer": drop})
        desk.wait_for_function("() => document.getElementById('document').value.length > 0")
        assert desk.input_value("#document") == text
        desk.select_option("#issue_to", org["shipper"])
        carrier.shot("01-carrier-desk")
        desk.click("#issue")
        desk.wait_for_url("**/web/desk/operations/**")
        desk.wait_for_function(
            "() => document.getElementById('op-status').textContent === 'final'", timeout=90_000
        )
        assert desk.text_content("#verdict") == "FINAL" and desk.text_content("#op-action") == "ISSUE"
        ebl = desk.text_content("#op-ebl") or ""
        assert ebl.isdigit(), ebl
        carrier.shot("02-carrier-issued")

        # 2. the shipper endorses the bill to the bank, then hands it over under the letter of credit
        inbox_action(
            shipper,
            ebl,
            "endorse",
            f"{NAMES['bank']} (LEI:DEMO-BANK-0001) becomes the endorsee, to order",
            party=org["bank"],
            mode="to_order",
        )
        assert NAMES["bank"] in (shipper.page.text_content("#endorsee") or "")
        shipper.shot("03-shipper-endorsed")
        inbox_action(shipper, ebl, "transfer", f"Title passes to {NAMES['bank']}", party=org["bank"])
        assert NAMES["bank"] in (shipper.page.text_content("#holder") or "")
        shipper.shot("04-shipper-transferred")

        # 3. the bank verifies title: the presented file matches; a tampered copy does not
        check = bank.page
        check.goto("/web/verify")
        check.fill("#ebl_id", ebl)
        check.fill("#document", text)
        check.click("#verify-form button[type=submit]")
        check.wait_for_selector("#verdict")
        assert check.text_content("#verdict") == "MATCHES"
        assert check.text_content("#status") == "ACTIVE"
        assert NAMES["bank"] in (check.text_content("#holder") or "")
        assert NAMES["bank"] in (check.text_content("#endorsee") or "")
        issued_hash = check.text_content("#document-hash")
        bank.shot("05-bank-matches")
        tampered = json.loads(text)
        tampered["transportDocumentReference"] = "TAMPERED-0001"
        check.fill("#document", json.dumps(tampered, indent=2))
        check.click("#verify-form button[type=submit]")
        check.wait_for_selector("#verdict:has-text('DOES NOT MATCH')")
        assert check.text_content("#verdict") == "DOES NOT MATCH"
        assert check.text_content("#document-hash") == issued_hash
        presented = check.text_content("#presented-hash")
        assert presented and presented != issued_hash
        bank.shot("06-bank-does-not-match")

        # 4. the bank, paid, endorses to the consignee and hands the bill over
        inbox_action(
            bank,
            ebl,
            "endorse",
            f"{NAMES['consignee']} (LEI:DEMO-CONSIGNEE-0001) becomes the endorsee, to order",
            party=org["consignee"],
            mode="to_order",
        )
        bank.shot("07-bank-endorsed")
        inbox_action(bank, ebl, "transfer", f"Title passes to {NAMES['consignee']}", party=org["consignee"])
        assert NAMES["consignee"] in (bank.page.text_content("#holder") or "")
        bank.shot("08-bank-transferred")

        # 5. the consignee surrenders for delivery; the carrier accepts from the surrender queue
        inbox_action(
            consignee,
            ebl,
            "surrender",
            "The bill goes to its issuing carrier, Demo Ocean Carrier A/S",
            reason="DELIVERY",
        )
        consignee.shot("09-consignee-surrendered")
        desk.click("#back")
        desk.wait_for_url("**/web/desk")
        desk.wait_for_selector(f"#q-{ebl}")
        carrier.shot("10-carrier-queue")
        desk.click(f"#q-{ebl} a.action[href$='/accept-surrender']")
        desk.wait_for_url(f"**/web/desk/ebls/{ebl}/accept-surrender")
        desk.click("#confirm")
        desk.wait_for_url("**/web/desk/operations/**")
        desk.wait_for_function(
            "() => document.getElementById('op-status').textContent === 'final'", timeout=90_000
        )
        assert desk.text_content("#verdict") == "FINAL"
        assert desk.text_content("#op-action") == "SACC"
        carrier.shot("11-carrier-accepted")

        # 6. the auditor reads the timeline, every action in order, and exports it as CSV
        audit = auditor.page
        audit.click("nav >> text=Timeline")
        audit.wait_for_url("**/web/timeline**")
        audit.fill("#ebl_id", ebl)
        audit.click("#timeline-form button[type=submit]")
        audit.wait_for_selector("#event-6")
        steps = [e.get_attribute("data-action") for e in audit.query_selector_all("#timeline .event")]
        words = [c.text_content() for c in audit.query_selector_all("#timeline .event .action-code")]
        auditor.shot("12-auditor-timeline")
        with audit.expect_download() as info:
            audit.click("#export-csv")
        download = info.value
        assert download.suggested_filename == f"timeline-{ebl}.csv"
        with open(download.path(), encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        auditor.check("the CSV export")
    finally:
        for party in parties.values():
            party.context.close()

    expected = [
        "ISSUE",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "SURRENDER_FOR_DELIVERY",
        "SACC",
    ]
    assert steps == expected
    in_dcsa_words = [*expected[:-1], "SURRENDERED"]  # DCSA's Endorsement Chain names SACC so
    assert words == in_dcsa_words
    assert [r["dcsa_action"] for r in rows] == in_dcsa_words
    assert [r["action"] for r in rows] == expected
    assert [r["seq"] for r in rows] == [str(i) for i in range(len(expected))]
    assert {r["ebl_id"] for r in rows} == {ebl}
    sides = [(r["actor"].lower(), r["counterparty"].lower()) for r in rows]
    lower = {k: v.lower() for k, v in org.items()}
    assert sides == [
        (lower["carrier"], lower["shipper"]),
        (lower["shipper"], lower["bank"]),
        (lower["shipper"], lower["bank"]),
        (lower["bank"], lower["consignee"]),
        (lower["bank"], lower["consignee"]),
        (lower["consignee"], lower["carrier"]),
        (lower["carrier"], lower["consignee"]),
    ]
    assert rows[1]["counterparty_name"] == NAMES["bank"]
    assert all(r["tx_hash"].startswith("0x") and r["block_number"].isdigit() for r in rows)

    # the final state, read over /v1 for the assertion only
    with httpx.Client(base_url=served.url, timeout=30) as api:
        answer = api.get(
            f"/v1/banks/ebls/{ebl}/verification",
            headers={"Authorization": f"Bearer {credentials['bank']['token']}"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "SURRENDERED"
