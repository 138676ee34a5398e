"""The crash harnesses' load and end checks (tests/scripts/test_serve_crash_restart.py, one gateway
process; tests/scripts/test_workers_crash_restart.py, several workers on PostgreSQL).

:class:`Client` threads drive fresh eBLs through their life cycles over HTTP (mostly ``?wait=false``,
some ``?wait=true``; then polling the operation until final), each write with its own
``Idempotency-Key``, sent again with the same key until acknowledged whatever the harness kills; after
every kill round they re-send some already acknowledged requests with their keys. What they saw goes to
one shared :class:`Ledger`; :func:`check` holds it against the chain (web3, the registry's ABI) and
the index (the auditor API) at the end, and :func:`key_material` lists the secrets no output may hold.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from eth_account import Account
from web3 import Web3
from web3.exceptions import MismatchedABI

from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.types import Action
from tests.fixtures.dcsa import issued_example
from tests.hypothesis_profiles import PROFILE
from tests.support.gateway_process import GatewayProcess

__all__ = [
    "OP_DEADLINE",
    "Acked",
    "Client",
    "CrashRun",
    "Ledger",
    "Load",
    "chain_events",
    "check",
    "crash_rounds",
    "crash_seed",
    "indexed_events",
    "key_material",
    "registry_logs",
    "stop_and_reload",
]

OP_DEADLINE = 150.0
"""Seconds a write may take from its first attempt until final, through every kill."""


def crash_rounds(ci: int, long: int) -> int:
    """Kill rounds: ``EBL_CRASH_ROUNDS``, else ``long`` under ``HYPOTHESIS_PROFILE=long``, else ``ci``."""
    return int(os.environ.get("EBL_CRASH_ROUNDS", str(long if PROFILE == "long" else ci)))


def crash_seed() -> int:
    """The random schedule's seed: ``EBL_CRASH_SEED``, else a fresh one (printed in the summary)."""
    return int(os.environ.get("EBL_CRASH_SEED", str(time.time_ns() % 2**32)))


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


class Client(threading.Thread):
    """Drives fresh eBLs through their life cycles until told to stop; retries through crashes."""

    def __init__(
        self,
        n: int,
        gw: GatewayProcess,
        ledger: Ledger,
        generation: list[int],
        stop: threading.Event,
        *,
        seed: int,
        fresh_connections: bool = False,
    ) -> None:
        """``generation`` counts the kill rounds (the harness bumps it after each); with
        ``fresh_connections`` every request opens its own connection, so several gateway workers
        behind one port all get some (a kept-alive connection stays with one worker)."""
        super().__init__(name=f"client-{n}", daemon=True)
        self.n, self.gw, self.ledger, self.generation, self.stop_event = n, gw, ledger, generation, stop
        self.rng = random.Random(seed + n)
        assert gw.credentials is not None
        self.creds = gw.credentials
        limits = httpx.Limits(max_keepalive_connections=0) if fresh_connections else httpx.Limits()
        self.http = {
            name: gw.client(self.creds[name]["token"], timeout=150, limits=limits)
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


EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
"""The root of an empty Merkle-Patricia trie: a block without transactions."""


def registry_logs(gw: GatewayProcess, names: tuple[str, ...]) -> Iterator[tuple[str, Any, str, int]]:
    """The registry's events named ``names``, straight from the chain, in chain order: (event name,
    decoded args, tx hash, log index)."""
    deployment = Deployment.load(gw.data_dir / "deployment.json")
    w3 = Web3(Web3.HTTPProvider(gw.chain_url, request_kwargs={"timeout": 60}))
    first = w3.eth.get_block(deployment.block_number)
    # a node that forgot old blocks' bodies (anvil's --transaction-block-keeper) would undercount here
    assert first["transactions"] or first["transactionsRoot"] == EMPTY_TRIE_ROOT, (
        "the chain no longer serves the deployment block's transactions: start the gateway with "
        "tests.support.gateway_process.WITNESS_HISTORY to count on its logs"
    )
    contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
    logs = w3.eth.get_logs(
        {"address": deployment.address, "fromBlock": deployment.block_number, "toBlock": "latest"}
    )
    for entry in logs:
        for name in names:
            try:
                event = getattr(contract.events, name)().process_log(entry)
            except MismatchedABI:
                continue
            yield name, event["args"], "0x" + bytes(entry["transactionHash"]).hex(), int(entry["logIndex"])


def chain_events(gw: GatewayProcess) -> dict[str, list[tuple[str, str, int]]]:
    """Every eBL's Issued / ActionRecorded events straight from the chain: (action, tx hash, log index)."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, args, tx, log_index in registry_logs(gw, ("Issued", "ActionRecorded")):
        action = Action.ISSUE if name == "Issued" else tuple(Action)[args["action"]]
        out.setdefault(str(args["eblId"]), []).append((action.dcsa_code, tx, log_index))
    return out


def indexed_events(
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


def check(gw: GatewayProcess, ledger: Ledger) -> dict[str, list[tuple[str, str, int]]]:
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

    chain = chain_events(gw)
    for ebl, actions in ledger.expected.items():
        on_chain = [a for a, _, _ in chain.get(ebl, [])]
        if on_chain != actions:
            ledger.problem(f"eBL {ebl}: acknowledged {actions}, on chain {on_chain}")

    ebl_ids = sorted(ledger.expected)
    deadline = time.monotonic() + 30
    while True:  # the index follows the chain a block or two behind
        indexed = indexed_events(gw, ebl_ids, ledger)
        wrong = [e for e in ebl_ids if indexed[e] != chain.get(e, [])]
        if not wrong or time.monotonic() > deadline:
            break
        time.sleep(1)
    for e in wrong:
        ledger.problem(f"eBL {e}: index {indexed[e]} != chain {chain.get(e, [])}")
    return chain


def key_material(gw: GatewayProcess) -> list[str]:
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


@dataclass
class CrashRun:
    """One harness run: the gateway it killed, what the clients saw, the kill schedule and the chain."""

    gateway: GatewayProcess
    ledger: Ledger
    schedule: list[str]
    chain_events: dict[str, list[tuple[str, str, int]]]
    seconds: float
    seed: int

    def summary(self) -> str:
        """One line: seed, schedule, counts, statuses and wall time (printed, and in every failure)."""
        logs = "".join(p.read_text(errors="replace") for p in self.gateway.output_files())
        resubmitted = sum(
            int(line.split("resubmitted ")[1].split()[0])
            for line in logs.splitlines()
            if "resubmitted " in line and line.split("resubmitted ")[1].split()[0].isdigit()
        )
        ledger = self.ledger
        return (
            f"seed={self.seed} rounds={self.schedule} acknowledged={len(ledger.acked)} "
            f"resubmitted by recovery={resubmitted} "
            f"eBLs={len(ledger.expected)} replays after kills={ledger.retried_after_kill} "
            f"gateway runs={self.gateway.runs} statuses={dict(ledger.statuses)} in {self.seconds:.0f}s"
        )

    def assert_clean(self, rounds: int, min_acknowledged: int | None = None) -> None:
        """No invariant broken, every round run, the load really ran through the kills (at least
        ``min_acknowledged`` writes acknowledged: by default five a round)."""
        summary = self.summary()
        assert not self.ledger.problems, summary + "\n" + "\n".join(self.ledger.problems[:40])
        assert len(self.schedule) == rounds
        least = 5 * rounds if min_acknowledged is None else min_acknowledged
        assert len(self.ledger.acked) >= least, summary
        assert self.ledger.retried_after_kill > 0, summary
        print(summary)

    def leaks(self) -> list[tuple[str, str]]:
        """Where a keystore key or the passphrase shows: every run's stdout and stderr, the chain's
        logs, every HTTP response the clients got and a few anonymous GETs (where, the secret's start)."""
        gw = self.gateway
        secrets = key_material(gw)
        assert len(secrets) >= 1 + 3 * 6  # passphrase; governance, relayer and four demo organisations
        haystacks = {str(p): p.read_text(errors="replace") for p in gw.output_files()}
        haystacks["http responses"] = "\n".join(self.ledger.responses)
        with httpx.Client(base_url=gw.url, timeout=30) as anonymous:
            for path in ("/metrics", "/openapi.json", "/v1/operations/nope", "/readyz"):
                haystacks[f"GET {path}"] = anonymous.get(path).text
        assert len(haystacks) > 3 and any("registry 0x" in text for text in haystacks.values())
        return [(where, s[:6] + "…") for where, text in haystacks.items() for s in secrets if s in text]


class Load:
    """``count`` :class:`Client` threads on one gateway; :meth:`killed` after each kill round."""

    def __init__(
        self, gw: GatewayProcess, ledger: Ledger, *, seed: int, count: int, fresh_connections: bool = False
    ) -> None:
        fresh = fresh_connections
        self._ledger = ledger
        self._generation = [0]
        self._stop = threading.Event()
        self._clients = [
            Client(n, gw, ledger, self._generation, self._stop, seed=seed, fresh_connections=fresh)
            for n in range(count)
        ]

    def start(self) -> Load:
        for c in self._clients:
            c.start()
        return self

    def killed(self) -> None:
        """A kill round is over: each client re-sends some acknowledged requests with their keys."""
        self._generation[0] += 1

    def finish(self) -> None:
        """Stop issuing; wait for every client's last write to be final."""
        self._stop.set()
        for c in self._clients:
            c.join(timeout=OP_DEADLINE + 30)
            if c.is_alive():
                self._ledger.problem(f"{c.name} did not finish")


def stop_and_reload(
    gw: GatewayProcess, ledger: Ledger, chain: dict[str, list[tuple[str, str, int]]], processes: set[int]
) -> None:
    """A graceful stop (SIGTERM) exits 0 and leaves none of ``processes`` (the chain, the workers)
    running; started again, the chain state it persisted holds every event ``chain`` had."""
    code = gw.stop()
    if code != 0:
        ledger.problem(f"gateway exited with {code} on SIGTERM")
    for pid in sorted(processes):
        if _running(pid):
            ledger.problem(f"process {pid} still running after a graceful stop")
    gw.start()
    persisted = chain_events(gw)
    for ebl, events in chain.items():
        if persisted.get(ebl) != events:
            ledger.problem(f"eBL {ebl}: after a graceful restart {persisted.get(ebl)} != {events}")


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_schedule(
    rng: random.Random, kinds: Sequence[str], rounds: int, schedule: list[str]
) -> Iterator[str]:
    """The harness's rounds: each kind of kill once per ``len(kinds)`` rounds, in an order shuffled by
    ``rng``, each after 1-3 s of load (so the kill lands at a random moment); ``schedule`` records them."""
    order = list(kinds)
    for n in range(rounds):
        if n % len(order) == 0:
            rng.shuffle(order)
        schedule.append(order[n % len(order)])
        time.sleep(rng.uniform(1.0, 3.0))  # load runs; the kill lands at a random moment
        yield schedule[-1]
