"""The embedded local chain: anvil from ``node_modules``, bound to 127.0.0.1 on a free port.

anvil's automine slows as the chain grows, so the registry runs it with interval mining
(``block_time``) and a raised gas limit; tests use automine for immediate receipts. With a
``state_path`` the chain is loaded from and periodically dumped to the data directory, so eBLs survive
a restart; what was mined after the last dump is re-submitted from the operation journal.

The process is started directly (not through the npm ``bin.mjs`` wrapper), so the pid we hold is
anvil's own and :meth:`AnvilProcess.stop` stops exactly it.

Crash safety, with a ``state_path``:

* anvil runs in its own session, so a ``kill -9`` of the registry process leaves it running (an
  orphan that keeps the chain and keeps dumping it). The state file is always named by its resolved
  absolute path, and anvil's pid and start time (the kernel's process create time) are recorded in
  ``anvil.pid`` beside it as soon as it is spawned. The next :meth:`AnvilProcess.start` on the same
  state file stops that leftover anvil — only if a process with that pid *and* that start time is
  still an anvil serving this very file, so a recycled pid is never touched — and any other anvil
  whose ``--state`` argument, resolved against that anvil's own working directory, is this file (one
  spawned just before its owner died, or by a version that passed a relative path). Never a string
  match: an anvil of ``data/chain/state.json`` in another folder is another registry's chain. It is
  stopped with SIGTERM, so it dumps its state first. The start then refuses while anything else still
  listens on the port (the health check would otherwise be answered by the other process).
  Whether an anvil on this state file is a leftover at all is for the caller to know: the runtime
  holds its data folder's lock (:mod:`registry.data_lock`), so a live owner's chain never gets here.
* anvil writes its dumps in place, so a ``kill -9`` in the middle of a dump leaves a truncated file
  that anvil refuses to load. :meth:`AnvilProcess.backup_state` copies the state file to
  ``state.json.bak`` (atomically, only when it parses); :meth:`AnvilProcess.start` loads the backup
  when the state file does not parse. Either way the chain may come back a few blocks short (from
  the backup, up to ``registry.runtime.BACKUP_EVERY`` seconds): :attr:`AnvilProcess.loaded_state_time`
  says how old the loaded state is, and the operation journal resubmits what was lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import psutil

from registry.chain.build import project_root
from registry.errors import ToolchainError

__all__ = ["AnvilConfig", "AnvilProcess", "anvil_binary", "anvils_serving", "free_port"]

log = logging.getLogger(__name__)

_PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
}


def anvil_binary(root: Path | None = None) -> Path:
    """Path of the native anvil shipped by the ``@foundry-rs/anvil`` npm package."""
    suffix = _PLATFORMS.get((platform.system(), platform.machine()))
    if suffix is None:
        raise ToolchainError(f"no anvil build for {platform.system()} {platform.machine()}")
    path = (root or project_root()) / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / "anvil"
    if not path.exists():
        raise ToolchainError(f"anvil not found at {path}: run `make setup`")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LAYOUT_HEAD = b'{"block":'
_COMPLETE_TAIL = b'"historical_states":null}'
"""How anvil's state dump begins and ends (its first and last top-level keys). A dump torn by a crash,
or still being written, is a prefix of a dump."""


def _complete_dump(path: Path) -> bool:
    """Whether a state dump is complete, from its first and last bytes in anvil's layout; a file in
    another layout (another anvil version) is parsed instead."""
    with path.open("rb") as fh:
        head = fh.read(len(_LAYOUT_HEAD))
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - 64))
        tail = fh.read().rstrip()
        if head == _LAYOUT_HEAD:
            return tail.endswith(_COMPLETE_TAIL)
        fh.seek(0)
        try:
            json.load(fh)
        except ValueError:
            return False
    return True


@dataclass(frozen=True)
class AnvilConfig:
    """How to run anvil.

    Attributes:
        chain_id: EIP-155 chain id (also in every EIP-712 domain).
        block_time: seconds between blocks; None = automine (one block per transaction).
        gas_limit: block gas limit; raised so one block carries thousands of title actions.
        state_path: file to load state from and dump it to; None = in-memory only.
        state_interval: seconds between state dumps when ``state_path`` is set.
        code_size_limit: None keeps the EIP-170 limit that production chains enforce.
        port: None picks a free port.
    """

    chain_id: int = 31337
    block_time: float | None = None
    gas_limit: int = 1_000_000_000
    state_path: Path | None = None
    state_interval: int = 1
    port: int | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)


class AnvilProcess:
    """A running anvil; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, config: AnvilConfig | None = None, *, root: Path | None = None) -> None:
        config = config or AnvilConfig()
        if config.state_path is not None:  # one name for the file, whatever the working directory
            config = replace(config, state_path=config.state_path.resolve())
        self.config = config
        self._root = root or project_root()
        self._proc: subprocess.Popen[bytes] | None = None
        self.port: int = self.config.port or 0
        self._log_path: Path | None = None
        self.loaded_state_time: float | None = None
        """Modification time (unix seconds) of the state file the running anvil loaded; None without one."""

    @property
    def url(self) -> str:
        """HTTP JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """anvil's own process id while running."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 30.0) -> AnvilProcess:
        """Start anvil and wait until it answers JSON-RPC.

        Raises:
            ToolchainError: when anvil is missing, exits, or does not answer within ``timeout``.
        """
        if self._proc is not None:
            return self
        cfg = self.config
        self.port = self.port or cfg.port or free_port()
        if cfg.state_path is not None:
            self._stop_leftover()
            self.loaded_state_time = self._usable_state()
        _require_free_port(self.port)
        args = [
            str(anvil_binary(self._root)),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(cfg.chain_id),
            "--gas-limit",
            str(cfg.gas_limit),
            "--accounts",
            "2",
            "--silent",
        ]
        if cfg.block_time is not None:
            args += ["--block-time", str(cfg.block_time)]
        if cfg.state_path is not None:
            cfg.state_path.parent.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(cfg.state_path), "--state-interval", str(cfg.state_interval)]
        args += list(cfg.extra_args)
        log_dir = (cfg.state_path.parent if cfg.state_path else self._root / "build") / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = log_dir / f"anvil-{self.port}.log"
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self._write_pidfile()  # at once: if we die while it starts, the next start still finds it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ToolchainError(f"anvil exited with {self._proc.returncode}: {self._tail_log()}")
            if self._answers():
                self._write_pidfile()
                self.backup_state()
                return self
            time.sleep(0.05)
        self.stop()
        raise ToolchainError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop anvil by its own pid (SIGTERM lets it dump state; SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            self._remove_pidfile(proc)
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        self._remove_pidfile(proc)

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests of the journal's resubmission use it)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self._remove_pidfile(proc)

    # -------------------------------------------------------------- crash safety

    @property
    def exit_code(self) -> int | None:
        """anvil's exit status if the process we started has died (a crash: stop() clears it); else None."""
        proc = self._proc
        return proc.poll() if proc is not None else None

    def restart(self, timeout: float = 30.0) -> AnvilProcess:
        """Start anvil again on the same port after it died, from its persisted state."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            self._proc = proc
            self.stop()
        return self.start(timeout)

    @property
    def pidfile(self) -> Path | None:
        """Where the running anvil's pid is recorded (beside the state file); None without a state file."""
        state = self.config.state_path
        return state.parent / "anvil.pid" if state is not None else None

    @property
    def backup_path(self) -> Path | None:
        """The last state dump known to parse (see :meth:`backup_state`)."""
        state = self.config.state_path
        return state.with_name(state.name + ".bak") if state is not None else None

    def backup_state(self) -> bool:
        """Copy the state file to :attr:`backup_path` if it is a complete dump (atomic replace, mtime kept).

        A dump is complete when it begins and ends with anvil's first and last top-level keys and did not
        change while it was copied; that check reads a few bytes, where parsing a dump of hundreds of
        megabytes took gigabytes of memory and seconds of CPU. A file in another layout (another anvil
        version) is parsed instead.

        Returns:
            True when a backup was written.
        """
        state, backup = self.config.state_path, self.backup_path
        if state is None or backup is None:
            return False
        tmp = backup.with_name(backup.name + ".tmp")
        try:
            before = state.stat()
            if backup.exists() and backup.stat().st_mtime_ns >= before.st_mtime_ns:
                return False
            if not _complete_dump(state):
                return False  # caught mid-dump: the next round copies a complete one
            with state.open("rb") as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            after = state.stat()
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        if (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, before.st_size):
            tmp.unlink(missing_ok=True)  # anvil dumped again while we copied: try next round
            return False
        os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(tmp, backup)
        return True

    def wait_persisted(self, timeout: float = 15.0) -> bool:
        """Block until anvil has dumped its state twice from now (so the dump holds every block mined
        before the call), then back that dump up; False without a state file or when ``timeout``
        passes first."""
        state = self.config.state_path
        if state is None or self._proc is None:
            return False
        dumps, last = 0, _mtime_ns(state)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = _mtime_ns(state)
            if now != last:
                dumps, last = dumps + 1, now
                if dumps >= 2:
                    time.sleep(0.2)  # let the dump finish writing: a torn one is not backed up
                    self.backup_state()
                    return True
        return False

    def _usable_state(self) -> float | None:
        """Make sure the state file anvil will load is complete (else put the last good backup in its place);
        returns its modification time, or None when the chain starts empty."""
        state, backup = self.config.state_path, self.backup_path
        assert state is not None and backup is not None
        if not state.exists():
            if backup.exists():  # pragma: no cover - only if someone deleted the state file
                log.warning("chain state %s is missing; loading the backup %s", state, backup)
                os.replace(backup, state)
                return state.stat().st_mtime
            return None
        if not _complete_dump(state):
            aside = state.with_name(f"{state.name}.corrupt-{int(time.time())}")
            os.replace(state, aside)
            if not backup.exists():
                raise ToolchainError(
                    f"chain state {state} does not parse (a crash during a dump?) and there is no backup; "
                    f"it was moved to {aside}"
                ) from None
            log.warning(
                "chain state %s does not parse (a crash during a dump?); moved to %s, loading the backup "
                "%s: what the chain lost since, the operation journal resubmits",
                state,
                aside,
                backup,
            )
            with contextlib.suppress(OSError):
                shutil.copyfile(backup, state)
                mtime = backup.stat().st_mtime_ns
                os.utime(state, ns=(mtime, mtime))
        return state.stat().st_mtime

    def _write_pidfile(self) -> None:
        path = self.pidfile
        if path is None or self._proc is None:
            return
        record: dict[str, object] = {
            "pid": self._proc.pid,
            "createTime": _create_time(self._proc.pid),
            "port": self.port,
            "state": str(self.config.state_path),
        }
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)

    def _remove_pidfile(self, proc: subprocess.Popen[bytes] | None) -> None:
        path = self.pidfile
        if path is None or proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == proc.pid:
                path.unlink()

    def _stop_leftover(self, timeout: float = 15.0) -> None:
        """Stop every anvil left running on our state file by a process that died (kill -9): the one
        its pidfile names (same pid and start time) and any other whose ``--state`` resolves to this
        file (one started just before its owner died may not have been recorded)."""
        state = self.config.state_path
        path = self.pidfile
        assert state is not None and path is not None
        leftovers = {p.pid: p for p in _anvil_processes(state)}
        recorded = _recorded_anvil(path)
        if recorded is not None and recorded.pid not in leftovers and _serves(recorded, state):
            leftovers[recorded.pid] = recorded
        for proc in leftovers.values():
            log.warning(
                "stopping anvil pid %d left running on %s by a previous registry process", proc.pid, state
            )
            with contextlib.suppress(psutil.Error):
                proc.terminate()  # SIGTERM: anvil dumps its state first
            deadline = time.monotonic() + timeout
            while _serves(proc, state):
                if time.monotonic() > deadline:
                    with contextlib.suppress(psutil.Error):
                        proc.kill()
                    deadline = time.monotonic() + timeout
                time.sleep(0.05)
        path.unlink(missing_ok=True)

    def _answers(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=1) as resp:
                return bool(json.loads(resp.read()).get("result"))
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def _tail_log(self) -> str:
        if self._log_path and self._log_path.exists():
            return self._log_path.read_text(errors="replace")[-2000:]
        return ""

    def __enter__(self) -> AnvilProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


_CREATE_TIME_SLACK = 0.05
"""Seconds two readings of one process's create time may differ by (it is derived from the boot time)."""


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def _recorded_anvil(pidfile: Path) -> psutil.Process | None:
    """The process the pidfile names, if one with that pid and that start time still runs."""
    try:
        record = json.loads(pidfile.read_text())
        pid, started = int(record["pid"]), float(record["createTime"])
        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) > _CREATE_TIME_SLACK:
            return None  # the pid was recycled: another process, whatever it is
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        return None  # no pidfile, one without a start time (an older version), or the process is gone
    return proc


def _state_argument(proc: psutil.Process) -> Path | None:
    """The state file an anvil process serves, resolved against its own working directory; None for a
    process that is not a live anvil with ``--state`` (or that we may not inspect)."""
    try:
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None  # exited; only its parent's wait is missing
        argv = proc.cmdline()
        if not argv or Path(argv[0]).name != "anvil":
            return None
        value = next(
            (
                nxt if arg == "--state" else arg.partition("=")[2]
                for arg, nxt in zip(argv, [*argv[1:], ""], strict=True)
                if arg == "--state" or arg.startswith("--state=")
            ),
            None,
        )
        if not value:
            return None
        path = Path(value)
        return (path if path.is_absolute() else Path(proc.cwd()) / path).resolve()
    except (psutil.Error, OSError):
        return None


def _serves(proc: psutil.Process, state_path: Path) -> bool:
    """True while ``proc`` is a live anvil whose state file is ``state_path`` (resolved)."""
    return _state_argument(proc) == state_path


def _anvil_processes(state_path: Path) -> list[psutil.Process]:
    wanted = state_path.resolve()
    return [proc for proc in psutil.process_iter() if _serves(proc, wanted)]


def anvils_serving(state_path: Path) -> list[int]:
    """Pids of the live anvil processes whose state file is ``state_path``: the same file, by resolved
    absolute path (each anvil's relative ``--state`` resolved against its own working directory)."""
    return sorted(p.pid for p in _anvil_processes(state_path))


PORT_WAIT = 10.0
"""Seconds a start waits for its port to be released before giving up."""


def _require_free_port(port: int) -> None:
    """Wait (a stopped anvil may take a moment to close its socket) until nothing listens on ``port``.

    Raises:
        ToolchainError: another process keeps listening there; anvil would fail to bind while the
            other one answered our health checks in its place.
    """
    deadline = time.monotonic() + PORT_WAIT
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise ToolchainError(f"port {port} is in use by another process") from None
        time.sleep(0.1)
