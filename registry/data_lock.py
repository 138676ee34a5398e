"""One live registry per data folder: an exclusive lock on ``<data>/registry.lock`` for as long as a
:class:`~registry.runtime.Runtime` (or ``make chain``) holds the folder.

The lock is the kernel's (``flock``): it is released when its holder closes it or dies, even by
``kill -9``, so a stale lock file never blocks a start and a recycled pid is never taken for the holder.
The file also records who holds it (pid, what it is, its gateway URL) for the refusal's message: a
second process that finds the folder held gets a :class:`~registry.errors.RegistryInUseError` ("the
registry in DATA is in use by the gateway pid N; use --gateway URL or stop it") and touches nothing —
neither the holder's chain nor its database.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

from registry.errors import ConfigurationError, RegistryInUseError

__all__ = ["LOCK_FILE", "DataFolderLock", "default_holder"]

LOCK_FILE = "registry.lock"

_RECORD_WAIT = 1.0
"""Seconds to wait for a holder that has just taken the lock to write who it is."""


def default_holder() -> str:
    """What this process is, for another's refusal: its program name (never its arguments, which may
    carry values that are nobody else's business)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    return argv0.parent.name if argv0.name == "__main__.py" else argv0.name


class DataFolderLock:
    """The exclusive claim on one data folder; :meth:`acquire` it, :meth:`release` it when done."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.path = self.data_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, holder: str | None = None, url: str | None = None) -> DataFolderLock:
        """Take the folder for this process and record ``holder`` and its gateway ``url``.

        Raises:
            RegistryInUseError: another live process (or another open runtime in this one) holds it.
        """
        if self._fd is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._in_use() from None
        except BaseException:
            os.close(fd)
            raise
        record = {"pid": os.getpid(), "holder": holder or default_holder(), "url": url, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the folder up (closing the file releases the kernel lock). The record stays: it is only
        read while the lock is held, so a stale one is never believed."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def require_holder(self, pids: tuple[int, ...]) -> None:
        """Check, without taking it, that one of ``pids`` holds the folder: a gateway worker's
        supervisor holds it for all its workers (:mod:`registry.workers`).

        Raises:
            ConfigurationError: the folder is free, or held by another process.
        """
        probe = DataFolderLock(self.data_dir)
        try:
            probe.acquire("a gateway worker's check")
        except RegistryInUseError as exc:
            if exc.pid in pids:
                return
            raise ConfigurationError(
                f"the data folder {self.data_dir} is held by pid {exc.pid}, not by this worker's supervisor"
            ) from None
        probe.release()
        raise ConfigurationError(
            f"no supervisor holds the data folder {self.data_dir}: start workers with ebl serve --workers"
        )

    def _in_use(self) -> RegistryInUseError:
        deadline = time.monotonic() + _RECORD_WAIT
        record: dict[str, object] = {}
        while True:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(self.path.read_text())
                if isinstance(loaded, dict):
                    record = loaded
            if record or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # the holder took the lock a moment ago and is writing its record
        pid = record.get("pid")
        holder = record.get("holder")
        url = record.get("url")
        return RegistryInUseError(
            str(self.data_dir),
            pid if isinstance(pid, int) else None,
            holder if isinstance(holder, str) else "another process",
            url if isinstance(url, str) else None,
        )
