"""The Hardhat 3 node (EDR, an EVM implementation independent of anvil's revm-based one) as a test
ledger: ``hardhat node`` run under Node 22 from the npm ``node`` package, offline, bound to 127.0.0.1
on a free port, with the configuration in ``tests/support/hardhat/hardhat.config.js`` (chain id 31337,
automine, a 1e9 block gas limit, reverted transactions mined as on a standard node).

:class:`HardhatNode` has the part of :class:`~registry.chain.anvil.AnvilProcess`'s interface that tests
use on a chain they did not start the registry with (``url``, ``pid``, ``start``, ``stop``, ``kill``,
context manager), so the fixtures pick one or the other (:mod:`tests.support.chains`,
``EBL_TEST_LEDGER=hardhat``; ``make test-hardhat``).

The node is started directly (``node .../hardhat/dist/src/cli.js``, not through ``npx``), in its own
session, so the pid held is the node's own and :meth:`HardhatNode.stop` stops exactly it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from registry.chain.anvil import free_port
from registry.chain.build import project_root
from registry.errors import ToolchainError

__all__ = ["CHAIN_ID", "HardhatNode"]

CHAIN_ID = 31337
"""The chain id the Hardhat node runs with (as the embedded anvil's)."""

CONFIG = Path(__file__).resolve().parent / "hardhat" / "hardhat.config.js"


class HardhatNode:
    """A running Hardhat node; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, *, port: int | None = None, root: Path | None = None) -> None:
        self._root = root or project_root()
        self.port: int = port or 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def url(self) -> str:
        """HTTP JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The node's own process id while running."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 60.0) -> HardhatNode:
        """Start the node and wait until it answers JSON-RPC; its request log is switched off, since the
        node logs every call to stdout otherwise.

        Raises:
            ToolchainError: when Node 22 or Hardhat is missing, the node exits, or it does not answer
                within ``timeout``.
        """
        if self._proc is not None:
            return self
        node = self._root / "node_modules" / "node" / "bin" / "node"
        cli = self._root / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
        for path in (node, cli):
            if not path.exists():
                raise ToolchainError(f"{path} is missing: run `make setup`")
        self.port = self.port or free_port()
        args = [str(node), str(cli), "--config", str(CONFIG), "node"]
        args += ["--hostname", "127.0.0.1", "--port", str(self.port), "--chain-id", str(CHAIN_ID)]
        env = {
            **os.environ,
            "HARDHAT_DISABLE_TELEMETRY": "true",  # offline: no prompt, no upload
            "CI": "true",  # no banner fetched from the network
            "NO_COLOR": "1",
        }
        log_dir = self._root / "build" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = log_dir / f"hardhat-{self.port}.log"
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                args,
                cwd=self._root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise ToolchainError(f"the Hardhat node exited with {code}: {self._tail_log()}")
            if self._call("eth_chainId", []) == hex(CHAIN_ID):
                self._call("hardhat_setLoggingEnabled", [False])
                return self
            time.sleep(0.1)
        self.stop()
        raise ToolchainError(f"the Hardhat node did not answer on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node by its own pid (SIGTERM, SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would (the Hardhat node keeps no state: its chain is gone)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def _call(self, method: str, params: list[object]) -> object:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:
                return json.loads(resp.read()).get("result")
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def _tail_log(self) -> str:
        if self._log_path and self._log_path.exists():
            return self._log_path.read_text(errors="replace")[-2000:]
        return ""

    def __enter__(self) -> HardhatNode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
