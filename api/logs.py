"""The gateway's log: one JSON object per line on stderr, written with structlog.

Why structlog (and not python-json-logger on the stdlib): its processor chain is where redaction
belongs — one :func:`redact` step runs on every event before it is rendered, ours and those of the
stdlib loggers (uvicorn, the registry's own ``logging`` calls) alike, which structlog's
``ProcessorFormatter`` feeds through the same chain; request context travels in ``contextvars``
without threading a logger through the code; tracebacks are rendered into the same JSON line.

What is logged:

* one ``request`` line per HTTP request (from :class:`RequestLog`, the outermost middleware):
  ``request_id``, ``method``, ``path``, ``route`` (the template), ``status``, ``duration_ms``, ``pid``, the
  principal (``credential_id``, ``role``, ``org`` — never the token) once authenticated, and
  ``operation_id`` (or ``operation_ids``) when the request concerns operations;
* every 5xx at level ``error`` with its ``exception`` (the traceback) in the same line;
* every other log record of the process (start-up, the chain watchdog, the relayer ...), carrying
  the ``request_id`` when it was written while serving a request.

The request id is the client's ``X-Request-ID`` when it is well formed (1-128 characters of
``A-Z a-z 0-9 . _ : -``; anything else is replaced), otherwise a new UUID; it is returned in the
``X-Request-ID`` response header and in every 5xx problem body (``requestId``), so "see the server
log" leads to the line. uvicorn's own access log is switched off (``access_log=False``): the
``request`` line replaces it, with the principal and the route, so nothing is logged twice.

Never logged: API tokens (``ebl_<id>.<secret>``: the secret is replaced, the id kept), ``Bearer``
credentials, and any field whose name says token, secret, passphrase, password, private key,
mnemonic, cookie or authorization.
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

from registry.logs import configure_logging, on_configure, redact

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestLog",
    "configure_logging",
    "current_request_id",
    "note",
    "note_operation",
    "note_principal",
    "record_failure",
    "redact",
]

REQUEST_ID_HEADER = "X-Request-ID"

_PID = os.getpid()  # a worker is a fresh (spawned) process, which imports this anew
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


_access: Any = None
"""The request lines' logger, made when :func:`registry.logs.configure_logging` runs; until then (an
app embedded without it: tests, benchmarks) the middleware sets request ids but writes no lines."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_notes: ContextVar[dict[str, Any] | None] = ContextVar("ebl_request_notes", default=None)
"""What the request's handlers learnt for its log line (principal, operations, the failure). A dict
set per request: sync routes run in worker threads on a copy of the context, but share the dict."""


# ------------------------------------------------------------------ what handlers tell the request line


def note(**fields: Any) -> None:
    """Add fields to the current request's log line (no-op outside a request)."""
    notes = _notes.get()
    if notes is not None:
        notes.update(fields)


def note_principal(credential_id: str, role: str, org: str | None) -> None:
    """The authenticated principal of the current request (never its token)."""
    note(credential_id=credential_id, role=role, org=org)


def note_operation(operation_id: str) -> None:
    """An operation the current request created, answered or failed with."""
    notes = _notes.get()
    if notes is None or not operation_id:
        return
    ids: list[str] = notes.setdefault("operation_ids", [])
    if operation_id not in ids:
        ids.append(operation_id)


def record_failure() -> None:
    """Attach the exception being handled (if any) to the current request's line: called where a 5xx
    problem is rendered, which happens inside the exception handler."""
    exc = sys.exc_info()[1]
    if exc is not None:
        note(exception=_traceback(exc))


def _traceback(exc: BaseException) -> str:
    """Rendered at once: the framework may drop the exception's frames once it is handled."""
    return "".join(traceback.format_exception(exc)).rstrip()


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def _make_access() -> None:
    global _access
    _access = structlog.get_logger().bind(logger="api.access")


on_configure(_make_access)


# ------------------------------------------------------------------ the middleware


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _WELL_FORMED_ID.fullmatch(text):
                return text
            break
    return str(uuid.uuid4())


class RequestLog:
    """ASGI middleware, outermost: the request id (header in, header out, in the context of every log
    line written meanwhile) and one ``request`` line per request. An exception no handler turned into
    a response is answered here as a 500 problem carrying the request id, logged with its traceback,
    and not re-raised (so the server does not log it a second time, without the id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status: int | None = None
        notes: dict[str, Any] = {}
        notes_token = _notes.set(notes)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            notes["exception"] = _traceback(exc)
            if status is not None:  # the response had begun: nothing else can be sent
                raise
            from api.problems import Problem  # here: api.problems records failures through this module

            problem = Problem(500, "internal_error", "Internal error", f"see the server log ({request_id})")
            await problem.response(scope.get("path"))(scope, receive, send_with_id)
        finally:
            self._log(scope, status, started, notes)
            structlog.contextvars.unbind_contextvars("request_id")
            _notes.reset(notes_token)

    @staticmethod
    def _log(scope: Scope, status: int | None, started: float, notes: dict[str, Any]) -> None:
        fields: dict[str, Any] = {
            "method": scope.get("method"),
            "path": scope.get("path"),
            "route": getattr(scope.get("route"), "path", None),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "pid": _PID,  # which of several gateway workers served it (ebl serve --workers)
        }
        ops = notes.pop("operation_ids", None) or []
        path_op = (scope.get("path_params") or {}).get("operation_id")
        if isinstance(path_op, str) and path_op not in ops:
            ops.insert(0, path_op)
        if len(ops) == 1:
            fields["operation_id"] = ops[0]
        elif ops:
            fields["operation_ids"] = ops
        fields.update(notes)
        if _access is None:
            return
        if status is None or status >= 500:
            _access.error("request", **fields)
        else:
            _access.info("request", **fields)
