"""Request bodies: refused early when oversized, not UTF-8, too deep or repeating a key, and parsed once.

:class:`BodyGuard` parses every JSON body strictly before any route sees it and leaves the value in the
request's state, so a route that reads the raw body (the banks' verification hashes the document exactly
as presented) gets the parsed value with :func:`json_body` instead of parsing and depth-scanning it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request

from api.problems import Problem, problem_for_duplicate_key
from registry.documents import MAX_DEPTH, json_nesting_depth, parse_json_value
from registry.errors import DuplicateKeyError

__all__ = ["PARSED_BODY", "BodyGuard", "JsonBody", "Message", "Receive", "Scope", "Send", "json_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PARSED_BODY: Final = "parsed_json_body"
"""Key of the strictly parsed body in the ASGI scope's ``state``."""

_NOT_STRICT: Final[Any] = object()


def _parse(text: str) -> Any:
    """The body parsed strictly, or :data:`_NOT_STRICT` when it is not JSON or carries NaN/Infinity
    (the route answers those as before, so only its repeated keys are looked for here).

    Raises:
        DuplicateKeyError: an object of the body repeats a key.
    """
    with suppress(ValueError):
        return parse_json_value(text, constants=False)
    with suppress(ValueError):  # not JSON at all
        parse_json_value(text)
    return _NOT_STRICT


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A request body as received, and its value if :class:`BodyGuard` parsed it (else ``None``)."""

    raw: bytes
    parsed: Any


async def json_body(request: Request) -> JsonBody:
    """The raw body and the value :class:`BodyGuard` parsed from it (a FastAPI dependency)."""
    return JsonBody(await request.body(), request.scope.get("state", {}).get(PARSED_BODY))


class BodyGuard:
    """ASGI middleware: refuse oversized, non-UTF-8, too deeply nested and duplicate-key JSON bodies
    before any route parses them."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._refuse(
                scope,
                send,
                Problem(
                    413, "payload_too_large", "Request body too large", f"at most {self.max_body_bytes} bytes"
                ),
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._refuse(
                    scope,
                    send,
                    Problem(
                        413,
                        "payload_too_large",
                        "Request body too large",
                        f"at most {self.max_body_bytes} bytes",
                    ),
                )
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                await self._refuse(scope, send, Problem(400, "invalid_encoding", "Body is not UTF-8"))
                return
            if json_nesting_depth(text) > MAX_DEPTH:
                await self._refuse(
                    scope,
                    send,
                    Problem(400, "too_deep", "JSON nested too deeply", f"at most {MAX_DEPTH} levels"),
                )
                return
            try:  # I-JSON: no key twice in one object, in any body (FastAPI's parser keeps the last)
                parsed = _parse(text)
            except DuplicateKeyError as exc:
                await self._refuse(scope, send, problem_for_duplicate_key(exc))
                return
            if parsed is not _NOT_STRICT:  # parsed once: routes that read the raw body reuse it
                scope.setdefault("state", {})[PARSED_BODY] = parsed
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, problem: Problem) -> None:
        response = problem.response(scope.get("path"))
        await response(scope, _empty, send)


async def _empty() -> Message:
    return {"type": "http.disconnect"}
