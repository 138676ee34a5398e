"""The request log middleware and the redaction processor, on a small app whose routes fail on purpose
(the served gateway has no route that raises on demand; tests/outsiders/test_gateway_log.py checks the
served one from outside)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from api import logs
from api.problems import Problem, install_problem_handlers
from api.serving import serve_in_thread
from registry.errors import ConfigurationError

TOKEN = "ebl_0123456789abcdef.Sup3r-Secret_token-value-0123456789abcdefXYZ"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """configure_logging into a buffer; the process's logging set-up is put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, structlog.get_config(), logs._access)
    uvicorn = {
        n: (list(lg.handlers), lg.propagate, lg.disabled)
        for n in ("uvicorn", "uvicorn.error", "uvicorn.access")
        for lg in [logging.getLogger(n)]
    }
    buffer = io.StringIO()
    logs.configure_logging("INFO", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.configure(**saved[2])
        logs._access = saved[3]
        for name, (handlers, propagate, disabled) in uvicorn.items():
            lg = logging.getLogger(name)
            lg.handlers[:], lg.propagate, lg.disabled = handlers, propagate, disabled


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    log = logging.getLogger("tests.app")

    @app.get("/ok/{operation_id}")
    def ok(operation_id: str) -> dict[str, str]:
        log.info("handling %s", operation_id)
        return {"operation": operation_id}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the unexpected happened")

    @app.get("/misconfigured")
    async def misconfigured() -> None:
        raise ConfigurationError("no keystore passphrase")

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise Problem(503, "paused", "Title actions are paused")

    @app.get("/chatty")
    def chatty() -> dict[str, str]:
        logs.note_principal("0123456789abcdef", "carrier", "0xCarrier")
        log.warning("got Authorization: Bearer %s and token %s", TOKEN, TOKEN)
        structlog.get_logger("tests.app").info("fields", passphrase="hunter2", nested={"privateKey": "0xabc"})
        return {}

    app.add_middleware(logs.RequestLog)
    return app


@contextmanager
def _served() -> Iterator[httpx.Client]:
    """The small app under real uvicorn, logging as scripts/serve.py sets it up."""
    with (
        serve_in_thread(_app(), log_config=None, access_log=False) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """The captured lines of this test's app: not those of registry threads (a PINT sender retrying a
    peer, say) that another test of the same worker left running."""
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return [x for x in lines if not str(x.get("logger", "")).startswith("registry.")]


def _requests(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in _lines(buffer) if line.get("event") == "request"]


def test_one_line_per_request_with_its_id_route_status_and_duration(captured: io.StringIO) -> None:
    with _served() as client:
        r = client.get("/ok/op-1")
    assert r.status_code == 200
    [line] = _requests(captured)
    assert line["request_id"] == r.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["route"], line["status"]) == (
        "GET",
        "/ok/op-1",
        "/ok/{operation_id}",
        200,
    )
    assert line["operation_id"] == "op-1" and line["duration_ms"] >= 0 and line["level"] == "info"
    [handled] = [x for x in _lines(captured) if x.get("event") == "handling op-1"]
    assert handled["request_id"] == line["request_id"]  # a log line written while serving it


def test_a_well_formed_incoming_request_id_is_kept_and_a_malformed_one_replaced(
    captured: io.StringIO,
) -> None:
    with _served() as client:
        kept = client.get("/ok/x", headers={"X-Request-ID": "trace-42.a:b_c"})
        replaced = client.get("/ok/y", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 200})
    assert kept.headers["X-Request-ID"] == "trace-42.a:b_c"
    assert (
        replaced.headers["X-Request-ID"] != "bad id\twith spaces"
        and len(replaced.headers["X-Request-ID"]) == 36
    )
    assert [line["request_id"] for line in _requests(captured)] == [
        "trace-42.a:b_c",
        replaced.headers["X-Request-ID"],
    ]


@pytest.mark.parametrize(
    ("path", "status", "raised"),
    [
        ("/boom", 500, "RuntimeError: the unexpected happened"),
        ("/misconfigured", 500, "ConfigurationError: no keystore passphrase"),
        ("/unavailable", 503, "Problem: Title actions are paused"),
    ],
)
def test_every_5xx_logs_its_traceback_under_the_id_its_problem_names(
    captured: io.StringIO, path: str, status: int, raised: str
) -> None:
    with _served() as client:
        r = client.get(path)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    request_id = r.headers["X-Request-ID"]
    assert r.json()["requestId"] == request_id
    [line] = _requests(captured)
    assert line["request_id"] == request_id and line["status"] == status and line["level"] == "error"
    assert line["exception"].startswith("Traceback (most recent call last):") and raised in line["exception"]
    # the test's own client (httpx) and registry threads another test of this worker left behind
    server_lines = [x for x in _lines(captured) if x.get("logger") != "httpx"]
    assert server_lines == [line]  # logged once: not again by uvicorn without the id


def test_no_token_passphrase_or_key_reaches_the_log(captured: io.StringIO) -> None:
    with _served() as client:
        r = client.get("/chatty", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    text = captured.getvalue()
    assert "Sup3r-Secret" not in text and "hunter2" not in text and "0xabc" not in text
    [warning] = [x for x in _lines(captured) if x.get("level") == "warning"]
    assert (
        warning["event"] == "got Authorization: Bearer [REDACTED] and token ebl_0123456789abcdef.[REDACTED]"
    )
    [fields] = [x for x in _lines(captured) if x.get("event") == "fields"]
    assert fields["passphrase"] == "[REDACTED]" and fields["nested"] == {"privateKey": "[REDACTED]"}
    [line] = _requests(captured)
    assert (line["credential_id"], line["role"], line["org"]) == ("0123456789abcdef", "carrier", "0xCarrier")
