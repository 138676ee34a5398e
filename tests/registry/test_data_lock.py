"""One live registry per data folder: a second opener is refused with who holds it, a dead holder's lock
is gone with it (kill -9), and a refused open touches nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.errors import RegistryError, RegistryInUseError
from registry.runtime import Runtime

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from registry.data_lock import DataFolderLock
    DataFolderLock(Path(sys.argv[1])).acquire("the gateway", "http://127.0.0.1:8123")
    print("held", flush=True)
    time.sleep(120)
    """
)


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _end(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


def test_a_folder_held_by_another_process_is_refused_with_its_pid_and_url(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "data")
    try:
        with pytest.raises(RegistryInUseError) as refused:
            DataFolderLock(tmp_path / "data").acquire()
        exc = refused.value
        assert isinstance(exc, RegistryError) and exc.code == "registry_in_use"
        assert (exc.pid, exc.holder, exc.url) == (holder.pid, "the gateway", "http://127.0.0.1:8123")
        assert str(exc) == (
            f"the registry in {(tmp_path / 'data').resolve()} is in use by the gateway pid {holder.pid}; "
            "use --gateway http://127.0.0.1:8123 or stop it"
        )
    finally:
        _end(holder)


def test_the_lock_of_a_killed_holder_is_free_at_once(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "data")
    os.kill(holder.pid, signal.SIGKILL)
    _end(holder)
    lock = DataFolderLock(tmp_path / "data").acquire("ebl dev up")
    try:
        assert lock.held
    finally:
        lock.release()


def test_a_second_lock_in_the_same_process_is_refused_until_the_first_is_released(tmp_path: Path) -> None:
    first = DataFolderLock(tmp_path).acquire("one runtime")
    with pytest.raises(RegistryInUseError, match=f"one runtime pid {os.getpid()}"):
        DataFolderLock(tmp_path).acquire()
    first.release()
    DataFolderLock(tmp_path).acquire().release()


def test_a_refused_runtime_starts_and_stops_nothing(tmp_path: Path) -> None:
    """Opening a held folder raises before any chain is started, and leaves the folder as it was."""
    data = tmp_path / "data"
    holder = _holder(data)
    try:
        before = sorted(p.name for p in data.iterdir())
        started = time.monotonic()
        with pytest.raises(RegistryInUseError):
            Runtime.open(Settings(data_dir=data, keystore_kdf_n=2**14))
        assert time.monotonic() - started < 5
        assert sorted(p.name for p in data.iterdir()) == before == ["registry.lock"]
    finally:
        _end(holder)
