"""The embedded local chain: anvil from ``node_modules``, bound to 127.0.0.1 on a free port.

anvil's automine slows as the chain grows, so the registry runs it with on-demand mining
(``block_time``, ``on_demand``) and a raised gas limit; tests use automine for immediate receipts. With a
``state_path`` the chain is loaded from and periodically dumped to the data directory, so eBLs survive
a restart; what was mined after the last dump is re-submitted from the operation journal.

With on-demand mining the registry dumps the state itself, never while a block is mined
(:mod:`registry.chain.anvil_persist`): every dump is consistent, its state never ahead of its blocks.
Otherwise (interval mining, automine) anvil dumps on its own timer (``--state-interval``) and on exit;
those dumps can hold a block's state without the block (see that module).

The process is started directly (not through the npm ``bin.mjs`` wrapper), so the pid we hold is
anvil's own and :meth:`AnvilProcess.stop` stops exactly it.

Crash safety, with a ``state_path``:

* an anvil left running by a registry process that died (``kill -9``) is stopped by the next
  :meth:`AnvilProcess.start` on the same state file, found by its pidfile or by its ``--state``
  argument and never mistaken for a stranger (:mod:`registry.chain.anvil_leftovers`). The start then
  refuses while anything else still listens on the port (the health check would otherwise be answered
  by the other process). Whether an anvil on this state file is a leftover at all is for the caller to
  know: the runtime holds its data folder's lock (:mod:`registry.data_lock`), so a live owner's chain
  never gets here.
* a dump torn by a crash is replaced by the last complete one, which :meth:`AnvilProcess.backup_state`
  keeps (:mod:`registry.chain.anvil_state`); :attr:`AnvilProcess.loaded_state_time` says how old the
  loaded state is, and the operation journal resubmits what was lost.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

from registry.chain import anvil_leftovers, anvil_state
from registry.chain.anvil_leftovers import anvils_serving
from registry.chain.anvil_miner import OnDemandMiner, node_call
from registry.chain.anvil_persist import StatePersister
from registry.chain.build import project_root
from registry.errors import ToolchainError

__all__ = [
    "AnvilConfig",
    "AnvilProcess",
    "anvil_binary",
    "anvils_serving",
    "free_port",
]

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


@dataclass(frozen=True)
class AnvilConfig:
    """How to run anvil.

    Attributes:
        chain_id: EIP-155 chain id (also in every EIP-712 domain).
        block_time: seconds between blocks; None = automine (one block per transaction).
        on_demand: with a ``block_time``, mine only when the pool holds transactions, at most one
            block per ``block_time`` (:mod:`registry.chain.anvil_miner`), instead of anvil's interval
            mining (an empty block, and a full state snapshot, every interval even when idle).
        trailing_blocks: on demand, empty blocks mined after the last busy one (confirmations).
        states_kept: historical states anvil keeps in memory (``--prune-history N``); None keeps
            anvil's own limits (1,500 full snapshots under a block time of 2 s or less). Reads older
            than this many blocks fail; anvil 1.7.1 honours it only without ``--block-time``, so with
            a ``block_time`` it needs ``on_demand``.
        transactions_kept: blocks whose transactions, receipts and logs anvil keeps
            (``--transaction-block-keeper N``); None keeps them all. Older blocks keep their headers
            only: the registry's chain archive (:mod:`registry.store.archive`) holds the rest.
        gas_limit: block gas limit; raised so one block carries thousands of title actions.
        state_path: file to load state from and dump it to; None = in-memory only.
        state_interval: seconds between state dumps when ``state_path`` is set (with
            ``state_interval_max``: the shortest).
        state_interval_max: when set, the interval adapts between ``state_interval`` and this: on
            demand, after every dump, to a hundred times its duration (:mod:`registry.chain.anvil_persist`);
            otherwise once, at start, from the state file anvil loads
            (:func:`registry.chain.anvil_state.state_interval_for`). :attr:`AnvilProcess.state_interval`
            is the current one.
        code_size_limit: None keeps the EIP-170 limit that production chains enforce.
        port: None picks a free port.
    """

    chain_id: int = 31337
    block_time: float | None = None
    on_demand: bool = False
    trailing_blocks: int = 0
    states_kept: int | None = None
    transactions_kept: int | None = None
    gas_limit: int = 1_000_000_000
    state_path: Path | None = None
    state_interval: int = 1
    state_interval_max: int | None = None
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
        self.miner: OnDemandMiner | None = None
        self.persister: StatePersister | None = None
        """Dumps the state under the miner's lock (on demand with a state file; else anvil dumps)."""
        if config.block_time is not None and config.on_demand:
            self.miner = OnDemandMiner(lambda: self.url, config.block_time, config.trailing_blocks)
            if config.state_path is not None:
                longest = config.state_interval_max or config.state_interval
                self.persister = StatePersister(
                    lambda: self.url, config.state_path, self.miner, config.state_interval, longest
                )
        self.loaded_state_time: float | None = None
        """Modification time (unix seconds) of the state file the running anvil loaded; None without one."""
        self._anvil_interval: int = config.state_interval

    @property
    def state_interval(self) -> float:
        """Seconds until the next state dump: the persister's adaptive wait, or anvil's own interval
        (sized at start, see :class:`AnvilConfig`)."""
        return self.persister.wait if self.persister is not None else self._anvil_interval

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
            anvil_leftovers.stop_leftovers(cfg.state_path, anvil_leftovers.pidfile_path(cfg.state_path))
            self.loaded_state_time = anvil_state.usable_state(cfg.state_path)
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
        if cfg.block_time is not None and cfg.on_demand:
            args += ["--no-mining"]
        elif cfg.block_time is not None:
            args += ["--block-time", str(cfg.block_time)]
        if cfg.states_kept is not None:
            args += ["--prune-history", str(cfg.states_kept)]
        if cfg.transactions_kept is not None:
            args += ["--transaction-block-keeper", str(cfg.transactions_kept)]
        if cfg.state_path is not None and self.persister is not None:
            cfg.state_path.parent.mkdir(parents=True, exist_ok=True)
            if cfg.state_path.exists():  # load only: no anvil timer, no dump on exit (we dump)
                args += ["--load-state", str(cfg.state_path)]
        elif cfg.state_path is not None:
            cfg.state_path.parent.mkdir(parents=True, exist_ok=True)
            self._anvil_interval = anvil_state.state_interval_for(
                cfg.state_path, cfg.state_interval, cfg.state_interval_max or cfg.state_interval
            )
            args += ["--state", str(cfg.state_path), "--state-interval", str(self._anvil_interval)]
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
                if self.miner is not None:
                    self.miner.start()
                if self.persister is not None:
                    self.persister.start()
                return self
            time.sleep(0.05)
        self.stop()
        raise ToolchainError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop anvil by its own pid after a last state dump (the persister's, or anvil's own on
        SIGTERM; SIGKILL after ``timeout``)."""
        if self.miner is not None:
            self.miner.stop()
        if self.persister is not None:
            self.persister.stop(final=self.exit_code is None and self._proc is not None)
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
        if self.miner is not None:
            self.miner.stop()
        if self.persister is not None:
            self.persister.stop(final=False)
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
        return anvil_leftovers.pidfile_path(state) if state is not None else None

    @property
    def backup_path(self) -> Path | None:
        """The last state dump known to be complete (see :meth:`backup_state`)."""
        state = self.config.state_path
        return anvil_state.backup_path(state) if state is not None else None

    def backup_state(self) -> bool:
        """Copy the state file to :attr:`backup_path` if it is a complete dump (atomic replace, mtime
        kept; see :func:`registry.chain.anvil_state.backup_state`).

        Returns:
            True when a backup was written.
        """
        state = self.config.state_path
        return anvil_state.backup_state(state) if state is not None else False

    def backup_current(self) -> bool:
        """Whether :attr:`backup_path` holds the newest complete dump (False without a state file)."""
        state = self.config.state_path
        return anvil_state.backup_current(state) if state is not None else False

    def backup_schedule(self, every: float, probe_every: float) -> anvil_state.BackupSchedule | None:
        """The schedule that keeps :attr:`backup_path` within ``every`` seconds of the newest dump, for
        a keeper that probes every ``probe_every`` seconds (None without a state file)."""
        state = self.config.state_path
        return anvil_state.BackupSchedule(state, every, probe_every) if state is not None else None

    def wait_persisted(self, timeout: float | None = None) -> bool:
        """Make the state file hold every block mined before the call, then back that dump up; False
        without a state file, or when the dump fails or ``timeout`` (default: three state intervals
        and ten seconds) passes first. On demand the registry dumps at once; otherwise this waits for
        anvil to dump twice."""
        state = self.config.state_path
        if state is None or self._proc is None:
            return False
        if self.persister is not None:
            try:
                self.persister.dump(force=True)
            except (OSError, ValueError):
                return False
            return anvil_state.backup_state(state) or anvil_state.backup_current(state)
        return anvil_state.wait_dumped(
            state, timeout if timeout is not None else 3 * self.state_interval + 10
        )

    def _write_pidfile(self) -> None:
        path, state = self.pidfile, self.config.state_path
        if path is None or state is None or self._proc is None:
            return
        anvil_leftovers.write_pidfile(path, self._proc.pid, self.port, state)

    def _remove_pidfile(self, proc: subprocess.Popen[bytes] | None) -> None:
        path = self.pidfile
        if path is not None and proc is not None:
            anvil_leftovers.remove_pidfile(path, proc.pid)

    def _answers(self) -> bool:
        try:
            return bool(node_call(self.url, "eth_chainId", timeout=1))
        except (OSError, ValueError):
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
