"""anvils left running by a registry process that died: recorded, found and stopped, never a stranger.

anvil runs in its own session, so a ``kill -9`` of the registry process leaves it running (an orphan
that keeps the chain and keeps dumping it). Its pid and start time (the kernel's process create time)
are recorded in ``anvil.pid`` beside the state file as soon as it is spawned (:func:`write_pidfile`).
:func:`stop_leftovers` stops that anvil — only if a process with that pid *and* that start time is
still an anvil serving this very file, so a recycled pid is never touched — and any other anvil whose
``--state`` (or ``--load-state``) argument, resolved against that anvil's own working directory, is this
file (one spawned just before its owner died, or by a version that passed a relative path). Never a
string match: an anvil of ``data/chain/state.json`` in another folder is another registry's chain. It
is stopped with SIGTERM, so it dumps its state first (one started with ``--load-state`` only, by the
registry's own persister, :mod:`registry.chain.anvil_persist`, does not: its chain returns as of the
last dump).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path

import psutil

__all__ = [
    "anvils_serving",
    "pidfile_path",
    "recorded_anvil",
    "remove_pidfile",
    "stop_leftovers",
    "write_pidfile",
]

log = logging.getLogger("registry.chain.anvil")

_CREATE_TIME_SLACK = 0.05
"""Seconds two readings of one process's create time may differ by (it is derived from the boot time)."""


def pidfile_path(state: Path) -> Path:
    """Where the anvil serving ``state`` records its pid: ``anvil.pid`` beside the state file."""
    return state.parent / "anvil.pid"


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def write_pidfile(path: Path, pid: int, port: int, state: Path) -> None:
    """Record the anvil ``pid`` (with its start time) serving ``state`` on ``port`` (atomic replace)."""
    record: dict[str, object] = {
        "pid": pid,
        "createTime": _create_time(pid),
        "port": port,
        "state": str(state),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)


def remove_pidfile(path: Path, pid: int) -> None:
    """Remove the pidfile if it still names ``pid`` (a newer anvil's record stays)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()


def recorded_anvil(pidfile: Path) -> psutil.Process | None:
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


def recorded_instance(pidfile: Path) -> tuple[int, float] | None:
    """The (pid, start time) the pidfile records: which anvil process serves the state now (a chain
    restarted by another process has a new one); None without a readable pidfile."""
    try:
        record = json.loads(pidfile.read_text())
        return int(record["pid"]), float(record["createTime"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


_STATE_FLAGS = ("--state", "--load-state")
"""anvil's arguments naming the state file it serves (the registry's own dumps load only)."""


def _anvil_argv(proc: psutil.Process) -> list[str] | None:
    """The command line of a live anvil process; None for any other (or one we may not inspect)."""
    try:
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None  # exited; only its parent's wait is missing
        argv = proc.cmdline()
    except (psutil.Error, OSError):
        return None
    return argv if argv and Path(argv[0]).name == "anvil" else None


def _state_argument(proc: psutil.Process, argv: list[str]) -> Path | None:
    """The state file an anvil process serves, resolved against its own working directory; None when
    its command line names none (or we may not inspect it)."""
    try:
        value = next(
            (
                nxt if arg in _STATE_FLAGS else arg.partition("=")[2]
                for arg, nxt in zip(argv, [*argv[1:], ""], strict=True)
                if arg in _STATE_FLAGS or arg.partition("=")[0] in _STATE_FLAGS
            ),
            None,
        )
        if not value:
            return None
        path = Path(value)
        return (path if path.is_absolute() else Path(proc.cwd()) / path).resolve()
    except (psutil.Error, OSError):
        return None


def _serves(proc: psutil.Process, state_path: Path, *, recorded: bool = False) -> bool:
    """True while ``proc`` is a live anvil whose state file is ``state_path`` (resolved). With
    ``recorded`` (the pidfile names it, same pid and start time) also one that names no state file: the
    registry's persister starts anvil without one until the first dump exists."""
    argv = _anvil_argv(proc)
    if argv is None:
        return False
    named = _state_argument(proc, argv)
    return named == state_path or (recorded and named is None)


def _anvil_processes(state_path: Path) -> list[psutil.Process]:
    wanted = state_path.resolve()
    return [proc for proc in psutil.process_iter() if _serves(proc, wanted)]


def anvils_serving(state_path: Path) -> list[int]:
    """Pids of the live anvil processes whose state file is ``state_path``: the same file, by resolved
    absolute path (each anvil's relative ``--state`` resolved against its own working directory)."""
    return sorted(p.pid for p in _anvil_processes(state_path))


def stop_leftovers(state: Path, pidfile: Path, timeout: float = 15.0) -> None:
    """Stop every anvil left running on ``state`` by a process that died (kill -9): the one ``pidfile``
    names (same pid and start time) and any other whose ``--state`` resolves to this file (one started
    just before its owner died may not have been recorded); then remove the pidfile."""
    leftovers = {p.pid: p for p in _anvil_processes(state)}
    recorded = recorded_anvil(pidfile)
    if recorded is not None and recorded.pid not in leftovers and _serves(recorded, state, recorded=True):
        leftovers[recorded.pid] = recorded
    for proc in leftovers.values():
        log.warning(
            "stopping anvil pid %d left running on %s by a previous registry process", proc.pid, state
        )
        with contextlib.suppress(psutil.Error):
            proc.terminate()  # SIGTERM: anvil dumps its state first
        deadline = time.monotonic() + timeout
        while _serves(proc, state, recorded=True):
            if time.monotonic() > deadline:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
                deadline = time.monotonic() + timeout
            time.sleep(0.05)
    pidfile.unlink(missing_ok=True)
