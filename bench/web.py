"""The web app's pages in Chromium: first paint, first contentful paint and transferred weight.

``python -m bench.web [--quick] [--loads N] [--out PATH]``

A real gateway is started as ``make run`` starts it (``python -m scripts.serve`` in a subprocess,
its own temporary data folder, embedded chain, SQLite, demo members), through
``tests.support.gateway_process``. The demo carrier issues one eBL (``new_document``) to the demo
shipper. Debian's Chromium (``/usr/bin/chromium``, headless, driven by Playwright) signs in as the
demo bank through the sign-in form once; then every load is a fresh browser context (cold cache,
the bank's session cookie copied in) that opens the page and reads the Performance API's ``paint``
entries (``first-paint``, ``first-contentful-paint``, ms from navigation start) and the transferred
bytes of the document and every asset (``transferSize`` of the navigation and resource entries).
Pages: the sign-in page (signed out) and the verify page (signed in). Also timed: the verify
answer, from the click on Verify (document pasted) until MATCHES is shown (htmx swap, one
``/v1`` call in process). Goals from issue 15: first paint under 300 ms, no page over 300 KB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from bench.reads import machine
from tests.api.helpers import new_document
from tests.support.gateway_process import GatewayProcess

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
PAINT_GOAL_MS = 300.0
WEIGHT_GOAL_BYTES = 300 * 1024

_MEASURE = """() => {
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const sum = (key) => resources.reduce((n, r) => n + r[key], 0);
  return {paint, transfer: nav.transferSize + sum('transferSize'),
          decoded: nav.decodedBodySize + sum('decodedBodySize'),
          assets: resources.map(r => r.name), dcl: nav.domContentLoadedEventEnd};
}"""


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(_percentile(samples, 0.50), 1),
        "p99": round(_percentile(samples, 0.99), 1),
        "mean": round(statistics.fmean(samples), 1),
        "max": round(max(samples), 1),
    }


def _load(browser: Browser, url: str, path: str, cookies: list[Any]) -> dict[str, Any]:
    context = browser.new_context(base_url=url, locale="en-GB")
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.goto(path, wait_until="load")
        page.wait_for_function("() => performance.getEntriesByType('paint').length >= 2")
        measured: dict[str, Any] = page.evaluate(_MEASURE)
        measured["url"] = page.url
        return measured
    finally:
        context.close()


def _page(browser: Browser, url: str, path: str, cookies: list[Any], loads: int) -> dict[str, Any]:
    for _ in range(3):  # warm-up: the gateway's first requests (templates, imports)
        _load(browser, url, path, cookies)
    runs = [_load(browser, url, path, cookies) for _ in range(loads)]
    assert all(r["url"].endswith(path) for r in runs), runs[0]["url"]
    fp = [r["paint"]["first-paint"] for r in runs]
    fcp = [r["paint"]["first-contentful-paint"] for r in runs]
    weight = max(r["transfer"] for r in runs)
    return {
        "first_paint_ms": _summary(fp),
        "first_contentful_paint_ms": _summary(fcp),
        "transferred_bytes": weight,
        "decoded_bytes": max(r["decoded"] for r in runs),
        "assets": sorted({a.removeprefix(url) for r in runs for a in r["assets"]}),
        "paint_goal_met": _percentile(fp, 0.99) < PAINT_GOAL_MS,
        "weight_goal_met": weight <= WEIGHT_GOAL_BYTES,
    }


def _answers(
    browser: Browser, url: str, cookies: list[Any], ebl: str, doc: str, loads: int
) -> dict[str, Any]:
    context = browser.new_context(base_url=url, locale="en-GB")
    context.add_cookies(cookies)
    page = context.new_page()
    samples = []
    try:
        for i in range(loads + 3):
            page.goto("/web/verify")
            page.fill("#ebl_id", ebl)
            page.fill("#document", doc)
            start = time.perf_counter()
            page.click("#verify-form button[type=submit]")
            page.wait_for_selector("#verdict")
            elapsed = (time.perf_counter() - start) * 1000
            assert page.text_content("#verdict") == "MATCHES"
            if i >= 3:
                samples.append(elapsed)
    finally:
        context.close()
    return _summary(samples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 loads per page")
    parser.add_argument("--loads", type=int, default=None, help="loads per page (default 100)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    loads = args.loads or (20 if args.quick else 100)
    out: Path = args.out or RESULTS / ("web.quick.json" if args.quick else "web.json")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        gw = GatewayProcess(Path(tmp))
        try:
            gw.start()
            assert gw.credentials is not None
            creds = gw.credentials
            document = new_document("W")
            with gw.client(creds["carrier"]["token"], timeout=60) as c:
                r = c.post(
                    "/v1/carriers/ebls", json={"document": document, "issueTo": creds["shipper"]["org"]}
                )
                assert r.status_code == 201, r.text
                ebl = str(r.json()["eblId"])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                try:
                    context = browser.new_context(base_url=gw.url)
                    page = context.new_page()
                    page.goto("/web/sign-in")
                    page.fill("#credential", creds["bank"]["token"])
                    page.click("button[type=submit]")
                    page.wait_for_url("**/web/verify")
                    cookies = context.cookies()
                    context.close()
                    pages = {
                        "sign-in": _page(browser, gw.url, "/web/sign-in", [], loads),
                        "verify": _page(browser, gw.url, "/web/verify", cookies, loads),
                    }
                    answer = _answers(browser, gw.url, cookies, ebl, json.dumps(document, indent=1), loads)
                    chromium_version = browser.version
                finally:
                    browser.close()
        finally:
            gw.close()
    results: dict[str, Any] = {
        "pages": pages,
        "verify_answer_ms": answer,
        "goals": {
            "first_paint_p99_ms_below": PAINT_GOAL_MS,
            "transferred_bytes_at_most": WEIGHT_GOAL_BYTES,
            "met": all(pg["paint_goal_met"] and pg["weight_goal_met"] for pg in pages.values()),
        },
        "method": __doc__.split("\n\n", 2)[2].strip().replace("\n", " "),
        "machine": {**machine(), "chromium": chromium_version},
        "parameters": {"loads": loads, "warmup_loads": 3, "quick": args.quick},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.write_text(json.dumps(results, indent=2) + "\n")
    for name, pg in pages.items():
        fp, fcp = pg["first_paint_ms"], pg["first_contentful_paint_ms"]
        print(
            f"{name}: first paint p50 {fp['p50']} / p99 {fp['p99']} ms, "
            f"FCP p50 {fcp['p50']} / p99 {fcp['p99']} ms, "
            f"{pg['transferred_bytes']} bytes",
            file=sys.stderr,
        )
    print(f"verify answer: p50 {answer['p50']} / p99 {answer['p99']} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
