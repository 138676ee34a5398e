"""Crash and restart with several workers: ``make run WORKERS=2`` over PostgreSQL under load, its
processes killed with SIGKILL at random moments.

The single-process harness's run (tests/scripts/test_serve_crash_restart.py, the same clients and end
checks from :mod:`tests.support.crash_load`) against ``python -m scripts.serve --workers 2`` on a
throwaway PostgreSQL. The title clients open a fresh connection per request, so both workers behind
the shared port serve them; two governance clients onboard, suspend and reinstate organisations at
the same time, through whichever worker answers (governance sends from one account: two workers
must not spend one nonce twice). Round after round the harness kills -9, at a random moment:

* the relayer leader worker, found as an operator finds it: the lock connection named
  ``ebl-relayer-leader pid=N`` in ``pg_stat_activity`` (a follower takes the lead and recovers);
* a follower worker (the supervisor starts a new one);
* the whole serve process, the supervisor (its workers exit, its anvil is left behind; it is started
  again and recovers as after a single gateway's crash);
* the embedded chain (the supervisor restarts it, the leader resubmits what it lost).

Before each kill it waits until both workers run and one leads. CI runs 4 rounds (one of each kind);
``make test-long`` (``HYPOTHESIS_PROFILE=long``) runs 24; ``EBL_CRASH_ROUNDS`` overrides either,
``EBL_CRASH_SEED`` fixes the schedule. The end invariants are the single-process harness's: every
acknowledged operation final and on chain exactly once, in order, per eBL; each Idempotency-Key names
one operation; 503, never 500, while the ledger is down; the index lists exactly the chain's events;
after a graceful stop no anvil and no worker is left running and the persisted chain holds everything.
And every acknowledged governance action is on chain exactly once, in order, per organisation.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from registry.members import org_address_for
from tests.support.crash_load import (
    OP_DEADLINE,
    CrashRun,
    Ledger,
    Load,
    check,
    crash_rounds,
    crash_seed,
    kill_schedule,
    registry_logs,
    stop_and_reload,
)
from tests.support.gateway_process import WITNESS_HISTORY, GatewayProcess
from tests.support.postgres import PostgresServer, postgres_unavailable_reason
from tests.support.workers import leader_pid, worker_pids

pytestmark = pytest.mark.skipif(
    postgres_unavailable_reason() is not None, reason=str(postgres_unavailable_reason())
)

ROUNDS = crash_rounds(ci=4, long=24)
SEED = crash_seed()
CLIENTS = 3
GOVERNORS = 2
WORKERS = 2
KINDS = ("leader", "follower", "serve", "chain")
STEP_LEAVES = {"onboard": "ACTIVE", "suspend": "SUSPENDED", "reinstate": "ACTIVE"}
"""The organisation's status after each governance step."""
MEMBERSHIP_EVENTS = {
    "OrganisationRegistered": "onboard",
    "OrganisationSuspended": "suspend",
    "OrganisationReinstated": "reinstate",
}


class Governor(threading.Thread):
    """Onboards a fresh organisation, suspends it and reinstates it, over and over, until stopped;
    each step sent again (on a fresh connection) until it is answered. A step whose earlier attempt
    got no answer (or 503) may have gone through: when a later attempt is refused (the organisation
    exists, is suspended already ...), the governor asks the organisation's record, as an operator
    would, and the step is acknowledged if the record shows it done."""

    def __init__(self, n: int, gw: GatewayProcess, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__(name=f"governor-{n}", daemon=True)
        self.n, self.gw, self.ledger, self.stop_event = n, gw, ledger, stop
        assert gw.credentials is not None
        self.http = gw.client(
            gw.credentials["governance"]["token"],
            timeout=150,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.acked: dict[str, list[str]] = {}
        """Organisation address -> the governance steps acknowledged for it, in order."""

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                identifier = f"LEI:CRASH-{self.n}-{uuid.uuid4().hex[:12].upper()}"
                org = org_address_for(identifier)  # the organisation's address is its identifier's
                body = {"identifier": identifier, "name": f"Crash trader {identifier}", "role": "trader"}
                if self.step(org, "onboard", "/v1/governance/organisations", body):
                    for step in ("suspend", "reinstate"):
                        if not self.step(org, step, f"/v1/governance/organisations/{org}/{step}", None):
                            break
        except Exception as exc:  # a harness bug must not pass silently
            self.ledger.problem(f"{self.name} crashed: {type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    def step(self, org: str, step: str, path: str, body: Any) -> bool:
        """Send one governance step until answered; True (and recorded) when acknowledged."""
        deadline = time.monotonic() + OP_DEADLINE
        uncertain = False
        while time.monotonic() < deadline:
            try:
                r = self.http.post(path, json=body)
            except httpx.HTTPError:
                uncertain = True
                time.sleep(0.3)
                continue
            self.ledger.note(r)
            if r.status_code in (200, 201) or (
                uncertain and 400 <= r.status_code < 500 and self.done(org, step)
            ):
                self.acked.setdefault(org, []).append(step)
                return True
            if r.status_code != 503:
                self.ledger.problem(f"{step} {path}: {r.status_code} {r.text[:300]}")
                return False
            uncertain = True
            time.sleep(0.3)
        self.ledger.problem(f"{step} {path} never acknowledged")
        return False

    def done(self, org: str, step: str) -> bool:
        """Whether the organisation's record shows ``step`` done (an uncertain attempt went through);
        asked again while the ledger is away (503) or the worker answering is killed."""
        deadline = time.monotonic() + OP_DEADLINE
        while time.monotonic() < deadline:
            try:
                r = self.http.get(f"/v1/governance/organisations/{org}")
            except httpx.HTTPError:
                time.sleep(0.3)
                continue
            self.ledger.note(r)
            if r.status_code != 503:
                return r.status_code == 200 and r.json()["status"] == STEP_LEAVES[step]
            time.sleep(0.3)
        return False


def _membership_on_chain(gw: GatewayProcess) -> dict[str, list[str]]:
    """Every organisation's governance events straight from the chain, in order."""
    out: dict[str, list[str]] = {}
    for name, args, _, _ in registry_logs(gw, tuple(MEMBERSHIP_EVENTS)):
        out.setdefault(str(args["org"]), []).append(MEMBERSHIP_EVENTS[name])
    return out


def _await_cluster(gw: GatewayProcess, conninfo: str, timeout: float = 180.0) -> int:
    """Wait until both workers run and one of them leads; the leader's pid."""
    deadline = time.monotonic() + timeout
    while True:
        workers, leader = worker_pids(gw), leader_pid(conninfo)
        if len(workers) == WORKERS and leader in workers and gw.ready():
            return leader
        if time.monotonic() > deadline:
            state = f"workers {workers}, leader {leader}, ready {gw.ready()}"
            raise AssertionError(f"seed={SEED}: no full cluster in {timeout:.0f} s: {state}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrashRun, list[Governor]]]:
    rng = random.Random(SEED)
    postgres = PostgresServer().start()
    ledger = Ledger()
    started = time.monotonic()
    schedule: list[str] = []
    try:
        url = postgres.create_database("crashworkers")
        conninfo = postgres.conninfo("crashworkers")
        root = tmp_path_factory.mktemp("crashworkers")
        gw = GatewayProcess(root, workers=WORKERS, env={"EBL_DATABASE_URL": url, **WITNESS_HISTORY})
        try:
            gw.start(timeout=600)
            _await_cluster(gw, conninfo)
            load = Load(gw, ledger, seed=SEED, count=CLIENTS, fresh_connections=True).start()
            stop = threading.Event()
            governors = [Governor(n, gw, ledger, stop) for n in range(GOVERNORS)]
            for g in governors:
                g.start()
            for kind in kill_schedule(rng, KINDS, ROUNDS, schedule):
                leader = _await_cluster(gw, conninfo)
                if kind == "leader":
                    os.kill(leader, signal.SIGKILL)
                elif kind == "follower":
                    os.kill(rng.choice(sorted(worker_pids(gw) - {leader})), signal.SIGKILL)
                elif kind == "serve":
                    gw.kill_gateway()
                    gw.start(timeout=600)
                else:
                    gw.kill_chain()
                    time.sleep(0.5)  # let the supervisor restart it and the leader recover
                    gw.wait_ready()
                load.killed()
            time.sleep(1.0)
            load.finish()
            stop.set()
            for g in governors:
                g.join(timeout=OP_DEADLINE + 30)
                if g.is_alive():
                    ledger.problem(f"{g.name} did not finish")
            _await_cluster(gw, conninfo)
            chain = check(gw, ledger)
            membership = _membership_on_chain(gw)
            for g in governors:
                for org, steps in g.acked.items():
                    if (on_chain := membership.get(org)) != steps:
                        ledger.problem(f"organisation {org}: acknowledged {steps}, on chain {on_chain}")
            anvil = gw.anvil_pid()
            processes = worker_pids(gw) | ({anvil} if anvil is not None else set())
            stop_and_reload(gw, ledger, chain, processes)
            yield CrashRun(gw, ledger, schedule, chain, time.monotonic() - started, SEED), governors
        finally:
            gw.close()
    finally:
        postgres.stop()


def test_every_acknowledged_operation_is_final_exactly_once_after_killing_workers(
    crash_run: tuple[CrashRun, list[Governor]],
) -> None:
    """kill -9 of the leader, of a follower, of the whole serve process and of the chain, under load."""
    run, governors = crash_run
    run.assert_clean(ROUNDS, min_acknowledged=2 * ROUNDS)  # a worker's restart takes seconds
    onboarded = sum(len(g.acked) for g in governors)
    assert onboarded >= 2, run.summary()  # governance really ran through the kills too
    print(f"organisations onboarded through the kills: {onboarded}")


def test_no_key_material_in_any_output_or_response(crash_run: tuple[CrashRun, list[Governor]]) -> None:
    """Grep every worker's and the supervisor's output, the chain's logs and every response for keys."""
    leaks = crash_run[0].leaks()
    assert not leaks, leaks
