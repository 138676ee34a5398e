"""The embedded chain under load through the library's batch path, for :mod:`bench.endurance`.

An anvil is started as the registry starts it (:class:`registry.chain.anvil.AnvilProcess` with a state
file in a temporary folder, interval mining), the registry is deployed, a carrier and a shipper are
onboarded, and signed operations go to the chain through :class:`registry.chain.relayer.Relayer` (the
path the gateway's outbox takes), paced open loop at a target rate. No HTTP gateway is involved: what is
measured is the ledger, not the web tier.

The load is the project's "ops/s" mix (:data:`bench.throughput.MIX_TARGET`: 40 % issue, 30 % transfer,
20 % endorse, 10 % surrender + accept), built from the life-cycle shapes of :mod:`bench.throughput`
(``SHAPES``, ``CYCLE``) as :mod:`bench.soak` builds it over HTTP; or issuances only (``mix=False``).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from bench.throughput import CYCLE, SHAPES
from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment, deploy
from registry.chain.ids import ebl_id
from registry.chain.relayer import Relayer, SignedEntry
from registry.chain.relayer_batch import EntryResult
from registry.keys import Domain, IssuanceMessage, LocalSigner, TitleActionMessage
from registry.types import Action, DocumentKind, Role
from tests.contracts.parties import Party, party, test_key

ZERO = "0x" + "00" * 20
FUNDS = 10**24
ZERO32 = b"\0" * 32
PARTIES = {"carrier": Role.CARRIER, "shipper": Role.TRADER, "bank": Role.BANK, "consignee": Role.TRADER}
# bench.throughput's step names as the contract's actions (TitleService.endorse defaults to to-order)
ACTIONS = {
    "endorse": Action.ENDORSE_TO_ORDER,
    "transfer": Action.TRANSFER,
    "surrender": Action.SURRENDER_FOR_DELIVERY,
    "accept": Action.ACCEPT_SURRENDER,
}


@dataclass
class Chain:
    """A started anvil with the registry deployed and a carrier ready to issue."""

    node: AnvilProcess
    w3: Web3
    deployment: Deployment
    registry: Contract
    relayer: Relayer
    parties: dict[str, Party]
    domain: Domain
    state_path: Path
    nonce: int = field(default_factory=time.time_ns)
    _signers: dict[str, LocalSigner] = field(default_factory=dict)

    @property
    def carrier(self) -> Party:
        return self.parties["carrier"]

    @property
    def shipper(self) -> Party:
        return self.parties["shipper"]

    def _sign(self, by: str, message: IssuanceMessage | TitleActionMessage) -> SignedEntry:
        signer = self._signers.get(by) or self._signers.setdefault(by, LocalSigner(self.parties[by].key.key))
        return SignedEntry(message, self.parties[by].address, signer.sign_digest(message.digest(self.domain)))

    def action(self, step: str, by: str, ebl: int, to: str | None) -> SignedEntry:
        """A fresh signed title action (a step of :data:`bench.throughput.SHAPES`) by ``by``."""
        self.nonce += 1
        message = TitleActionMessage(
            action=int(ACTIONS[step]),
            ebl_id=ebl,
            party=self.parties[to].org if to else ZERO,
            data=ZERO32,
            nonce=self.nonce,
            deadline=2**40,
        )
        return self._sign(by, message)

    def issued_id(self, entry: SignedEntry) -> int:
        """The eBL id an issuance entry creates."""
        assert isinstance(entry.message, IssuanceMessage)
        return int(ebl_id(self.carrier.org, entry.message.tdr_hash))

    def issuance(self) -> SignedEntry:
        """A fresh signed issuance from the carrier to the shipper."""
        self.nonce += 1
        tdr = keccak(text=f"endurance-{self.nonce}")
        message = IssuanceMessage(
            tdr_hash=tdr,
            doc_hash=keccak(tdr),
            issue_to=self.shipper.org,
            endorsee=ZERO,
            kind=int(DocumentKind.TO_ORDER),
            nonce=self.nonce,
            deadline=2**40,
        )
        return self._sign("carrier", message)

    def head(self) -> int:
        return int(self.w3.eth.block_number)


@contextmanager
def embedded_chain(data_dir: Path, config: AnvilConfig) -> Iterator[Chain]:
    """Start anvil on ``data_dir/chain/state.json`` with ``config``, deploy, onboard, start a relayer."""
    state = data_dir / "chain" / "state.json"
    node = AnvilProcess(AnvilConfig(**{**config.__dict__, "state_path": state}))
    node.start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        governance, relayer_key = test_key("governance"), test_key("relayer")
        parties = {name: party(name, role) for name, role in PARTIES.items()}
        for account in (governance, relayer_key, *(p.key for p in parties.values())):
            w3.provider.make_request("anvil_setBalance", [account.address, hex(FUNDS)])  # type: ignore[arg-type]
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build([governance]), layer=0)
        dep = deploy(w3, governance)
        registry = w3.eth.contract(address=dep.address, abi=load_artifact().abi)
        for p in parties.values():
            tx = registry.functions.registerOrganisation(
                p.org, int(p.role), keccak(text=f"LEI:{p.name}"), p.address
            ).transact({"from": governance.address})
            w3.eth.wait_for_transaction_receipt(tx)
        with Relayer(w3, dep, LocalSigner(relayer_key.key), max_delay=0.05) as relayer:
            yield Chain(node, w3, dep, registry, relayer, parties, Domain(dep.chain_id, dep.address), state)
    finally:
        node.stop()


def issue_many(chain: Chain, count: int, chunk: int = 2000) -> tuple[list[int], float]:
    """Issue ``count`` eBLs as fast as the relayer takes them, ``chunk`` at a time; their ids and the
    wall time. Raises ``RuntimeError`` if one is refused."""
    started = time.monotonic()
    ids: list[int] = []
    while len(ids) < count:
        entries = [chain.issuance() for _ in range(min(chunk, count - len(ids)))]
        for f in chain.relayer.submit_many(entries):
            result = f.result(timeout=900)
            if not result.ok:
                raise RuntimeError(f"an issuance failed: {result.error}")
        ids += [chain.issued_id(e) for e in entries]
    return ids, time.monotonic() - started


def preload(chain: Chain, count: int, chunk: int = 2000) -> float:
    """Issue ``count`` eBLs as fast as the relayer takes them; returns the issuance rate (eBLs/s)."""
    _, wall = issue_many(chain, count, chunk)
    return count / max(wall, 1e-9)


class Probe:
    """Samples anvil: resident memory, CPU seconds, state file size and its rewrites, chain height."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.attach()
        self._mtime = 0
        self.dumps = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._count_dumps, name="dump-counter", daemon=True)
        self._watch.start()

    def attach(self) -> None:
        """Follow the node's current process (again, after a restart)."""
        pid = self.chain.node.pid
        assert pid is not None
        self.proc = psutil.Process(pid)
        self._cpu = self._cpu_now()

    def _cpu_now(self) -> float:
        t = self.proc.cpu_times()
        return float(t.user + t.system)

    def _count_dumps(self) -> None:
        while not self._stop.wait(0.05):
            try:
                m = self.chain.state_path.stat().st_mtime_ns
            except OSError:
                continue
            if m != self._mtime:
                with self._lock:
                    self._mtime, self.dumps = m, self.dumps + 1

    def sample(self) -> dict[str, Any]:
        cpu = self._cpu_now()
        cpu_delta, self._cpu = cpu - self._cpu, cpu
        with self._lock:
            dumps, self.dumps = self.dumps, 0
        try:
            size = self.chain.state_path.stat().st_size
        except OSError:
            size = 0
        backup = self.chain.node.backup_path
        backup_age = time.time() - backup.stat().st_mtime if backup and backup.exists() else None
        return {
            "anvil_rss_mib": round(self.proc.memory_info().rss / 2**20, 1),
            "anvil_cpu_s": round(cpu_delta, 2),
            "state_file_mib": round(size / 2**20, 2),
            "state_file_writes": dumps,
            "backup_age_s": round(backup_age, 1) if backup_age is not None else None,
            "height": self.chain.head(),
        }

    def close(self) -> None:
        self._stop.set()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 3)


class Load:
    """Open-loop operations at ``rate`` per second: operation *n* is due at ``start + n / rate``.

    With ``mix`` (the default) each due slot takes the next step of an eBL whose previous step is final
    or, when none is waiting, issues a new eBL whose life-cycle shape is the next of
    :data:`bench.throughput.CYCLE` (as :mod:`bench.soak` does over HTTP); without it every slot is an
    issuance. ``kinds`` counts the operations offered by kind (``issue``, ``transfer``, ...).
    """

    def __init__(self, chain: Chain, rate: float, *, mix: bool = True) -> None:
        self.chain, self.rate, self.mix = chain, rate, mix
        self._lock = threading.Lock()
        self.latencies: list[float] = []
        self.offered = self.final = self.failed = self.issued = 0
        self.kinds: dict[str, int] = {}
        self._ready: deque[tuple[int, tuple[tuple[str, str, str | None], ...]]] = deque()
        self._cycle = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="endurance-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _done(
        self,
        due: float,
        future: Future[EntryResult],
        *,
        kind: str,
        ebl: int,
        rest: tuple[tuple[str, str, str | None], ...],
    ) -> None:
        latency = time.monotonic() - due
        ok = future.exception() is None and future.result().ok
        with self._lock:
            if ok:
                self.final += 1
                self.issued += kind == "issue"
                self.latencies.append(latency)
                if rest:
                    self._ready.append((ebl, rest))
            else:
                self.failed += 1

    def _next(self) -> tuple[str, SignedEntry, int, tuple[tuple[str, str, str | None], ...]]:
        """The kind, entry, eBL id and remaining steps of the next operation."""
        with self._lock:
            waiting = self._ready.popleft() if self._ready else None
        if waiting is not None:
            ebl, ((step, by, to), *rest) = waiting
            return step, self.chain.action(step, by, ebl, to), ebl, tuple(rest)
        entry = self.chain.issuance()
        shape: tuple[tuple[str, str, str | None], ...] = ()
        if self.mix:
            shape = SHAPES[CYCLE[self._cycle % len(CYCLE)]]
            self._cycle += 1
        return "issue", entry, self.chain.issued_id(entry) if shape else 0, shape

    def _run(self) -> None:
        start, n = time.monotonic(), 0
        while not self._stop.is_set():
            now = time.monotonic()
            due_count = max(int((now - start) * self.rate) - n, 0)
            for _ in range(due_count):
                due = start + n / self.rate
                kind, entry, ebl, rest = self._next()
                future = self.chain.relayer.submit(entry)
                future.add_done_callback(partial(self._done, due, kind=kind, ebl=ebl, rest=rest))
                n += 1
                with self._lock:
                    self.kinds[kind] = self.kinds.get(kind, 0) + 1
            with self._lock:
                self.offered += due_count
            time.sleep(0.01)

    def take(self) -> tuple[int, int, int, list[float], int]:
        """Offered, final, failed, finality latencies and issuances final since the last call."""
        with self._lock:
            out = (self.offered, self.final, self.failed, self.latencies, self.issued)
            self.latencies = []
            self.offered = self.final = self.failed = self.issued = 0
        return out

    def mix_offered(self) -> dict[str, float]:
        """The share of each kind among the operations offered so far."""
        with self._lock:
            total = sum(self.kinds.values())
            return {k: round(v / total, 3) for k, v in sorted(self.kinds.items())} if total else {}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def historical_reads(chain: Chain, back: tuple[int, ...] = (1, 2, 4, 10, 100, 1000)) -> dict[str, str]:
    """Whether ``titleOf``-style reads (here ``eth_getBalance``/``eth_call`` of a view) still answer at
    ``head - k``: the registry pins reads to a cached head, so forgotten states break them."""
    head = chain.head()
    out: dict[str, str] = {}
    for k in back:
        block = head - k
        if block < 0:
            continue
        try:
            chain.registry.functions.nonceUsed(chain.carrier.address, 1).call(block_identifier=block)
            out[str(k)] = "ok"
        except Exception as exc:
            out[str(k)] = f"error: {str(exc)[:120]}"
    return out


def logs_kept(chain: Chain) -> int:
    """How many registry logs the node still returns from the deployment block to the head."""
    reply = chain.w3.provider.make_request(
        "eth_getLogs",  # type: ignore[arg-type]
        [
            {
                "address": chain.deployment.address,
                "fromBlock": hex(chain.deployment.block_number),
                "toBlock": "latest",
            }
        ],
    )
    return len(reply.get("result") or [])


def dump_seconds(chain: Chain) -> float:
    """Wall time of one full state dump over JSON-RPC (``anvil_dumpState``)."""
    started = time.monotonic()
    chain.w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    return round(time.monotonic() - started, 3)
