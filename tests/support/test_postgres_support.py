"""Self-test of :mod:`tests.support.postgres`: a real server starts, answers, and is gone after stop()."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy

from tests.support.postgres import PostgresServer, postgres_unavailable_reason

_UNAVAILABLE = postgres_unavailable_reason()

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(_UNAVAILABLE is not None, reason=f"PostgreSQL unavailable: {_UNAVAILABLE}"),
]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def test_server_answers_and_is_gone_after_stop() -> None:
    server = PostgresServer().start()
    pid = server.pid
    directory = server.directory
    assert pid is not None
    assert directory is not None
    lingering: psycopg.Connection[tuple[object, ...]] | None = None
    try:
        assert _pid_alive(pid)
        assert server.url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"

        with psycopg.connect(server.conninfo()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)

        engine = sqlalchemy.create_engine(server.url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sqlalchemy.text("SELECT 1")).scalar_one() == 1
        finally:
            engine.dispose()

        url = server.create_database("ebl_selftest")
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as conn:
                current = conn.execute(sqlalchemy.text("SELECT current_database()")).scalar_one()
            assert current == "ebl_selftest"
        finally:
            engine.dispose()
        server.drop_database("ebl_selftest")

        with pytest.raises(ValueError, match="database name"):
            server.create_database("bad; DROP")

        # A client still connected must not keep the server from stopping (fast shutdown).
        lingering = psycopg.connect(server.conninfo())
    finally:
        server.stop()
        if lingering is not None:
            lingering.close()

    assert not _pid_alive(pid)
    assert not directory.exists()
    assert server.pid is None
    server.stop()  # idempotent


def test_context_manager_runs_two_servers_side_by_side() -> None:
    with PostgresServer() as first, PostgresServer(settings={"max_connections": "20"}) as second:
        assert first.port != second.port
        with psycopg.connect(second.conninfo()) as conn:
            assert conn.execute("SHOW max_connections").fetchone() == ("20",)
        pids = (first.pid, second.pid)
    assert all(pid is not None and not _pid_alive(pid) for pid in pids)
