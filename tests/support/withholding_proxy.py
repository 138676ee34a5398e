"""A small HTTP proxy for crash tests: it forwards every request to one upstream gateway, records what
passed, and can withhold one chosen request, either before forwarding it (the upstream never sees it)
or after (the upstream answered, the caller never hears it), until the test lets it go. A withheld
request is then dropped: its connection closes without an answer, as a network failure would.

It stands between two registries instead of a hook in the product: the sender meets a slow or lost
answer the way it would meet one on a real network.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import httpx

from registry.chain.anvil import free_port

__all__ = ["Seen", "WithholdingProxy"]

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass(frozen=True)
class Seen:
    """One request that reached the proxy, and the upstream's status (None: not forwarded / failed)."""

    method: str
    path: str
    body: bytes
    status: int | None


@dataclass
class _Rule:
    method: str
    path_contains: str
    when: Literal["before", "during", "after"]
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    used: bool = False


class WithholdingProxy:
    """``url`` forwards to ``upstream``; :meth:`withhold` arms one rule (used once)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.seen: list[Seen] = []
        self._rule: _Rule | None = None
        self._guard = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def withhold(self, method: str, path_contains: str, when: Literal["before", "during", "after"]) -> None:
        """Withhold the next ``method`` request whose path contains ``path_contains`` (``during``: forward
        it at once and tell :meth:`wait_withheld` so, but hold back its answer, should the upstream answer
        before the test kills it, so that the caller must ask again)."""
        with self._guard:
            self._rule = _Rule(method, path_contains, when)

    def wait_withheld(self, timeout: float = 120.0) -> None:
        """Wait until the armed request arrived (and, ``after``, was answered upstream)."""
        assert self._rule is not None
        if not self._rule.reached.wait(timeout):
            raise AssertionError(f"no {self._rule.method} {self._rule.path_contains} within {timeout}s")

    def release(self) -> None:
        """Drop the withheld request (its caller sees the connection close)."""
        if self._rule is not None:
            self._rule.released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _take(self, method: str, path: str) -> _Rule | None:
        with self._guard:
            rule = self._rule
            if rule is None or rule.used or rule.method != method or rule.path_contains not in path:
                return None
            rule.used = True
            return rule

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._take(self.command, self.path)
                if rule is not None and rule.when == "before":
                    proxy.seen.append(Seen(self.command, self.path, body, None))
                    rule.reached.set()
                    rule.released.wait()
                    self.close_connection = True
                    return
                if rule is not None and rule.when == "during":
                    rule.reached.set()  # forwarded now; its answer (if B answers before the kill) is held
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                try:
                    answer = httpx.request(
                        self.command, proxy.upstream + self.path, content=body, headers=headers, timeout=60
                    )
                except httpx.HTTPError:
                    proxy.seen.append(Seen(self.command, self.path, body, None))
                    if rule is not None:
                        rule.reached.set()
                    self.send_error(502, "upstream unreachable")
                    return
                proxy.seen.append(Seen(self.command, self.path, body, answer.status_code))
                if rule is not None:
                    rule.reached.set()
                    rule.released.wait()
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        return Handler
