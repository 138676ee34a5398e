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

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import MismatchedABI

from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.types import Action
from tests.fixtures.dcsa import issued_example
from tests.hypothesis_profiles import PROFILE
from tests.support.gateway_process import GatewayProcess

ROUNDS = int(os.environ.get("EBL_CRASH_ROUNDS", "24" if PROFILE == "long" else "4"))
SEED = int(os.environ.get("EBL_CRASH_SEED", str(time.time_ns() % 2**32)))
CLIENTS = 3
OP_DEADLINE = 150.0
KINDS = ("gateway", "chain", "chain+gateway", "torn dump")

# Life cycles after issuance: (API step, acting demo organisation, counterparty).
FULL = (
    ("endorse", "shipper", "bank"),
    ("transfer", "shipper", "bank"),
    ("surrender", "bank", None),
    ("accept", "carrier", None),
)
SHAPES = (FULL, FULL[1:2], ())
STEP_ACTION = {
    "issue": Action.ISSUE,
    "endorse": Action.ENDORSE_TO_ORDER,
    "transfer": Action.TRANSFER,
    "surrender": Action.SURRENDER_FOR_DELIVERY,
    "accept": Action.ACCEPT_SURRENDER,
}


@dataclass
class Acked:
    """One acknowledged write: its key, the request that made it and the operation it named."""

    key: str
    who: str
    path: str
    body: Any
    operation_id: str
    ebl_id: str
    action: str


@dataclass
class Ledger:
    """What the clients saw, shared by their threads."""

    acked: list[Acked] = field(default_factory=list)
    ids_by_key: dict[str, set[str]] = field(default_factory=dict)
    expected: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    retried_after_kill: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            self.responses.append(f"{response.status_code} {response.headers} {response.text}")
            if response.status_code >= 500 and response.status_code != 503:
                self.problems.append(
                    f"{response.status_code} from {response.url.path}: {response.text[:300]}"
                )

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


@dataclass
class CrashRun:
    gateway: GatewayProcess
    ledger: Ledger
    schedule: list[str]
    chain_events: dict[str, list[tuple[str, str, int]]]
    seconds: float


class Client(threading.Thread):
    """Drives fresh eBLs through their life cycles until told to stop; retries through crashes."""

    def __init__(
        self, n: int, gw: GatewayProcess, ledger: Ledger, generation: list[int], stop: threading.Event
    ) -> None:
        super().__init__(name=f"client-{n}", daemon=True)
        self.n, self.gw, self.ledger, self.generation, self.stop_event = n, gw, ledger, generation, stop
        self.rng = random.Random(SEED + n)
        assert gw.credentials is not None
        self.creds = gw.credentials
        self.http = {
            name: gw.client(self.creds[name]["token"], timeout=150)
            for name in ("carrier", "shipper", "bank", "consignee")
        }
        self.seen_generation = generation[0]
        self.mine: list[Acked] = []

    def org(self, name: str) -> str:
        return self.creds[name]["org"]

    def run(self) -> None:
        try:
            count = 0
            while not self.stop_event.is_set():
                count += 1
                reference = f"CR{self.n}{uuid.uuid4().hex[:12].upper()}"
                ebl = self.write("carrier", "/v1/carriers/ebls", self.issue_body(reference))
                if ebl is None:
                    continue
                for step, who, party in SHAPES[count % len(SHAPES)]:
                    if self.write(who, *self.step_request(ebl, step, party)) is None:
                        break
        except Exception as exc:  # a harness bug must not pass silently
            self.ledger.problem(f"{self.name} crashed: {type(exc).__name__}: {exc}")
        finally:
            for c in self.http.values():
                c.close()

    def issue_body(self, reference: str) -> dict[str, Any]:
        document = issued_example(transportDocumentReference=reference)
        return {"document": document, "issueTo": self.org("shipper")}

    def step_request(self, ebl: str, step: str, party: str | None) -> tuple[str, Any]:
        if step == "endorse":
            return f"/v1/holders/ebls/{ebl}/endorse", {"endorsee": self.org(party or "")}
        if step == "transfer":
            return f"/v1/holders/ebls/{ebl}/transfer", {"to": self.org(party or "")}
        if step == "surrender":
            return f"/v1/holders/ebls/{ebl}/surrender", {"reason": "DELIVERY"}
        return f"/v1/carriers/ebls/{ebl}/accept-surrender", None

    def post(self, who: str, path: str, body: Any, key: str) -> httpx.Response | None:
        wait = "true" if self.rng.random() < 0.3 else "false"  # some requests block until final
        try:
            r = self.http[who].post(path, json=body, params={"wait": wait}, headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            return None
        self.ledger.note(r)
        return r

    def write(self, who: str, path: str, body: Any) -> str | None:
        """Send one write until acknowledged (same key every time), then poll it until final; returns
        the eBL id, or None when it never got there (recorded as a problem)."""
        key = f"{self.name}-{uuid.uuid4()}"
        deadline = time.monotonic() + OP_DEADLINE
        attempts = 0
        while True:
            self.replay_after_restart()
            r = self.post(who, path, body, key)
            attempts += 1
            if r is not None and r.status_code in (200, 201, 202):
                break
            if time.monotonic() > deadline:
                detail = f"{r.status_code} {r.text[:300]}" if r is not None else "no answer"
                self.ledger.problem(f"{path} never acknowledged after {attempts} attempts: {detail}")
                return None
            # gateway down, chain restarting, or the chain lost the previous (acknowledged) step and the
            # journal has not resubmitted it yet: the same request, same key, a moment later
            time.sleep(0.3)
        op = r.json()
        acked = Acked(key, who, path, body, op["operationId"], op["eblId"], op["action"])
        with self.ledger.lock:
            self.ledger.acked.append(acked)
            self.ledger.ids_by_key.setdefault(key, set()).add(acked.operation_id)
            self.ledger.expected.setdefault(acked.ebl_id, []).append(acked.action)
        self.mine.append(acked)
        return acked.ebl_id if self.until_final(acked, deadline) else None

    def until_final(self, acked: Acked, deadline: float) -> bool:
        while time.monotonic() < deadline:
            try:
                r = self.http[acked.who].get(f"/v1/operations/{acked.operation_id}")
            except httpx.HTTPError:
                time.sleep(0.3)
                continue
            self.ledger.note(r)
            status = r.json().get("status") if r.status_code == 200 else None
            if status == "final":
                return True
            if status == "failed" or r.status_code == 404:
                self.ledger.problem(f"acknowledged {acked.action} {acked.operation_id}: {r.text[:400]}")
                return False
            time.sleep(0.2)
        self.ledger.problem(f"acknowledged {acked.action} {acked.operation_id} not final in time")
        return False

    def replay_after_restart(self) -> None:
        """After each crash, re-send up to two acknowledged requests with their keys: same operation."""
        if self.generation[0] == self.seen_generation or not self.mine:
            return
        self.seen_generation = self.generation[0]
        for acked in self.rng.sample(self.mine, min(2, len(self.mine))):
            r = self.post(acked.who, acked.path, acked.body, acked.key)
            if r is None:
                continue  # down again: the final check re-sends every key anyway
            with self.ledger.lock:
                self.ledger.retried_after_kill += 1
            if r.status_code in (200, 201, 202):
                with self.ledger.lock:
                    self.ledger.ids_by_key[acked.key].add(r.json()["operationId"])
            elif r.status_code != 503:
                self.ledger.problem(f"replayed key {acked.key}: {r.status_code} {r.text[:300]}")


def _chain_events(gw: GatewayProcess) -> dict[str, list[tuple[str, str, int]]]:
    """Every eBL's Issued / ActionRecorded events straight from the chain: (action, tx hash, log index)."""
    deployment = Deployment.load(gw.data_dir / "deployment.json")
    w3 = Web3(Web3.HTTPProvider(gw.chain_url, request_kwargs={"timeout": 60}))
    contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
    logs = w3.eth.get_logs(
        {"address": deployment.address, "fromBlock": deployment.block_number, "toBlock": "latest"}
    )
    out: dict[str, list[tuple[str, str, int]]] = {}
    for entry in logs:
        for name in ("Issued", "ActionRecorded"):
            try:
                event = getattr(contract.events, name)().process_log(entry)
            except MismatchedABI:
                continue
            action = Action.ISSUE if name == "Issued" else tuple(Action)[event["args"]["action"]]
            tx = "0x" + bytes(entry["transactionHash"]).hex()
            out.setdefault(str(event["args"]["eblId"]), []).append(
                (action.dcsa_code, tx, int(entry["logIndex"]))
            )
    return out


def _indexed_events(
    gw: GatewayProcess, ebl_ids: list[str], ledger: Ledger
) -> dict[str, list[tuple[str, str, int]]]:
    assert gw.credentials is not None
    out: dict[str, list[tuple[str, str, int]]] = {}
    with gw.client(gw.credentials["auditor"]["token"], timeout=30) as auditor:
        for ebl in ebl_ids:
            r = auditor.get(f"/v1/auditors/ebls/{ebl}/history")
            ledger.note(r)
            out[ebl] = (
                [(e["action"], e["txHash"], e["logIndex"]) for e in r.json()] if r.status_code == 200 else []
            )
    return out


def _check(gw: GatewayProcess, ledger: Ledger) -> dict[str, list[tuple[str, str, int]]]:
    """The end-of-run invariants; violations go to ``ledger.problems``. Returns the chain's events."""
    assert gw.credentials is not None
    clients = {name: gw.client(gw.credentials[name]["token"], timeout=60) for name in gw.credentials}
    try:
        for acked in ledger.acked:  # final, and every key still names its one operation
            r = clients[acked.who].get(f"/v1/operations/{acked.operation_id}")
            ledger.note(r)
            if r.status_code != 200 or r.json()["status"] != "final":
                ledger.problem(f"acknowledged {acked.operation_id} is not final: {r.text[:300]}")
            again = clients[acked.who].post(
                acked.path, json=acked.body, params={"wait": "false"}, headers={"Idempotency-Key": acked.key}
            )
            ledger.note(again)
            if again.status_code not in (200, 201, 202):
                ledger.problem(f"key {acked.key} replayed: {again.status_code} {again.text[:300]}")
            else:
                ledger.ids_by_key[acked.key].add(again.json()["operationId"])
    finally:
        for c in clients.values():
            c.close()
    for key, ids in ledger.ids_by_key.items():
        if len(ids) != 1:
            ledger.problem(f"Idempotency-Key {key} named several operations: {sorted(ids)}")

    chain = _chain_events(gw)
    for ebl, actions in ledger.expected.items():
        on_chain = [a for a, _, _ in chain.get(ebl, [])]
        if on_chain != actions:
            ledger.problem(f"eBL {ebl}: acknowledged {actions}, on chain {on_chain}")

    ebl_ids = sorted(ledger.expected)
    deadline = time.monotonic() + 30
    while True:  # the index follows the chain a block or two behind
        indexed = _indexed_events(gw, ebl_ids, ledger)
        wrong = [e for e in ebl_ids if indexed[e] != chain.get(e, [])]
        if not wrong or time.monotonic() > deadline:
            break
        time.sleep(1)
    for e in wrong:
        ledger.problem(f"eBL {e}: index {indexed[e]} != chain {chain.get(e, [])}")
    return chain


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRun]:
    rng = random.Random(SEED)
    gw = GatewayProcess(tmp_path_factory.mktemp("crash"))
    ledger = Ledger()
    started = time.monotonic()
    schedule: list[str] = []
    try:
        gw.start()
        generation = [0]
        stop = threading.Event()
        clients = [Client(n, gw, ledger, generation, stop) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        kinds = list(KINDS)
        for n in range(ROUNDS):
            if n % len(KINDS) == 0:
                rng.shuffle(kinds)
            kind = kinds[n % len(KINDS)]
            schedule.append(kind)
            time.sleep(rng.uniform(1.0, 3.0))  # load runs; the kill lands at a random moment
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
                state = gw.data_dir / "chain" / "state.json"
                state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
                gw.start()
            generation[0] += 1
        time.sleep(1.0)
        stop.set()
        for c in clients:
            c.join(timeout=OP_DEADLINE + 30)
            if c.is_alive():
                ledger.problem(f"{c.name} did not finish")
        gw.wait_ready()
        chain = _check(gw, ledger)

        # A graceful stop leaves no anvil behind; the state it persisted holds everything acknowledged.
        anvil = gw.anvil_pid()
        code = gw.stop()
        if code != 0:
            ledger.problem(f"gateway exited with {code} on SIGTERM")
        if anvil is not None and Path(f"/proc/{anvil}").exists():
            ledger.problem(f"anvil {anvil} still running after a graceful stop")
        gw.start()
        persisted = _chain_events(gw)
        for ebl, events in chain.items():
            if persisted.get(ebl) != events:
                ledger.problem(f"eBL {ebl}: after a graceful restart {persisted.get(ebl)} != {events}")
        yield CrashRun(gw, ledger, schedule, chain, time.monotonic() - started)
    finally:
        gw.close()


def test_every_acknowledged_operation_is_final_exactly_once_after_random_kills(crash_run: CrashRun) -> None:
    """kill -9 of the gateway, of the chain, and of both, at random moments under load."""
    ledger = crash_run.ledger
    logs = "".join(p.read_text(errors="replace") for p in crash_run.gateway.output_files())
    resubmitted = sum(
        int(line.split("resubmitted ")[1].split()[0])
        for line in logs.splitlines()
        if "resubmitted " in line and line.split("resubmitted ")[1].split()[0].isdigit()
    )
    summary = (
        f"seed={SEED} rounds={crash_run.schedule} acknowledged={len(ledger.acked)} "
        f"resubmitted by recovery={resubmitted} "
        f"eBLs={len(ledger.expected)} replays after kills={ledger.retried_after_kill} "
        f"gateway runs={crash_run.gateway.runs} statuses={dict(ledger.statuses)} in {crash_run.seconds:.0f}s"
    )
    assert not ledger.problems, summary + "\n" + "\n".join(ledger.problems[:40])
    assert len(crash_run.schedule) == ROUNDS
    assert len(ledger.acked) >= 5 * ROUNDS, summary  # the load really ran through the kills
    assert ledger.retried_after_kill > 0, summary
    print(summary)


def _key_material(gw: GatewayProcess) -> list[str]:
    """Every keystore private key (hex, with and without 0x, both cases) and the passphrase."""
    passphrase = (gw.data_dir / "secrets" / "keystore-passphrase").read_text().strip()
    secrets = [passphrase]
    for path in sorted((gw.data_dir / "keys").rglob("*.json")):
        keyfile = json.loads(path.read_text())
        if "crypto" not in keyfile:
            continue
        key = bytes(Account.decrypt(keyfile, passphrase)).hex()
        secrets += [key, "0x" + key, key.upper()]
    return secrets


def test_no_key_material_in_any_output_or_response(crash_run: CrashRun) -> None:
    """Grep every run's stdout and stderr, the chain's logs and every HTTP response for the keys."""
    gw = crash_run.gateway
    secrets = _key_material(gw)
    assert len(secrets) >= 1 + 3 * 6  # passphrase; governance, relayer and four demo organisations
    haystacks = {str(p): p.read_text(errors="replace") for p in gw.output_files()}
    haystacks["http responses"] = "\n".join(crash_run.ledger.responses)
    with httpx.Client(base_url=gw.url, timeout=30) as anonymous:
        for path in ("/metrics", "/openapi.json", "/v1/operations/nope", "/readyz"):
            haystacks[f"GET {path}"] = anonymous.get(path).text
    assert len(haystacks) > 3 and any("registry 0x" in text for text in haystacks.values())
    leaks = [(where, s[:6] + "…") for where, text in haystacks.items() for s in secrets if s in text]
    assert not leaks, leaks
