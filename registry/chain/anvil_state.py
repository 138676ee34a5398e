"""anvil's state file: telling a complete dump from a torn one, and keeping the last complete one.

anvil writes its dumps in place, so a ``kill -9`` in the middle of a dump leaves a truncated file that
anvil refuses to load. :func:`backup_state` copies the state file to ``state.json.bak`` (atomically,
only when it is a complete dump); :func:`usable_state`, run before anvil starts, puts the backup in the
state file's place when the state file is torn. Either way the chain may come back a few blocks short
(from the backup, up to ``registry.watchdog.BACKUP_EVERY`` seconds); the operation journal resubmits
what was lost.

How often anvil dumps is fixed when it starts (``--state-interval``), and one dump rewrites the whole
file, so its cost grows with the state: :func:`state_interval_for` sizes the interval from the file anvil
is about to load, so that dumping costs at most :data:`PERSISTENCE_SHARE` of a core (docs/ledger.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from registry.errors import ToolchainError

__all__ = [
    "BackupSchedule",
    "backup_current",
    "backup_path",
    "backup_state",
    "complete_dump",
    "mtime_ns",
    "state_interval_for",
    "usable_state",
    "wait_dumped",
]

log = logging.getLogger("registry.chain.anvil")

_LAYOUT_HEAD = b'{"block":'
_COMPLETE_TAIL = b'"historical_states":null}'
"""How anvil's state dump begins and ends (its first and last top-level keys). A dump torn by a crash,
or still being written, is a prefix of a dump."""
DUMP_CPU_S_PER_MIB = 0.012
"""anvil's CPU seconds to dump one MiB of state file (``bench/results/scale.json``, shared machine)."""
PERSISTENCE_SHARE = 0.1
"""The share of one core the state dumps may take on average."""
GROWTH_HEADROOM = 2.0
"""The interval is sized for a state this many times the one loaded: it grows until the next start."""


def complete_dump(path: Path) -> bool:
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


def backup_path(state: Path) -> Path:
    """Where the last complete dump of ``state`` is kept (``state.json.bak``)."""
    return state.with_name(state.name + ".bak")


def mtime_ns(path: Path) -> int:
    """The file's modification time in nanoseconds; 0 when it does not exist."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def backup_current(state: Path) -> bool:
    """Whether the backup holds the newest dump: it is at least as new as the state file, and the state
    file is not being rewritten (a dump in progress is newer than any backup)."""
    backup = mtime_ns(backup_path(state))
    return backup != 0 and backup >= mtime_ns(state)


def backup_state(state: Path) -> bool:
    """Copy ``state`` to :func:`backup_path` if it is a complete dump (atomic replace, mtime kept).

    A dump is complete when it begins and ends with anvil's first and last top-level keys and did not
    change while it was copied; that check reads a few bytes, where parsing a dump of hundreds of
    megabytes took gigabytes of memory and seconds of CPU. A file in another layout (another anvil
    version) is parsed instead.

    Returns:
        True when a backup was written.
    """
    backup = backup_path(state)
    tmp = backup.with_name(backup.name + ".tmp")
    try:
        before = state.stat()
        if backup.exists() and backup.stat().st_mtime_ns >= before.st_mtime_ns:
            return False
        if not complete_dump(state):
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class BackupSchedule:
    """When to copy the state file to its backup, so that the backup never lags the newest complete
    dump by more than ``every`` seconds, and is copied about once per ``every`` at most.

    A fixed timer (the first version: a copy ``every`` seconds after the last one) let a dump written
    just after a copy wait a whole round plus a probe, and kept no record of how far behind the backup
    fell. This one notes when the state file first became newer than the backup (the oldest dump the
    backup lacks), and copies once that dump is ``every`` seconds old, less two probes (one for the
    probes' spacing, one for a late probe) and the time the copy will take (the last copy's rate times
    the file's size: the 60-minute idle run's backup lagged 31.0 s when a 653 MiB dump followed a copy
    of a few MiB); the first dump, with no backup yet, at once. A state file that does not change (an
    idle chain: no block mined, no dump) is never copied again.

    Args:
        state: the state file.
        every: the most seconds the backup may lag the newest complete dump.
        probe_every: seconds between calls of :meth:`tick`.
        clock: the wall clock the state file's modification times are compared with.
    """

    def __init__(
        self, state: Path, every: float, probe_every: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.state, self.every, self.probe_every, self._clock = state, every, probe_every, clock
        self._pending_since: float | None = None  # when the oldest dump the backup lacks was written
        self._copy_s_per_byte = 0.0  # how fast the last copy went: the next one is sized by it
        self.max_lag_s = 0.0
        """The most seconds the backup lagged the newest dump when a copy caught up (reset by callers
        that sample it, such as the benchmarks)."""

    def lag(self) -> float:
        """Seconds since the oldest dump the backup lacks was written (0 when the backup is current)."""
        return 0.0 if self._pending_since is None else max(0.0, self._clock() - self._pending_since)

    def tick(self) -> bool:
        """Copy the state file to the backup if it is due; call every ``probe_every`` seconds. A dump
        caught half written (anvil's own, in place) is retried at the next call. Returns True when a
        backup was written."""
        newest, backed_up = mtime_ns(self.state), mtime_ns(backup_path(self.state))
        if newest == 0 or (backed_up != 0 and backed_up >= newest):
            self._pending_since = None
            return False
        if self._pending_since is None:
            self._pending_since = newest / 1e9
        copy_s = self._copy_s_per_byte * _size(self.state)
        if backed_up != 0 and self.lag() < self.every - 2 * self.probe_every - copy_s:
            return False  # (with no backup at all, the first complete dump is copied at once)
        started = self._clock()
        written = backup_state(self.state)
        if written:
            took = max(0.0, self._clock() - started)
            self._copy_s_per_byte = took / max(_size(backup_path(self.state)), 1)
        if backup_current(self.state):
            self.max_lag_s = max(self.max_lag_s, self.lag())
            self._pending_since = None
        return written


def wait_dumped(state: Path, timeout: float) -> bool:
    """Block until anvil has dumped ``state`` twice from now (so the dump holds every block mined
    before the call), then back that dump up; False when ``timeout`` passes first."""
    dumps, last = 0, mtime_ns(state)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = mtime_ns(state)
        if now != last:
            dumps, last = dumps + 1, now
            if dumps >= 2:
                time.sleep(0.2)  # let the dump finish writing: a torn one is not backed up
                backup_state(state)
                return True
    return False


def state_interval_for(state: Path, shortest: int, longest: int) -> int:
    """Seconds between dumps for the state file anvil will load: long enough that dumping a state
    :data:`GROWTH_HEADROOM` times its size costs at most :data:`PERSISTENCE_SHARE` of a core, and within
    ``[shortest, longest]`` (``shortest`` when there is no file yet)."""
    try:
        mib = state.stat().st_size / 2**20
    except OSError:
        return shortest
    wanted = math.ceil(mib * GROWTH_HEADROOM * DUMP_CPU_S_PER_MIB / PERSISTENCE_SHARE)
    return max(shortest, min(longest, wanted))


def usable_state(state: Path) -> float | None:
    """Make sure the state file anvil will load is complete (else put the last good backup in its place);
    returns its modification time, or None when the chain starts empty.

    Raises:
        ToolchainError: the state file is torn and there is no backup (it is moved aside).
    """
    backup = backup_path(state)
    if not state.exists():
        if backup.exists():  # pragma: no cover - only if someone deleted the state file
            log.warning("chain state %s is missing; loading the backup %s", state, backup)
            os.replace(backup, state)
            return state.stat().st_mtime
        return None
    if not complete_dump(state):
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
