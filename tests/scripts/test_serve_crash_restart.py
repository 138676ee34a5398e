"""Crash and restart: `make run`'s processes under load, killed with SIGKILL at random moments.

One module-scoped run (:func:`crash_run`): ``python -m scripts.serve`` in a fresh data folder, a few
client threads driving eBLs through their life cycles over HTTP (mostly ``?wait=false``, some
``?wait=true``; then polling the operation until final), each write with its own ``Idempotency-Key``.
Round after round the harness kills -9, at a random moment:

* the gateway (and restarts it: its orphaned anvil is stopped and the journal recovers);
* the embedded chain (the running gateway restarts it and resubmits what the chain lost);
* the chain and then the gateway (a machine crash: the chain comes back from its last state dump
  and the gateway's start-up recovery finds what it lost);
* both, with the state dump torn in half (the chain comes back from the backup of its state file).

Requests cut off by a kill are retried with the same key, and after every restart each client
re-sends some already acknowledged requests with their keys. CI runs 4 rounds (one of each kind);
``make test-long`` (``HYPOTHESIS_PROFILE=long``) runs 24; ``EBL_CRASH_ROUNDS`` overrides either,
``EBL_CRASH_SEED`` fixes the random schedule.

At the end, against the chain directly (web3, the registry's ABI) and the index through the API:

* every operation the gateway acknowledged is final, and on chain exactly once, in order, per eBL;
* every Idempotency-Key always answered with one and the same operation;
* while the chain is down or restarting the gateway answers 503 (ledger unavailable), never 500;
* the auditor history (the index) lists exactly the chain's events;
* after a graceful stop no anvil is left running, and the persisted chain state, loaded again,
  holds every acknowledged operation.

A second test greps every captured stdout / stderr, the chain's logs and every HTTP response body for
each keystore's private key and for the keystore passphrase.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from tests.support.crash_load import (
    CrashRun,
    Ledger,
    Load,
    check,
    crash_rounds,
    crash_seed,
    kill_schedule,
    stop_and_reload,
)
from tests.support.gateway_process import WITNESS_HISTORY, GatewayProcess

ROUNDS = crash_rounds(ci=4, long=24)
SEED = crash_seed()
CLIENTS = 3
KINDS = ("gateway", "chain", "chain+gateway", "torn dump")


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRun]:
    rng = random.Random(SEED)
    gw = GatewayProcess(tmp_path_factory.mktemp("crash"), env=dict(WITNESS_HISTORY))
    ledger = Ledger()
    started = time.monotonic()
    schedule: list[str] = []
    try:
        gw.start()
        load = Load(gw, ledger, seed=SEED, count=CLIENTS).start()
        for kind in kill_schedule(rng, KINDS, ROUNDS, schedule):
            if kind == "gateway":
                gw.kill_gateway()
                gw.start()
            elif kind == "chain":
                gw.kill_chain()
                time.sleep(0.5)  # let the gateway notice, restart its anvil and recover
                gw.wait_ready()
            elif kind == "chain+gateway":
                gw.kill_chain()
                time.sleep(rng.uniform(0.0, 0.5))
                gw.kill_gateway()
                gw.start()
            else:  # the chain killed in the middle of writing its state dump
                gw.kill_gateway()
                gw.kill_chain()
                gw.tear_state_dump()
                gw.start()
            load.killed()
        time.sleep(1.0)
        load.finish()
        gw.wait_ready()
        chain = check(gw, ledger)
        anvil = gw.anvil_pid()
        stop_and_reload(gw, ledger, chain, {anvil} if anvil is not None else set())
        yield CrashRun(gw, ledger, schedule, chain, time.monotonic() - started, SEED)
    finally:
        gw.close()


def test_every_acknowledged_operation_is_final_exactly_once_after_random_kills(crash_run: CrashRun) -> None:
    """kill -9 of the gateway, of the chain, and of both, at random moments under load."""
    crash_run.assert_clean(ROUNDS)


def test_no_key_material_in_any_output_or_response(crash_run: CrashRun) -> None:
    """Grep every run's stdout and stderr, the chain's logs and every HTTP response for the keys."""
    leaks = crash_run.leaks()
    assert not leaks, leaks
