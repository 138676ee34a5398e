"""axe-core on every web page, in both languages, in Debian's Chromium through Playwright: no
violation of impact "serious" or "critical".

axe is ``node_modules/axe-core/axe.min.js`` (package.json's devDependency, as ``make`` installs it). It is
run through ``page.evaluate`` of the file's source: Playwright's evaluation goes through the DevTools
protocol, which the page's Content-Security-Policy does not govern, so the pages are checked under their
real CSP (``add_script_tag`` would inject an inline script, which that CSP rightly refuses).

:data:`PAGES` lists the pages; a new page adds one line (the inbox and the carrier desk will).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from registry.chain.build import project_root
from tests.api.helpers import Stages
from tests.web.conftest import NEEDS_BROWSER, sign_in_page

AXE = project_root() / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    NEEDS_BROWSER,
    pytest.mark.skipif(not AXE.exists(), reason=f"{AXE} is absent (npm ci installs package.json's axe-core)"),
]

BLOCKING = {"serious", "critical"}
LOCALES = {"en": "en-GB", "zh-Hans": "zh-CN"}


@dataclass(frozen=True)
class Page:
    """A page to check: ``path`` (and ``fill`` values) may name ``{ebl}`` (a transferred eBL) and
    ``{org}`` (the shipper's address); ``who`` signs in first (a member of the ``members`` fixture);
    ``fill`` and ``submit`` then post a form, and ``ready`` is the element that shows the page is done."""

    name: str
    path: str
    who: str | None = None
    fill: tuple[tuple[str, str], ...] = ()
    submit: str | None = None
    ready: str = "main"


PAGES: list[Page] = [
    Page("sign-in", "/web/sign-in"),
    Page("verify", "/web/verify", who="bank"),
    Page(
        "verify-answer",
        "/web/verify",
        who="bank",
        fill=(("#ebl_id", "{ebl}"),),
        submit="#verify-form button[type=submit]",
        ready="#status",
    ),
    Page(
        "verify-no-such",
        "/web/verify",
        who="bank",
        fill=(("#ebl_id", "1"),),
        submit="#verify-form button[type=submit]",
        ready="#verdict",
    ),
    Page("timeline-form", "/web/timeline", who="auditor"),
    Page("timeline", "/web/timeline?ebl_id={ebl}", who="auditor", ready="#timeline"),
    Page("timeline-refused", "/web/timeline?ebl_id={ebl}", who="bank", ready="#verdict"),
    Page("events-form", "/web/events", who="auditor"),
    Page("events", "/web/events?org={org}&limit=2", who="auditor", ready="#events"),
    Page("inbox-held", "/web/inbox?limit=5", who="consignee"),
    Page("inbox-awaiting", "/web/inbox?view=awaiting&limit=5", who="consignee"),
    Page("inbox-former", "/web/inbox?view=former&limit=5", who="shipper"),
    Page("inbox-transfer", "/web/inbox/ebls/{ebl}/transfer", who="consignee"),
    Page("desk", "/web/desk", who="carrier", ready="#issue-form"),
    Page("desk-confirm", "/web/desk/ebls/{ebl}/void", who="carrier", ready="#title-state"),
    Page(
        "desk-refused-write", "/web/desk/ebls/{ebl}/void", who="carrier", submit="#confirm", ready="#problem"
    ),
    Page("desk-not-a-carrier", "/web/desk", who="bank", ready="#verdict"),
]
"""Every page of the web app (the lead adds the inbox and desk pages here)."""


@pytest.fixture(scope="module")
def fill_in(stages: Stages, members: Any) -> dict[str, str]:
    return {"ebl": stages.transferred(), "org": members["shipper"].org}


def _violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_no_serious_or_critical_accessibility_violation(
    browser: Any, gateway: Any, members: Any, fill_in: dict[str, str], spec: Page, lang: str
) -> None:
    context = browser.new_context(base_url=gateway.url, locale=LOCALES[lang])
    try:
        page = context.new_page()
        if spec.who is not None:
            sign_in_page(page, members[spec.who].token)
        page.goto(spec.path.format(**fill_in))
        for selector, value in spec.fill:
            page.fill(selector, value.format(**fill_in))
        if spec.submit is not None:
            page.click(spec.submit)
        page.wait_for_selector(spec.ready)
        assert page.get_attribute("html", "lang") == lang
        found = [v for v in _violations(page) if v.get("impact") in BLOCKING]
        report = [
            f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in found
        ]
        assert not found, "\n".join(report)
    finally:
        context.close()
