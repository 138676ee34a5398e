"""The newcomer's first look: ``/docs`` and ``/redoc`` of the served gateway, opened in a real browser
that may reach nothing beyond loopback.

Before this was fixed, Swagger UI and ReDoc came from a CDN: without internet ``/docs`` was a blank
page. Now their files are installed with the project, the bearer scheme gives Swagger UI its Authorize
button, and every operation carries a real example. The browser is Debian's Chromium
(``scripts/ensure-outsider-tools.sh``, part of ``make setup``), driven by Playwright.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tests.outsiders.conftest import Served

CHROMIUM = Path(os.environ.get("EBL_CHROMIUM", "/usr/bin/chromium"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
METHODS = {"get", "post", "put", "patch", "delete"}
EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:[a-z]+:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: `make setup` installs it (scripts/ensure-outsider-tools.sh)"
    )
    with sync_playwright() as playwright:
        # Belt and braces: every host name but loopback fails to resolve, and (below) every request
        # to anything but loopback is aborted and recorded.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
        )
        try:
            yield launched
        finally:
            launched.close()


class Offline:
    """A browser context that lets only loopback through, and remembers what it refused."""

    def __init__(self, browser: Browser) -> None:
        self.outside: list[str] = []
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.route("**/*", self._guard)

    def _guard(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def page(self) -> Page:
        page = self.context.new_page()
        page.set_default_timeout(30_000)
        return page


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    o = Offline(browser)
    try:
        yield o
    finally:
        o.context.close()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_the_docs_pages_reference_nothing_outside_the_gateway(served: Served) -> None:
    """The HTML of /docs and /redoc loads scripts, styles and icons from the gateway itself only."""
    for page in ("/docs", "/redoc"):
        r = httpx.get(served.url + page, timeout=30)
        assert r.status_code == 200, r.text
        # The browser is told so too: nothing but the gateway's own origin, whatever a bundle asks for.
        policy = r.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' data:" in policy, policy
        html = r.text
        assert not EXTERNAL.findall(html), f"{page} references an external URL: {EXTERNAL.findall(html)}"
        for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html):
            assert asset.startswith("/"), f"{page}: {asset} is not served by the gateway"
            r = httpx.get(served.url + asset, timeout=30)
            assert r.status_code == 200 and len(r.content) > 1000, f"{page}: {asset} answered {r.status_code}"


def test_swagger_ui_renders_every_operation_offline_with_an_authorize_button(
    served: Served, offline: Offline
) -> None:
    """A newcomer without internet sees every operation, authorizes with a token, and tries one out."""
    document = httpx.get(served.url + "/openapi.json", timeout=30).json()
    page = offline.page()
    page.goto(served.url + "/docs")
    page.locator(".opblock").first.wait_for()
    paths = {(m, p) for m, p, _ in _operations(document)}
    shown = page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)")
    assert {p for _, p in paths} <= set(shown)
    assert page.locator(".opblock").count() == len(paths)

    authorize = page.locator("button.authorize").first
    assert authorize.is_visible()
    authorize.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(served.party("bank").token)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    # Try it out with the documented example: authorized, the gateway answers 404 for the example id
    # (401 if the Authorize button did not put the token on the request).
    operation = page.locator(".opblock-get").filter(
        has=page.locator("[data-path='/v1/operations/{operation_id}']")
    )
    operation.locator(".opblock-summary").click()
    try_it = operation.locator("button.try-out__btn")
    if try_it.count() and "Cancel" not in try_it.inner_text():
        try_it.click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("404"), status.inner_text()
    assert offline.outside == [], f"the page tried to leave loopback: {offline.outside}"


def test_redoc_renders_the_operations_offline(served: Served, offline: Offline) -> None:
    """ReDoc, too, needs nothing from outside: the operations' summaries are on the page."""
    page = offline.page()
    page.goto(served.url + "/redoc")
    page.get_by_text("Issue an eBL from a DCSA 3.0 transport document", exact=False).first.wait_for()
    assert page.locator("[data-section-id^='tag/']").count() >= 5
    assert offline.outside == [], f"the page tried to leave loopback: {offline.outside}"


def test_every_operation_has_a_real_example_valid_against_its_schema(served: Served) -> None:
    """Every request body has named examples and every path parameter an example, each valid against
    its schema; every authenticated operation declares the bearer scheme."""
    document = httpx.get(served.url + "/openapi.json", timeout=30).json()
    components = {"components": document["components"]}
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["bearer"].items()
    for method, path, op in _operations(document):
        label = f"{method.upper()} {path}"
        if path.startswith("/v1/"):
            assert op.get("security") == [{"bearer": []}], label
            assert not any(p["name"].lower() == "authorization" for p in op.get("parameters", [])), label
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path":
                example = parameter.get("example", (parameter.get("schema", {}).get("examples") or [None])[0])
                assert example is not None, f"{label}: path parameter {parameter['name']} has no example"
                _validate(example, {**parameter["schema"], **components}, f"{label} {parameter['name']}")
        body = op.get("requestBody")
        if body is None:
            continue
        media = body["content"]["application/json"]
        assert media.get("examples"), f"{label}: the request body has no example"
        for name, example in media["examples"].items():
            _validate(example["value"], {**media["schema"], **components}, f"{label} example {name!r}")


def _validate(value: Any, schema: dict[str, Any], label: str) -> None:
    try:
        jsonschema.Draft202012Validator(schema).validate(value)
    except jsonschema.ValidationError as exc:
        pytest.fail(f"{label}: {exc.message} at {exc.json_path}")


def test_the_issuance_example_issues_and_the_verification_example_verifies(served: Served) -> None:
    """The examples are real: the documented issuance request, sent as is (but to the demo shipper),
    issues; the documented presented document then verifies against what was issued."""
    document = httpx.get(served.url + "/openapi.json", timeout=30).json()
    paths = document["paths"]
    issue = paths["/v1/carriers/ebls"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    body = dict(issue["to-order"]["value"])
    assert {"transportDocumentReference", "documentParties", "consignmentItems"} <= set(body["document"])
    body["document"] = {**body["document"], "transportDocumentReference": "DOCSEXAMPLE000000001"}
    body["issueTo"] = served.party("shipper").org
    with served.client("carrier") as carrier, served.client("bank") as bank:
        issued = carrier.post("/v1/carriers/ebls", json=body)
        assert issued.status_code == 201, issued.text
        presented = bank.post("/v1/banks/verifications", json=body["document"])
    assert presented.status_code == 200, presented.text
    assert presented.json()["eblId"] == issued.json()["eblId"]
