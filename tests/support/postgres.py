"""A throwaway PostgreSQL server for tests: its own cluster in a temp dir, on 127.0.0.1.

The binaries (``initdb``, ``pg_ctl``, ``postgres``) are looked up on ``PATH`` (symlinks resolved)
and then in ``/usr/lib/postgresql/*/bin`` (Debian's layout, newest major first); all three must sit
in one directory so the cluster and the server are of one version. ``scripts/ensure-postgres.sh``
installs Debian's ``postgresql`` when none is found.

:meth:`PostgresServer.start` runs ``initdb -A trust -U postgres --no-sync`` into a fresh temp dir,
then starts ``postgres`` itself (not through ``pg_ctl``), so the pid it holds is the postmaster's
own; :meth:`PostgresServer.stop` stops exactly that process (SIGINT = PostgreSQL's "fast"
shutdown, which also ends open client sessions; SIGQUIT, then SIGKILL, if it does not exit in
time), waits for it and removes the temp dir. The server listens on a free TCP port of 127.0.0.1
only; its unix socket lives inside the temp dir. ``fsync``, ``full_page_writes`` and
``synchronous_commit`` are off: data does not survive a crash, which a test server never needs.

Running as root: ``initdb`` and ``postgres`` refuse to run as root, so both are started as an
unprivileged user instead: the ``postgres`` system user when it exists (Debian's package creates
it), else ``nobody``. The temp dir is created by root, handed to that user with ``chown``, and the
children are started with ``subprocess.Popen(user=..., group=..., extra_groups=[])`` (a plain
``setuid`` after ``fork``; no ``sudo``/``runuser`` needed). The temp dir's parent (``$TMPDIR``,
default ``/tmp``) must be traversable by that user. Root can signal and remove what that user owns.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

__all__ = [
    "PostgresBinaries",
    "PostgresError",
    "PostgresServer",
    "find_postgres_binaries",
    "postgres_unavailable_reason",
]

SUPERUSER = "postgres"
_DEBIAN_BINDIRS = Path("/usr/lib/postgresql")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_UNPRIVILEGED_USERS = ("postgres", "nobody")
_BIND_FAILURE = re.compile(r"could not bind|could not create listen socket|Address already in use")


class PostgresError(RuntimeError):
    """The test PostgreSQL server could not be set up, started or stopped."""


@dataclass(frozen=True)
class PostgresBinaries:
    """One PostgreSQL installation's server binaries, all from the same directory."""

    bindir: Path
    initdb: Path
    pg_ctl: Path
    postgres: Path

    def version(self) -> str:
        """``postgres --version``, e.g. ``postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)``."""
        out = subprocess.run(
            [str(self.postgres), "--version"], capture_output=True, text=True, check=True, timeout=30
        )
        return out.stdout.strip()


def _major(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<major>/bin``: the major version as numbers."""
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts)


def _candidate_bindirs() -> list[Path]:
    dirs: list[Path] = []
    for name in ("postgres", "initdb"):
        found = shutil.which(name)
        if found is not None:
            dirs.append(Path(found).resolve().parent)
    if _DEBIAN_BINDIRS.is_dir():
        dirs += sorted(_DEBIAN_BINDIRS.glob("*/bin"), key=_major, reverse=True)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_postgres_binaries() -> PostgresBinaries | None:
    """The first directory (``PATH``, then ``/usr/lib/postgresql/*/bin``) holding all three binaries."""
    for bindir in _candidate_bindirs():
        paths = [bindir / name for name in ("initdb", "pg_ctl", "postgres")]
        if all(p.is_file() and os.access(p, os.X_OK) for p in paths):
            return PostgresBinaries(bindir, *paths)
    return None


def _unprivileged_ids() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry.pw_uid, entry.pw_gid
    raise PostgresError(
        f"running as root, and none of the users {', '.join(_UNPRIVILEGED_USERS)} exists to run "
        "initdb/postgres as (PostgreSQL refuses to run as root)"
    )


def postgres_unavailable_reason() -> str | None:
    """Why a test PostgreSQL server cannot be started here, or None when it can."""
    if find_postgres_binaries() is None:
        return (
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in "
            f"{_DEBIAN_BINDIRS}/*/bin: run scripts/ensure-postgres.sh (installs Debian's postgresql as root)"
        )
    try:
        _unprivileged_ids()
    except PostgresError as exc:
        return str(exc)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A running test PostgreSQL server; use as a context manager or call :meth:`start` / :meth:`stop`.

    Args:
        binaries: which installation to use; None = :func:`find_postgres_binaries`.
        settings: extra ``postgres -c name=value`` settings (e.g. ``{"max_connections": "200"}``).
        base_dir: parent of the temp dir; None = ``$TMPDIR`` or ``/tmp``.
    """

    def __init__(
        self,
        binaries: PostgresBinaries | None = None,
        *,
        settings: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self._binaries = binaries
        self._settings = dict(settings or {})
        self._base_dir = base_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self.port: int = 0

    # ------------------------------------------------------------------ addresses

    @property
    def pid(self) -> int | None:
        """The postmaster's own process id while running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return self.database_url(SUPERUSER)

    @property
    def directory(self) -> Path | None:
        """The temp dir holding the cluster (``data/``), the socket (``run/``) and ``postgres.log``."""
        return self._tmp

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database ``name`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def conninfo(self, dbname: str = SUPERUSER) -> str:
        """libpq connection string for :func:`psycopg.connect`."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname} connect_timeout=5"

    # ------------------------------------------------------------------ databases

    def create_database(self, name: str) -> str:
        """Create database ``name`` (lowercase identifier) and return its SQLAlchemy URL."""
        self._check_name(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending its open sessions."""
        self._check_name(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @staticmethod
    def _check_name(name: str) -> None:
        if not _DB_NAME.fullmatch(name) or name in {SUPERUSER, "template0", "template1"}:
            raise ValueError(f"not a usable test database name: {name!r}")

    # ------------------------------------------------------------------ life cycle

    def start(self, timeout: float = 60.0) -> PostgresServer:
        """Create the cluster, start the server and wait until it accepts connections.

        Raises:
            PostgresError: binaries missing, ``initdb`` failing, or the server not coming up in time.
        """
        if self._proc is not None:
            return self
        binaries = self._binaries or find_postgres_binaries()
        if binaries is None:
            raise PostgresError(postgres_unavailable_reason() or "no PostgreSQL binaries")
        ids = _unprivileged_ids()
        self._tmp = Path(tempfile.mkdtemp(prefix="ebl-pg-", dir=self._base_dir))
        atexit.register(self.stop)
        try:
            self._init_cluster(binaries, ids)
            deadline = time.monotonic() + timeout
            for _attempt in range(3):  # a free port can be taken between probing and binding
                self.port = _free_port()
                if self._launch(binaries, ids, deadline):
                    return self
            raise PostgresError(f"postgres could not bind a port on 127.0.0.1: {self._tail_log()}")
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server by its own pid, wait for it to exit, and remove the temp dir. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc, timeout)
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    @property
    def _data(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "data"

    @property
    def _socket_dir(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "run"

    @property
    def _log(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "postgres.log"

    def _popen_kwargs(self, ids: tuple[int, int] | None) -> dict[str, Any]:
        assert self._tmp is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        kwargs: dict[str, Any] = {"cwd": self._tmp, "env": env, "stdin": subprocess.DEVNULL}
        if ids is not None:
            kwargs.update(user=ids[0], group=ids[1], extra_groups=[])
        return kwargs

    def _init_cluster(self, binaries: PostgresBinaries, ids: tuple[int, int] | None) -> None:
        assert self._tmp is not None
        self._socket_dir.mkdir(mode=0o700)
        if ids is not None:
            for path in (self._tmp, self._socket_dir):
                os.chown(path, *ids)
        args = [
            str(binaries.initdb),
            "-D",
            str(self._data),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        with self._log.open("wb") as log:
            if ids is not None:
                os.fchown(log.fileno(), *ids)
            result = subprocess.run(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=120,
                **self._popen_kwargs(ids),
            )
        if result.returncode != 0:
            raise PostgresError(f"initdb exited with {result.returncode}: {self._tail_log()}")

    def _launch(self, binaries: PostgresBinaries, ids: tuple[int, int] | None, deadline: float) -> bool:
        """Start postgres on ``self.port``; True once it answers, False if the port was taken."""
        args = [
            str(binaries.postgres),
            "-D",
            str(self._data),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self._socket_dir),
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
        ]
        for name, value in self._settings.items():
            args += ["-c", f"{name}={value}"]
        log_start = self._log.stat().st_size
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a terminal's Ctrl-C reaches pytest, which then calls stop()
                **self._popen_kwargs(ids),
            )
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                new_log = self._log.read_bytes()[log_start:].decode(errors="replace")
                if _BIND_FAILURE.search(new_log):
                    return False
                raise PostgresError(f"postgres exited with {code}: {self._tail_log()}")
            if self._answers():
                return True
            time.sleep(0.05)
        raise PostgresError(f"postgres did not accept connections on 127.0.0.1:{self.port} in time")

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def _tail_log(self) -> str:
        if self._tmp is not None and self._log.exists():
            return self._log.read_text(errors="replace")[-3000:]
        return ""


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; always reaps the process."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    if proc.poll() is None:
        raise PostgresError(f"postgres (pid {proc.pid}) did not exit even after SIGKILL")
