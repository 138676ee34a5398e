"""The web app over HTTP against the real gateway of tests/api (its chain, runtime and cast), and in
Debian's Chromium through Playwright (never Playwright's own browser download)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import api_chain, api_runtime, gateway, governance_token, members  # noqa: F401
from tests.api.helpers import Stages, new_document, ok

CHROMIUM = Path("/usr/bin/chromium")

NEEDS_BROWSER = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (Makefile's outsider-tools installs chromium)"
)
"""The mark of every test that drives Debian's Chromium."""

XSS = (
    '</textarea><script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">'
    "javascript:window.__xss=3"
)
"""Markup, an attribute break-out and a ``javascript:`` URL: shown literally, never run."""


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@contextmanager
def signed_in(url: str, token: str) -> Iterator[httpx.Client]:
    """A browser-like client signed in through the sign-in form (cookie jar, same-origin forms)."""
    with httpx.Client(base_url=url, timeout=60, headers={"Origin": url}) as client:
        r = client.post(
            "/web/sign-in", data={"credential": token, "csrf": csrf_of(client.get("/web/sign-in").text)}
        )
        assert r.status_code == 303, r.text
        yield client


@pytest.fixture(scope="session")
def stages(gateway: Any, members: Any) -> Iterator[Stages]:  # noqa: F811
    s = Stages(gateway, members)
    yield s
    s.close()


@pytest.fixture(scope="session")
def xss_ebl(gateway: Any, members: Any) -> tuple[str, dict[str, Any]]:  # noqa: F811
    """An eBL whose document's free-text fields hold :data:`XSS`."""
    document = new_document("X", termsAndConditions=XSS)
    document["documentParties"]["shipper"]["partyName"] = XSS[:70]
    with gateway.client(members["carrier"].token) as c:
        issue = {"document": document, "issueTo": members["shipper"].org}
        body = ok(c.post("/v1/carriers/ebls", json=issue), 201)
    return str(body["eblId"]), document


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (one per test module, never Playwright's download)."""
    playwright_sync = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed in .venv"
    )
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def sign_in_page(page: Any, token: str, path: str = "/web/sign-in") -> None:
    """Sign ``page`` in through the sign-in form, as a person does."""
    page.goto(path)
    page.fill("#credential", token)
    page.click("button[type=submit]")
    page.wait_for_url("**/web/verify")
