"""Serve the gateway (any ASGI app) with uvicorn in a background thread of this process.

``make run`` serves in the foreground (``scripts/serve.py``); this is for embedding the gateway in a
process that does other work: the test suites, the read benchmark, a host application.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn

from registry.chain.anvil import free_port
from registry.errors import ConfigurationError


@dataclass
class BackgroundServer:
    """A running uvicorn server and its thread; :meth:`stop` (or leaving the ``with`` block) ends it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    start_timeout: float = 30.0,
    log_level: str = "warning",
    **config: Any,
) -> BackgroundServer:
    """Start ``app`` on ``host:port`` (a free port by default) and return once it accepts connections.

    Extra keyword arguments go to :class:`uvicorn.Config` (e.g. ``access_log=False``).

    Raises:
        ConfigurationError: the server did not start within ``start_timeout`` seconds.
    """
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, **config))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise ConfigurationError(f"the gateway did not start on {host}:{port}")
        time.sleep(0.02)
    return BackgroundServer(f"http://{host}:{port}", server, thread)
