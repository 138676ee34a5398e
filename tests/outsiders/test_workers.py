"""Several gateway workers on one journal: ``make run WORKERS=2`` (``python -m scripts.serve --workers
2``) on a real PostgreSQL, reached over HTTP, its processes killed with SIGKILL.

Who leads is read from outside, in PostgreSQL: the leader's lock connection is named
``ebl-relayer-leader pid=N`` in ``pg_stat_activity``. Which worker served a request is read from the
gateway's request log (its ``pid`` field, matched by the ``X-Request-ID`` the client sent).

* writes through both workers all reach final;
* kill -9 the leader under load: a follower takes the lead, every acknowledged operation reaches
  final, and the chain holds each issuance exactly once;
* kill -9 a follower under load: the supervisor starts a new worker, nothing acknowledged is lost;
* one Idempotency-Key sent to two different workers names one operation;
* a credential revoked through one worker is refused by every worker;
* each worker's /readyz says whether it is the relayer leader;
* several workers on SQLite are refused with a clear configuration error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.chain.build import project_root
from tests.fixtures.dcsa import issued_example
from tests.support.crash_load import registry_logs
from tests.support.gateway_process import WITNESS_HISTORY, GatewayProcess
from tests.support.postgres import PostgresServer, postgres_unavailable_reason
from tests.support.workers import leader_pid, served_by, worker_pids

pytestmark = pytest.mark.skipif(
    postgres_unavailable_reason() is not None, reason=str(postgres_unavailable_reason())
)

WORKERS = 2
OP_DEADLINE = 180.0


@dataclass
class Cluster:
    gateway: GatewayProcess
    postgres: PostgresServer
    database: str

    def leader(self) -> int | None:
        """The pid of the worker holding the relayer lead, from ``pg_stat_activity``."""
        return leader_pid(self.postgres.conninfo(self.database))

    def workers(self) -> set[int]:
        """The supervisor's live worker processes."""
        return worker_pids(self.gateway)

    def served_by(self) -> dict[str, int]:
        """request id -> pid of the worker that logged it."""
        return served_by(self.gateway)


def _wait_until(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    postgres = PostgresServer()
    postgres.start()
    try:
        url = postgres.create_database("workers")
        gateway = GatewayProcess(
            tmp_path_factory.mktemp("workers"),
            workers=WORKERS,
            env={"EBL_DATABASE_URL": url, **WITNESS_HISTORY},
        )
        try:
            gateway.start(timeout=600)
            c = Cluster(gateway, postgres, "workers")
            _wait_until(lambda: len(c.workers()) == WORKERS and c.leader() in c.workers(), "a leader")
            yield c
        finally:
            gateway.close()
    finally:
        postgres.stop()


@dataclass
class Acked:
    key: str
    operation_id: str
    ebl_id: str
    request_ids: list[str]


@dataclass
class Load:
    """Client threads issuing eBLs, each request on a fresh connection with its own key and request
    id; a request cut off (by a kill) is sent again with the same key until acknowledged."""

    cluster: Cluster
    threads: int = 3
    acked: list[Acked] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _running: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for n in range(self.threads):
            t = threading.Thread(target=self._run, args=(n,), daemon=True)
            t.start()
            self._running.append(t)
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self._running:
            t.join(timeout=OP_DEADLINE)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def _run(self, n: int) -> None:
        creds = self.cluster.gateway.credentials
        assert creds is not None
        while not self.stop.is_set():
            reference = f"WK{n}{uuid.uuid4().hex[:12].upper()}"
            body = {
                "document": issued_example(transportDocumentReference=reference),
                "issueTo": creds["shipper"]["org"],
            }
            key, request_ids = str(uuid.uuid4()), []
            deadline = time.monotonic() + OP_DEADLINE
            while True:
                request_ids.append(str(uuid.uuid4()))
                try:
                    r = httpx.post(
                        f"{self.cluster.gateway.url}/v1/carriers/ebls",
                        json=body,
                        params={"wait": "false"},
                        headers={
                            "Authorization": f"Bearer {creds['carrier']['token']}",
                            "Idempotency-Key": key,
                            "X-Request-ID": request_ids[-1],
                        },
                        timeout=60,
                    )
                except httpx.HTTPError:
                    r = None
                if r is not None:
                    with self.lock:
                        self.statuses[r.status_code] += 1
                    if r.status_code in (200, 201, 202):
                        op = r.json()
                        with self.lock:
                            self.acked.append(Acked(key, op["operationId"], op["eblId"], request_ids))
                        break
                    if r.status_code not in (502, 503):
                        with self.lock:
                            self.problems.append(f"{r.status_code}: {r.text[:300]}")
                        return
                if time.monotonic() > deadline:
                    with self.lock:
                        self.problems.append(f"never acknowledged: {key}")
                    return
                time.sleep(0.2)


def _all_final(cluster: Cluster, acked: list[Acked]) -> list[str]:
    """Poll every acknowledged operation until final; the ones that are not (with why)."""
    creds = cluster.gateway.credentials
    assert creds is not None
    pending = {a.operation_id for a in acked}
    deadline = time.monotonic() + OP_DEADLINE
    wrong: list[str] = []
    with cluster.gateway.client(creds["carrier"]["token"], timeout=30) as http:
        while pending and time.monotonic() < deadline:
            for op in sorted(pending):
                try:
                    r = http.get(f"/v1/operations/{op}")
                except httpx.HTTPError:
                    continue
                status = r.json().get("status") if r.status_code == 200 else None
                if status == "final":
                    pending.discard(op)
                elif status == "failed" or r.status_code == 404:
                    pending.discard(op)
                    wrong.append(f"{op}: {r.text[:300]}")
            time.sleep(0.3)
    return wrong + [f"{op}: not final within {OP_DEADLINE:.0f} s" for op in pending]


def _issuances_on_chain(gw: GatewayProcess) -> Counter[str]:
    """How many times each eBL was issued, straight from the chain's logs."""
    return Counter(str(args["eblId"]) for _, args, _, _ in registry_logs(gw, ("Issued",)))


def _check_exactly_once(cluster: Cluster, load: Load) -> None:
    assert not load.problems, load.problems
    assert not _all_final(cluster, load.acked)
    issued = _issuances_on_chain(cluster.gateway)
    for a in load.acked:
        assert issued[a.ebl_id] == 1, f"eBL {a.ebl_id} issued {issued[a.ebl_id]} times on chain"


def test_writes_through_both_workers_reach_final(cluster: Cluster) -> None:
    load = Load(cluster, threads=4).start()

    # until both workers have acknowledged some writes (the kernel hands connections to either)
    def both_served() -> bool:
        served = cluster.served_by()
        with load.lock:
            pids = {served.get(a.request_ids[-1]) for a in load.acked}
        return len(pids - {None}) >= WORKERS

    _wait_until(both_served, "writes acknowledged by every worker", timeout=240)
    load.finish()
    _check_exactly_once(cluster, load)
    served = cluster.served_by()
    leader = cluster.leader()
    followers = {served[a.request_ids[-1]] for a in load.acked} - {leader}
    assert followers, "no write went through a worker that is not the leader"


def test_killing_the_leader_under_load_loses_nothing_and_a_follower_takes_the_lead(
    cluster: Cluster,
) -> None:
    leader = cluster.leader()
    assert leader is not None
    load = Load(cluster).start()
    _wait_until(lambda: load.count() >= 10, "writes before the kill")
    os.kill(leader, signal.SIGKILL)
    new_leader = _wait_until(
        lambda: pid if (pid := cluster.leader()) not in (None, leader) else None, "a new leader"
    )
    before = load.count()
    _wait_until(lambda: load.count() >= before + 10, "writes after the fail-over")
    load.finish()
    _check_exactly_once(cluster, load)
    assert new_leader in cluster.workers()
    _wait_until(lambda: len(cluster.workers()) == WORKERS, "the supervisor's replacement worker")


def test_killing_a_follower_under_load_loses_nothing(cluster: Cluster) -> None:
    leader = cluster.leader()
    followers = cluster.workers() - {leader}
    assert followers
    load = Load(cluster).start()
    _wait_until(lambda: load.count() >= 10, "writes before the kill")
    victim = sorted(followers)[0]
    os.kill(victim, signal.SIGKILL)
    _wait_until(lambda: victim not in cluster.workers() and len(cluster.workers()) == WORKERS, "a new worker")
    before = load.count()
    _wait_until(lambda: load.count() >= before + 10, "writes after the kill")
    load.finish()
    _check_exactly_once(cluster, load)
    assert cluster.leader() == leader, "killing a follower moved the lead"


def test_one_idempotency_key_through_two_workers_names_one_operation(cluster: Cluster) -> None:
    creds = cluster.gateway.credentials
    assert creds is not None
    key = str(uuid.uuid4())
    body = {
        "document": issued_example(transportDocumentReference=f"WKIDEM{uuid.uuid4().hex[:8].upper()}"),
        "issueTo": creds["shipper"]["org"],
    }
    answers: dict[str, str] = {}  # request id -> operation id

    def sent_by_two_workers() -> bool:
        request_id = str(uuid.uuid4())
        r = httpx.post(
            f"{cluster.gateway.url}/v1/carriers/ebls",
            json=body,
            headers={
                "Authorization": f"Bearer {creds['carrier']['token']}",
                "Idempotency-Key": key,
                "X-Request-ID": request_id,
            },
            timeout=60,
        )
        assert r.status_code in (200, 201, 202), r.text
        answers[request_id] = r.json()["operationId"]
        served = cluster.served_by()
        return len({served.get(rid) for rid in answers} - {None}) >= 2

    _wait_until(sent_by_two_workers, "the key sent through two workers", timeout=240)
    assert len(set(answers.values())) == 1, answers


def test_each_workers_readiness_says_whether_it_is_the_relayer_leader(cluster: Cluster) -> None:
    """An operator asks /readyz (fresh connections reach either worker): the worker PostgreSQL names
    as the lock holder says it leads, the other says it does not; both reach the ledger."""
    answers: dict[int, dict[str, Any]] = {}

    def both_answered() -> bool:
        r = httpx.get(f"{cluster.gateway.url}/readyz", timeout=30)
        assert r.status_code == 200, r.text
        answers[r.json()["pid"]] = r.json()
        return len(answers) >= WORKERS

    _wait_until(both_answered, "/readyz from every worker", timeout=240)
    leader = cluster.leader()
    assert set(answers) == cluster.workers() and leader in answers
    assert {pid: a["leader"] for pid, a in answers.items()} == {pid: pid == leader for pid in answers}
    assert all(a["status"] == "ready" and a["chainHead"] > 0 for a in answers.values())


REVALIDATE = 0.5
"""Seconds within which each gateway process re-reads a cached credential (registry.store.credentials)."""


def _through_every_worker(cluster: Cluster, token: str, path: str) -> dict[str, int]:
    """GET ``path`` on fresh connections until two different workers answered; request id -> status."""
    answers: dict[str, int] = {}

    def two_workers() -> bool:
        request_id = str(uuid.uuid4())
        r = httpx.get(
            f"{cluster.gateway.url}{path}",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
            timeout=30,
        )
        answers[request_id] = r.status_code
        served = cluster.served_by()
        return len({served.get(rid) for rid in answers} - {None}) >= 2

    _wait_until(two_workers, f"{path} through two workers", timeout=240)
    return answers


def test_a_credential_revoked_through_one_worker_is_refused_by_all(cluster: Cluster) -> None:
    creds = cluster.gateway.credentials
    assert creds is not None
    governance = {"Authorization": f"Bearer {creds['governance']['token']}"}
    issued = httpx.post(
        f"{cluster.gateway.url}/v1/governance/credentials",
        json={"name": "workers test auditor", "role": "auditor"},
        headers=governance,
        timeout=30,
    )
    assert issued.status_code == 201, issued.text
    token, credential_id = issued.json()["token"], issued.json()["credentialId"]
    path = (
        f"/v1/auditors/events?org={creds['carrier']['org']}"
        "&since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"
    )
    # every worker has verified (and cached) the token
    assert set(_through_every_worker(cluster, token, path).values()) == {200}
    revoked = httpx.post(
        f"{cluster.gateway.url}/v1/governance/credentials/{credential_id}/revoke",
        headers=governance,
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text
    time.sleep(2 * REVALIDATE)  # the documented bound on a cached credential's staleness
    assert set(_through_every_worker(cluster, token, path).values()) == {401}


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "scripts.serve", "--workers", "2"], ["ebl", "serve", "--workers", "2"]],
    ids=["make run WORKERS=2", "ebl serve --workers 2"],
)
def test_several_workers_on_sqlite_are_refused(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "EBL_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("EBL_DATABASE_URL", None)
    if command[0] == "ebl":
        command = [str(Path(sys.executable).with_name("ebl")), *command[1:]]
        # this checkout's package, whichever the console script's environment was installed from
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project_root()), env.get("PYTHONPATH")]))
    done = subprocess.run(
        command,
        cwd=project_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    said = done.stderr + done.stdout
    assert "configuration_error" in said and "PostgreSQL" in said, said[-2000:]
    assert not (tmp_path / "data" / "chain").exists(), "nothing may start before the refusal"
