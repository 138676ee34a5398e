"""Who is who among ``make run WORKERS=N``'s processes, seen from outside, as an operator sees it.

* the relayer leader: the worker whose lock connection is named ``ebl-relayer-leader pid=N`` in
  PostgreSQL's ``pg_stat_activity`` (:mod:`registry.leadership`);
* the workers: the supervisor's live children that multiprocessing spawned;
* which worker served a request: the request log's ``pid`` field, matched by the ``X-Request-ID``.
"""

from __future__ import annotations

import json
import re

import psutil
import psycopg

from tests.support.gateway_process import GatewayProcess

__all__ = ["leader_pid", "served_by", "worker_pids"]

_LEADER = re.compile(r"ebl-relayer-leader pid=(\d+)")


def leader_pid(conninfo: str) -> int | None:
    """The pid of the worker holding the relayer lead, from ``pg_stat_activity`` (None: nobody)."""
    with psycopg.connect(conninfo) as conn:
        names = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'ebl-relayer-leader%'"
        ).fetchall()
    pids = [int(m.group(1)) for (name,) in names if (m := _LEADER.fullmatch(name))]
    assert len(pids) <= 1, f"more than one leader: {pids}"
    return pids[0] if pids else None


def worker_pids(gateway: GatewayProcess) -> set[int]:
    """The supervisor's live worker processes (multiprocessing spawns them); empty when it is down."""
    if gateway.proc is None or gateway.proc.poll() is not None:
        return set()
    out = set()
    try:
        children = psutil.Process(gateway.proc.pid).children()
    except psutil.Error:
        return set()
    for child in children:
        try:
            if any("spawn_main" in part for part in child.cmdline()) and child.status() != "zombie":
                out.add(child.pid)
        except psutil.Error:
            continue
    return out


def served_by(gateway: GatewayProcess) -> dict[str, int]:
    """request id -> pid of the worker that logged it, from every captured stderr."""
    out: dict[str, int] = {}
    for path in sorted(gateway.root.glob("serve-*.err")):
        for line in path.read_text(errors="replace").splitlines():
            if '"api.access"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "request_id" in record and "pid" in record:
                out[record["request_id"]] = int(record["pid"])
    return out
