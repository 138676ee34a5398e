"""A JSON-RPC proxy that behaves as a standard EVM node does towards development methods: it forwards
``eth_*``, ``net_*`` and ``web3_*`` calls to a real node and answers every other method ``-32601 method
not found`` (what Besu answers for ``anvil_setBalance``), recording each method it was asked for.

It stands between the registry and anvil instead of a hook in the product, so a test sees every call
the registry really sends, batches included, whichever module sends it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from registry.chain.anvil import free_port

__all__ = ["STANDARD_PREFIXES", "StandardRpcProxy"]

STANDARD_PREFIXES = ("eth_", "net_", "web3_")
"""Namespaces of the Ethereum JSON-RPC specification that every client serves."""


class StandardRpcProxy:
    """Serve on a free loopback port; use as a context manager. ``seen`` counts every method asked for,
    ``refused`` those answered "method not found"."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)
        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StandardRpcProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _answer(self, body: Any) -> Any:
        calls = body if isinstance(body, list) else [body]
        forwarded, answers = [], {}
        with self._lock:
            for call in calls:
                method = str(call.get("method", ""))
                self.seen[method] += 1
                if method.startswith(STANDARD_PREFIXES):
                    forwarded.append(call)
                else:
                    self.refused[method] += 1
                    answers[id(call)] = {
                        "jsonrpc": "2.0",
                        "id": call.get("id"),
                        "error": {"code": -32601, "message": "Method not found"},
                    }
        replies: list[Any] = []
        if forwarded:
            reply = self._client.post(self.upstream, json=forwarded).json()
            replies = reply if isinstance(reply, list) else [reply]
        by_id = {r.get("id"): r for r in replies}
        out = [answers.get(id(c)) or by_id[c.get("id")] for c in calls]
        return out if isinstance(body, list) else out[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                data = json.dumps(proxy._answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
