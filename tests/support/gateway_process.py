"""`make run`'s processes for black-box tests: ``python -m scripts.serve`` as a subprocess in its own
data folder, on fixed ports, with every run's stdout and stderr captured to files.

The gateway and its embedded anvil can each be killed with SIGKILL, as a crash would; the gateway is
started again on the same data folder and ports (its anvil, when only the chain was killed, is
restarted by the running gateway itself). Every process this starts is stopped by :meth:`close`,
each by its own pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from registry.chain.anvil import anvils_serving, free_port
from registry.chain.build import project_root
from scripts.serve import parse_credentials

__all__ = ["GatewayProcess"]

WITNESS_HISTORY = {"EBL_CHAIN_TX_KEPT": str(10**9)}
"""Extra environment for a test that checks the registry against the chain's own logs, an independent
witness: the embedded anvil then keeps every block's transactions and logs (by default it forgets those
older than ``EBL_CHAIN_TX_KEPT`` blocks, and the registry's archive, which is not independent, keeps
them; that path is tested in ``tests/registry/store/test_archive_after_pruning.py``)."""


@dataclass
class GatewayProcess:
    """One data folder served by ``scripts.serve``, started and killed as often as a test wants."""

    root: Path
    block_time: float = 0.5
    port: int = field(default_factory=free_port)
    chain_port: int = field(default_factory=free_port)
    credentials: dict[str, dict[str, str]] | None = None
    runs: int = 0
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment of every run (``EBL_PLATFORM_CODE`` ...)."""
    workers: int = 1
    """Gateway worker processes (``--workers``; more than 1 needs ``EBL_DATABASE_URL`` in :attr:`env`)."""
    relative_data_dir: bool = False
    """Run from ``root`` with ``EBL_DATA_DIR=data``, as ``make run`` does in a checkout (else from the
    project root with the absolute data folder)."""

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def chain_url(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def output_files(self) -> list[Path]:
        """Every captured stdout / stderr of every run, plus the embedded chain's logs."""
        files = sorted(self.root.glob("serve-*.out")) + sorted(self.root.glob("serve-*.err"))
        return files + sorted((self.data_dir / "chain" / "logs").glob("*.log"))

    def start(self, timeout: float = 120.0) -> None:
        """Start ``scripts.serve`` and wait until ``/readyz`` answers 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.runs += 1
        env = {
            **os.environ,
            "EBL_DATA_DIR": "data" if self.relative_data_dir else str(self.data_dir),
            "EBL_PORT": str(self.port),
            "EBL_CHAIN_PORT": str(self.chain_port),
            "EBL_CHAIN_BLOCK_TIME": str(self.block_time),
            "EBL_KEYSTORE_KDF_N": "16384",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        if self.relative_data_dir:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project_root()), env.get("PYTHONPATH")]))
        out = self.root / f"serve-{self.runs:03d}.out"
        err = self.root / f"serve-{self.runs:03d}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "scripts.serve", "--workers", str(self.workers)],
                cwd=self.root if self.relative_data_dir else project_root(),
                env=env,
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}: {err.read_text()[-3000:]}")
            if self.credentials is None:
                self.credentials = parse_credentials(out.read_text())
            if self.credentials is not None and self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"gateway not ready within {timeout}s: {err.read_text()[-3000:]}")

    def ready(self) -> bool:
        """``/readyz`` answers 200 (chain and database up, index not lagging)."""
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway not ready again within {timeout}s")
            time.sleep(0.2)

    def anvil_pid(self) -> int | None:
        """The embedded anvil's pid, from the pidfile the runtime keeps beside the chain state."""
        try:
            return int(json.loads((self.data_dir / "chain" / "anvil.pid").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    def kill_gateway(self) -> None:
        """SIGKILL the serve process (its anvil keeps running, orphaned, as after a real crash)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def kill_chain(self, timeout: float = 30.0) -> int:
        """SIGKILL the embedded anvil (waiting for one to be running, if it is just being restarted);
        returns its pid."""
        deadline = time.monotonic() + timeout
        while True:
            pid = self.anvil_pid()
            if pid is not None and _is_anvil(pid):
                os.kill(pid, signal.SIGKILL)
                return pid
            if time.monotonic() > deadline:
                raise RuntimeError(f"no running anvil in {self.data_dir}")
            time.sleep(0.1)

    def tear_state_dump(self) -> None:
        """Cut the chain's state file in half, as a chain killed while writing its dump leaves it."""
        state = self.data_dir / "chain" / "state.json"
        state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])

    def stop(self, timeout: float = 90.0) -> int | None:
        """SIGTERM the serve process and wait (it stops its anvil, which dumps its state); its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            return None

    def close(self) -> None:
        """Stop the gateway and any anvil of this data folder that is still running."""
        self.stop()
        for pid in anvils_serving(self.data_dir / "chain" / "state.json"):
            os.kill(pid, signal.SIGKILL)

    def client(self, token: str, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, **kw)


def _is_anvil(pid: int) -> bool:
    try:
        return Path(psutil.Process(pid).cmdline()[0]).name == "anvil"
    except (psutil.Error, IndexError):
        return False
