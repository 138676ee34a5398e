"""A carrier's callback endpoints for the DCSA tests: a real HTTP server on loopback that records every
request (path, JSON body, headers) and answers ``204`` — or a chosen status for the first N requests,
to provoke the outbox's retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Callback", "CallbackReceiver", "callback_receiver"]


@dataclass(frozen=True)
class Callback:
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class CallbackReceiver:
    url: str
    received: list[Callback] = field(default_factory=list)
    fail_next: int = 0
    """Answer the next N requests with ``fail_status`` (and record them under ``refused``)."""
    fail_status: int = 503
    refused: list[Callback] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, callback: Callback) -> int:
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused.append(callback)
                self._changed.notify_all()
                return self.fail_status
            self.received.append(callback)
            self._changed.notify_all()
            return 204

    def wait_for(self, match: Callable[[Callback], bool], timeout: float = 90.0) -> Callback:
        """The first received callback that matches (waiting at most ``timeout`` seconds for it)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((c for c in self.received if match(c)), None), timeout
            )
        if found is None:
            raise AssertionError(f"no matching callback within {timeout} s; received {self.received}")
        return found

    def matching(self, match: Callable[[Callback], bool]) -> list[Callback]:
        with self._changed:
            return [c for c in self.received if match(c)]


@contextmanager
def callback_receiver(port: int = 0) -> Iterator[CallbackReceiver]:
    receiver: CallbackReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            status = receiver.record(Callback(self.path, body, dict(self.headers.items())))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver = CallbackReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, name="dcsa-callback-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
