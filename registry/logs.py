"""The process's log: one redacted JSON object per line on stderr, written with structlog.

Why structlog (and not python-json-logger on the stdlib): its processor chain is where redaction
belongs — one :func:`redact` step runs on every event before it is rendered, structlog's own and those
of the stdlib loggers (uvicorn, the registry's own ``logging`` calls) alike, which structlog's
``ProcessorFormatter`` feeds through the same chain; tracebacks are rendered into the same JSON line.

Never logged: API tokens (``ebl_<id>.<secret>``: the secret is replaced, the id kept), ``Bearer``
credentials, and any field whose name says token, secret, passphrase, password, private key,
mnemonic, cookie or authorization.

The gateway's request lines (``api.logs``) are written through the same set-up: it subscribes with
:func:`on_configure` to be told when the log is configured.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, WrappedLogger

__all__ = ["REDACTED", "configure_logging", "on_configure", "redact"]

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(
    r"(?i)(token|secret|pass(word|phrase)?|private[_-]?key|mnemonic|cookie|authori[sz]ation|api[_-]?key)"
)
_TOKEN = re.compile(r"\b(ebl_[0-9A-Za-z]+)\.[A-Za-z0-9_\-]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")

_subscribers: list[Callable[[], None]] = []
_configured = False


def on_configure(subscriber: Callable[[], None]) -> None:
    """Call ``subscriber`` after every :func:`configure_logging` (at once, if it already ran)."""
    _subscribers.append(subscriber)
    if _configured:
        subscriber()


# ------------------------------------------------------------------ redaction


def _scrub_text(text: str) -> str:
    if "ebl_" in text:  # substring tests first: the regular expressions cost more than the rest
        text = _TOKEN.sub(rf"\1.{REDACTED}", text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _secret_name(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


@functools.lru_cache(maxsize=1024)
def _secret_name(key: object) -> bool:
    return isinstance(key, str) and key != "credential_id" and bool(_SECRET_NAME.search(key))


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: no token, key or passphrase leaves the process in a log line.

    Fields named like a secret are replaced whole; in every string (the message, a rendered
    traceback, nested values) API token secrets and Bearer credentials are replaced.
    """
    out: EventDict = {}
    for key, value in event_dict.items():
        if _secret_name(key):
            out[key] = REDACTED
        elif type(value) is str:
            out[key] = _scrub_text(value)
        elif isinstance(value, dict | list | tuple):
            out[key] = _scrub(value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------ set-up


def _json_line(stream: TextIO, level: int) -> dict[str, Any]:
    """structlog's own pipeline, straight to ``stream``: four times cheaper per line than a round trip
    through the stdlib's logging (measured 38 against 136 microseconds), which matters at one line per
    request."""
    return {
        "processors": [
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(default=str),
        ],
        "logger_factory": structlog.WriteLoggerFactory(file=stream),
        "wrapper_class": structlog.make_filtering_bound_logger(level),
        "cache_logger_on_first_use": False,
    }


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record of the process as redacted JSON lines to ``stream`` (stderr by default):
    structlog's (the request lines) directly, the stdlib's (uvicorn, the registry, libraries) through
    structlog's ``ProcessorFormatter`` and the same redaction. Idempotent."""
    global _configured
    out = stream or sys.stderr
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    structlog.configure(**_json_line(out, numeric))

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.set_name("ebl-json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ebl-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # uvicorn's loggers log through the root handler; its access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    _configured = True
    for subscriber in _subscribers:
        subscriber()
