"""The FastAPI gateway: ``create_app()`` builds it; ``ebl serve`` / ``make run`` serve it with uvicorn.

Request guards sit in front of every route, so bad input gets a 4xx problem+json and never reaches a
parser that could fail badly or read it one way: bodies over ``max_body_bytes`` (413), JSON nested
deeper than 64 (400), bodies that are not UTF-8 (400), JSON naming a key twice in one object (422
``duplicate_key``). Each principal has a token-bucket rate limit (429).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter, Histogram

from api.auth import Credentials
from api.bodies import BodyGuard, Message, Receive, Scope, Send
from api.deps import RateLimiter
from api.docs import install_docs
from api.logs import RequestLog
from api.problem_docs import document_problems
from api.problems import install_problem_handlers
from api.routes import (
    auditors,
    banks,
    carriers,
    dcsa_carriers,
    dcsa_endorsement,
    governance,
    holders,
    keysets,
    members,
    operations,
    pint,
    platforms,
)
from api.web import install_web
from registry.config import Settings
from registry.runtime import Runtime
from registry.workers import WorkerPlan

__all__ = ["create_app"]

log = logging.getLogger(__name__)

REQUESTS = Counter("ebl_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("ebl_http_request_seconds", "HTTP request latency", ["method", "route"])


class Metrics:
    """ASGI middleware: request count and latency per route template and status, for Prometheus.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs every request through an extra task and memory streams, a measurable share of a 2 ms read.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], path, str(status)).inc()


def create_app(
    runtime: Runtime | None = None,
    *,
    settings: Settings | None = None,
    max_body_bytes: int = 2 * 1024 * 1024,
    rate_per_second: float = 500.0,
    burst: int = 1000,
    worker: WorkerPlan | None = None,
) -> FastAPI:
    """Build the gateway. Without ``runtime`` it opens one from ``settings`` (or the environment) at
    start-up and closes it at shutdown; with ``worker``, as one of several gateway workers
    (:mod:`registry.workers`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime.open(settings or Settings(), holder="a gateway worker", worker=worker)
        app.state.runtime = rt
        app.state.credentials = Credentials(rt.engine)
        try:
            yield
        finally:
            app.state.rate_limiter.close()
            if owned:
                rt.close()

    app = FastAPI(
        docs_url=None,  # /docs and /redoc come from api/docs.py: installed assets, no CDN
        redoc_url=None,
        title="eBL title registry",
        version="0.1.0",
        description=(
            "Electronic bills of lading (DCSA eBL 3.0) on a permissioned EVM ledger. Carriers issue, "
            "holders transfer and endorse, banks verify title, auditors read history. Errors are "
            "RFC 9457 problem+json with a stable `code`."
        ),
        lifespan=lifespan,
    )
    limits = settings or (runtime.settings if runtime is not None else Settings())
    app.state.rate_limiter = RateLimiter(rate_per_second, burst, shared_path=limits.rate_limit_file)
    install_problem_handlers(app)
    document_problems(app)
    install_docs(app)
    for module in (
        carriers,
        holders,
        members,
        banks,
        auditors,
        governance,
        platforms,
        operations,
        pint,
        keysets,
    ):
        app.include_router(module.router)
    if limits.dcsa_apis:  # the DCSA platform APIs: /v3 (and the carriers' endpoint)
        app.include_router(dcsa_carriers.endpoints)
        app.include_router(dcsa_carriers.router)
        app.include_router(dcsa_endorsement.router)

    install_web(app)  # /web: the pages for people who do not write code (api/web/)
    app.add_middleware(Metrics)
    app.add_middleware(BodyGuard, max_body_bytes=max_body_bytes)
    app.add_middleware(RequestLog)  # outermost: request id and one log line for every request (api/logs.py)
    return app
