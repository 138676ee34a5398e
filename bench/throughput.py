"""End-to-end throughput over HTTP: concurrent clients against the gateway, against TradeTrust's best path.

The gateway is started as ``make run`` starts it (``python -m scripts.serve``, a subprocess with its own
embedded anvil), in a fresh temporary data folder with ``EBL_CHAIN_BLOCK_TIME=1``. The one deviation:
``EBL_KEYSTORE_KDF_N=16384`` so the custodial keystores unlock in milliseconds at start-up (the scrypt
cost only affects unlocking, never the request path). By default the gateway runs under
``py-spy record --gil`` (threads holding the GIL: where the gateway's CPU goes) so the same run yields
``profile_top``.

Offered load is a closed loop: ``--clients`` threads, each with one keep-alive ``httpx.Client`` and at
most one HTTP request at a time, each keeping at most ``--window`` operations in flight (``?wait=false``
→ 202 with the operation id); the offered concurrency is ``clients x window`` operations. eBLs follow four
life-cycle shapes in a fixed 16-eBL cycle chosen so the operation mix is 40 % issuance, 30 % transfer,
20 % endorsement, 10 % surrender + accept-surrender:

- 2 x full: issue → endorse to bank → transfer to bank → endorse to consignee → transfer to consignee →
  surrender for delivery → carrier accepts;
- 4 x issue → endorse to bank → transfer to bank;
- 4 x issue → transfer to bank (possession only, e.g. under a letter of credit);
- 6 x issue only.

Half of the issuances (by count) go through ``POST /v1/carriers/ebls/batch`` in groups of
``BATCH_ITEMS``, as a carrier's system issuing thousands a day would; the rest one by one. An eBL's next
step is submitted only once its previous operation counted.

An operation counts when it is final on chain *and* visible in the index: when its event (eBL id and
sequence number; an issuance is seq 0, each action one more) appears in the auditor event feed
(``GET /v1/auditors/events``). One feed thread follows it for all clients, as an auditor or an
integrator would: after every new indexer checkpoint (``/readyz``, polled every ``FEED_INTERVAL``) it
pages through the events of the four demo organisations since the last block it saw. The indexer reads
only mined blocks and anvil's blocks are final when mined, so a seen event is final and indexed. An
operation not seen after ``STRAGGLER_S`` is polled (``GET /v1/operations/{id}``) every
``STRAGGLER_POLL_S`` to catch failures. ``ops_per_s`` counts the operations seen within the measured
window; latencies (request sent → event seen in the feed) cover every operation that counted, including
those in the drain after the window. A sample of eBLs is checked against the auditor history at the end
(``index_check``). The load generator runs on the same machine: its CPU is reported beside the
gateway's and anvil's (``cpu_seconds_in_window``).

TradeTrust, in the same run on the same anvil: ``@tradetrust-tt/token-registry`` deployed from its npm
artifacts (``bench.gas.TradeTrust.deploy``), then ``mint`` by the carrier and ``TitleEscrow.transferHolder``
by the holder, every transaction pre-signed before the clock starts with explicit nonces and sent raw from
web3.py; a transfer is sent once its mint is mined. An operation counts when its receipt has status 1 in a
block first seen within the window (no index: their best path).

Run: ``python -m bench.throughput [--quick] [--duration 60] [--clients 16] [--window 40] [--no-profile]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import rlp
from coincurve import PrivateKey
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from bench._machine import machine_description
from bench.gas import TradeTrust, tradetrust_provenance
from registry.chain.anvil import free_port
from registry.chain.build import project_root
from scripts.gas_report import Harness
from scripts.serve import parse_credentials
from tests.fixtures.dcsa import issued_example

RESULTS = Path(__file__).resolve().parent / "results"
GOAL = {"ops_per_s": 2000, "ratio_vs_tradetrust": 10, "p50_final_s": 1.5, "block_time_s": 1}
BATCH_ITEMS = 10
FEED_INTERVAL = 0.1
STRAGGLER_S = 5.0
STRAGGLER_POLL_S = 1.0
FAR_FUTURE = "2100-01-01T00:00:00Z"
# Per-operation polling of GET /v1/operations/{id}, used by bench.soak (this benchmark follows the feed).
PARTIES = ("carrier", "shipper", "bank", "consignee")

# (action, actor, counterparty) after the issuance; counterparty names a demo organisation.
FULL = (
    ("endorse", "shipper", "bank"),
    ("transfer", "shipper", "bank"),
    ("endorse", "bank", "consignee"),
    ("transfer", "bank", "consignee"),
    ("surrender", "consignee", None),
    ("accept", "carrier", None),
)
SHAPES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "full": FULL,
    "endorse_transfer": FULL[:2],
    "transfer_only": (("transfer", "shipper", "bank"),),
    "issue_only": (),
}
CYCLE = ["full"] * 2 + ["endorse_transfer"] * 4 + ["transfer_only"] * 4 + ["issue_only"] * 6
MIX_TARGET = {"issue": 0.4, "transfer": 0.3, "endorse": 0.2, "surrender+accept": 0.1}


# ------------------------------------------------------------------ gateway subprocess


@dataclass
class Gateway:
    """``python -m scripts.serve`` as a subprocess (optionally under py-spy)."""

    proc: subprocess.Popen[bytes]
    serve_pid: int
    url: str
    chain_url: str
    chain_port: int
    credentials: dict[str, dict[str, str]]
    data_dir: Path
    profile_path: Path | None

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        profile: bool,
        rate: int,
        timeout: float = 180.0,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> Gateway:
        """Start the gateway; ``workers`` > 1 serves it from that many processes (``--workers``; ``env``
        then names the PostgreSQL database in ``EBL_DATABASE_URL``)."""
        port, chain_port = free_port(), free_port()
        env = {
            **os.environ,
            "EBL_DATA_DIR": str(data_dir),
            "EBL_PORT": str(port),
            "EBL_CHAIN_PORT": str(chain_port),
            "EBL_CHAIN_BLOCK_TIME": "1",
            "EBL_KEYSTORE_KDF_N": "16384",
            **(env or {}),
        }
        python = project_root() / ".venv" / "bin" / "python"
        cmd = [str(python), "-m", "scripts.serve", "--workers", str(workers)]
        profile_path = data_dir.parent / "gateway.pyspy.txt" if profile else None
        if profile_path is not None:
            pyspy = project_root() / ".venv" / "bin" / "py-spy"
            cmd = [
                str(pyspy),
                "record",
                "--gil",
                "--format",
                "raw",
                "--rate",
                str(rate),
                "-o",
                str(profile_path),
                "--",
            ]
            cmd += [str(python), "-m", "scripts.serve"]
        out = (data_dir.parent / "serve.stdout").open("wb")
        err = (data_dir.parent / "serve.stderr").open("wb")
        proc = subprocess.Popen(cmd, cwd=project_root(), env=env, stdout=out, stderr=err)
        serve_pid = proc.pid
        deadline = time.monotonic() + timeout
        creds: dict[str, dict[str, str]] | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"gateway exited: {(data_dir.parent / 'serve.stderr').read_text()[-3000:]}")
            if profile_path is not None and serve_pid == proc.pid:
                serve_pid = _child_pid(proc.pid) or proc.pid
            creds = creds or parse_credentials((data_dir.parent / "serve.stdout").read_text())
            if creds is not None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        else:
            proc.kill()
            raise SystemExit("gateway did not become healthy")
        assert creds is not None
        return cls(
            proc,
            serve_pid,
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{chain_port}",
            chain_port,
            creds,
            data_dir,
            profile_path,
        )

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """SIGTERM to the serve process (its own pid), wait; check no anvil of ours is left."""
        os.kill(self.serve_pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.serve_pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        time.sleep(0.5)
        left = subprocess.run(
            ["pgrep", "-f", f"anvil.*--port {self.chain_port}"], capture_output=True, text=True
        ).stdout.split()
        return {"exit_code": self.proc.returncode, "anvil_left": left}


def _child_pid(pid: int) -> int | None:
    try:
        children = psutil.Process(pid).children()
    except psutil.Error:
        return None
    return children[0].pid if children else None


# ------------------------------------------------------------------ load


@dataclass
class Op:
    kind: str  # issue_single | issue_batch | endorse | transfer | surrender | accept
    ebl: str
    seq: int  # the event sequence number this operation produces (issuance: 0)
    operation_id: str
    sent: float
    next_poll: float


@dataclass
class Ebl:
    ebl_id: str
    shape: str
    step: int = 0


@dataclass
class Stats:
    done: list[tuple[str, float, float]] = field(default_factory=list)  # (kind, finished_at, latency)
    errors: Counter[str] = field(default_factory=Counter)
    submitted: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    unfinished: int = 0
    done_ebls: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Feed(threading.Thread):
    """Follows the index as an auditor would: after each new indexer checkpoint (``/readyz``), the
    auditor event feed (``/v1/auditors/events``) of the four demo organisations, paged to the end.

    ``seen[(eblId, seq)]`` is the moment an event was first seen: it is on chain (the indexer reads
    only mined blocks; anvil's blocks are final when mined) *and* visible in the index. Pages overlap
    by one block time (``since`` is inclusive) and are de-duplicated by (eBL, seq)."""

    def __init__(self, gw: Gateway, orgs: list[str]) -> None:
        super().__init__(name="feed", daemon=True)
        self.gw, self.orgs = gw, orgs
        self.seen: dict[tuple[str, int], float] = {}
        self.checkpoint = -1
        self.requests = 0
        self.rounds = 0
        self.lagging = 0
        self.stop_flag = threading.Event()
        self._since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
        self._auditor = {"Authorization": f"Bearer {gw.credentials['auditor']['token']}"}

    def run(self) -> None:
        with httpx.Client(base_url=self.gw.url, timeout=30) as c:
            while not self.stop_flag.is_set():
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    self._round(c)
                self.stop_flag.wait(FEED_INTERVAL)

    def _round(self, c: httpx.Client) -> None:
        r = c.get("/readyz")
        self.requests += 1
        if r.status_code != 200:
            self.lagging += 1  # 503: the index is more than 30 blocks behind
            return
        body = r.json()
        checkpoint = int(body["chainHead"]) - int(body["indexerLag"])
        if checkpoint <= self.checkpoint:
            return
        newest = self._since
        for org in self.orgs:
            cursor: str | None = None
            while True:
                params: dict[str, str | int] = {
                    "org": org,
                    "since": self._since.isoformat(),
                    "until": FAR_FUTURE,
                    "limit": 1000,
                }
                if cursor:
                    params["cursor"] = cursor
                page = c.get("/v1/auditors/events", params=params, headers=self._auditor)
                self.requests += 1
                page.raise_for_status()
                data = page.json()
                now = time.monotonic()
                for e in data["events"]:
                    self.seen.setdefault((e["eblId"], int(e["seq"])), now)
                    newest = max(newest, datetime.fromisoformat(e["blockTime"]))
                cursor = data.get("nextCursor")
                if not cursor:
                    break
        self._since = newest
        self.checkpoint = checkpoint
        self.rounds += 1


class Client(threading.Thread):
    """One client system, closed loop: keeps up to ``window`` operations in flight until ``end``.

    An operation leaves the window when the feed has seen its event (final and indexed), or when a
    straggler poll (``GET /v1/operations/{id}``, only for operations not seen after ``STRAGGLER_S``)
    says it failed. The next step of an eBL is submitted once its previous operation left the window."""

    def __init__(
        self,
        index: int,
        gw: Gateway,
        feed: Feed,
        stats: Stats,
        run_id: str,
        window: int,
        end: float,
        drain_until: float,
    ) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.i, self.gw, self.feed, self.stats = index, gw, feed, stats
        self.run_id, self.window, self.end, self.drain_until = run_id, window, end, drain_until
        self.tokens = {n: {"Authorization": f"Bearer {gw.credentials[n]['token']}"} for n in PARTIES}
        self.orgs = {n: gw.credentials[n]["org"] for n in PARTIES}
        self.auditor = {"Authorization": f"Bearer {gw.credentials['auditor']['token']}"}
        self.template = issued_example()
        self.ready: deque[Ebl] = deque()
        self.in_flight: dict[str, tuple[Op, Ebl]] = {}  # operation id -> (op, eBL)
        self.n_issued = 0
        self.single = 0
        self.batched = 0
        rng = random.Random(index)
        self.cycle = CYCLE[:]
        rng.shuffle(self.cycle)

    def _doc(self) -> tuple[dict[str, Any], str]:
        self.n_issued += 1
        shape = self.cycle[self.n_issued % len(self.cycle)]
        doc = dict(self.template)
        doc["transportDocumentReference"] = f"B{self.run_id}{self.i:02d}{self.n_issued:06d}"
        return doc, shape

    def _error(self, key: str) -> None:
        with self.stats.lock:
            self.stats.errors[key] += 1

    def _post(self, c: httpx.Client, kind: str, path: str, who: str, body: Any) -> httpx.Response | None:
        with self.stats.lock:
            self.stats.requests[kind] += 1
        try:
            r = c.post(path, params={"wait": "false"}, json=body, headers=self.tokens[who])
        except httpx.HTTPError as exc:
            self._error(f"{kind}:{type(exc).__name__}")
            return None
        if r.status_code not in (200, 201, 202):
            code = r.json().get("code", "") if "json" in r.headers.get("content-type", "") else ""
            self._error(f"{kind}:http_{r.status_code}:{code}")
            return None
        return r

    def _track(self, kind: str, ebl: Ebl, seq: int, op: dict[str, Any], sent: float) -> None:
        if not op.get("operationId"):
            self._error(f"{kind}:{op.get('errorCode')}")
            return
        self.in_flight[op["operationId"]] = (
            Op(kind, ebl.ebl_id, seq, op["operationId"], sent, sent + STRAGGLER_S),
            ebl,
        )
        with self.stats.lock:
            self.stats.submitted[kind] += 1

    def _request_for(self, action: str, base: str, party: str | None, ebl_id: str) -> tuple[str, Any]:
        if action == "endorse":
            return f"{base}/endorse", {"endorsee": self.orgs[party or ""], "toOrder": True}
        if action == "transfer":
            return f"{base}/transfer", {"to": self.orgs[party or ""]}
        if action == "surrender":
            return f"{base}/surrender", {"reason": "DELIVERY"}
        return f"/v1/carriers/ebls/{ebl_id}/accept-surrender", None

    def _submit(self, c: httpx.Client) -> None:
        if self.ready:
            ebl = self.ready.popleft()
            action, actor, party = SHAPES[ebl.shape][ebl.step]
            ebl.step += 1
            base = f"/v1/holders/ebls/{ebl.ebl_id}"
            path, body = self._request_for(action, base, party, ebl.ebl_id)
            sent = time.monotonic()
            r = self._post(c, action, path, actor, body)
            if r is not None:
                self._track(action, ebl, ebl.step, r.json(), sent)
            return
        if self.batched <= self.single and self.window - len(self.in_flight) >= BATCH_ITEMS:
            docs = [self._doc() for _ in range(BATCH_ITEMS)]
            items = [{"document": d, "issueTo": self.orgs["shipper"]} for d, _ in docs]
            sent = time.monotonic()
            r = self._post(c, "issue_batch", "/v1/carriers/ebls/batch", "carrier", {"items": items})
            if r is not None:
                for (_, shape), op in zip(docs, r.json(), strict=True):
                    self._track("issue_batch", Ebl(op["eblId"], shape), 0, op, sent)
                self.batched += BATCH_ITEMS
            return
        doc, shape = self._doc()
        sent = time.monotonic()
        body = {"document": doc, "issueTo": self.orgs["shipper"]}
        r = self._post(c, "issue_single", "/v1/carriers/ebls", "carrier", body)
        if r is not None:
            op = r.json()
            self._track("issue_single", Ebl(op["eblId"], shape), 0, op, sent)
            self.single += 1

    def _settle(self, c: httpx.Client) -> bool:
        """Retire what the feed has seen; poll stragglers. True if anything happened."""
        seen = self.feed.seen
        busy = False
        for operation_id, (op, ebl) in list(self.in_flight.items()):
            at = seen.get((op.ebl, op.seq))
            if at is not None:
                del self.in_flight[operation_id]
                with self.stats.lock:
                    self.stats.done.append((op.kind, at, at - op.sent))
                    self.stats.done_ebls.setdefault(op.ebl, []).append(op.kind)
                if ebl.step < len(SHAPES[ebl.shape]) and time.monotonic() < self.end:
                    self.ready.append(ebl)
                busy = True
                continue
            now = time.monotonic()
            if op.next_poll > now:
                continue
            busy = True
            op.next_poll = now + STRAGGLER_POLL_S
            with self.stats.lock:
                self.stats.requests["straggler_poll"] += 1
            try:
                body = c.get(f"/v1/operations/{operation_id}", headers=self.auditor).json()
            except (httpx.HTTPError, ValueError) as exc:
                self._error(f"poll:{type(exc).__name__}")
                continue
            if body.get("status") == "failed":
                self._error(f"{op.kind}:failed:{body.get('errorCode')}")
                del self.in_flight[operation_id]
        return busy

    def run(self) -> None:
        with httpx.Client(base_url=self.gw.url, timeout=60) as c:
            while True:
                now = time.monotonic()
                if now >= self.drain_until or (now >= self.end and not self.in_flight):
                    break
                submitted = False
                try:
                    while now < self.end and len(self.in_flight) < self.window:
                        self._submit(c)
                        submitted = True
                        now = time.monotonic()
                    settled = self._settle(c)
                except Exception as exc:  # a bench bug must show in the results, not kill the client
                    self._error(f"client:{type(exc).__name__}:{exc}")
                    settled = False
                if not settled and not submitted:
                    time.sleep(0.02)
        with self.stats.lock:
            self.stats.unfinished += len(self.in_flight)


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process and its gateway workers (not anvil), None if unknown."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = times.user + times.system
        for child in process.children():
            with contextlib.suppress(psutil.Error):
                if any("spawn_main" in part for part in child.cmdline()):
                    t = child.cpu_times()
                    total += t.user + t.system
    except psutil.Error:
        return None
    return total


def _anvil_pid(chain_port: int) -> int | None:
    found = subprocess.run(
        ["pgrep", "-f", f"anvil.*--port {chain_port}"], capture_output=True, text=True
    ).stdout.split()
    return int(found[0]) if found else None


def run_load(
    gw: Gateway,
    clients: int,
    window: int,
    duration: float,
    drain: float,
    profile: Path | None = None,
    profile_rate: int = 50,
) -> dict[str, Any]:
    """Drive the mix for ``duration`` seconds (closed loop), drain, and summarise; with ``profile``,
    py-spy samples the gateway during exactly the measured window."""
    feed = Feed(gw, [gw.credentials[n]["org"] for n in PARTIES])
    feed.start()
    while feed.checkpoint < 0:
        time.sleep(0.1)
    stats = Stats()
    run_id = f"{random.randrange(16**4):04X}"
    anvil = _anvil_pid(gw.chain_port)
    cpu_before = {"gateway": _cpu_seconds(gw.serve_pid), "anvil": _cpu_seconds(anvil)}
    bench_before = os.times()
    load_before = os.getloadavg()
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [
                str(project_root() / ".venv" / "bin" / "py-spy"),
                "record",
                "--gil",
                "--nonblocking",
                "--format",
                "raw",
                "--rate",
                str(profile_rate),
                "--duration",
                str(round(duration)),
                "--pid",
                str(gw.serve_pid),
                "--output",
                str(profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    start = time.monotonic()
    end = start + duration
    threads = [Client(i, gw, feed, stats, run_id, window, end, end + drain) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, end - time.monotonic()))
    cpu_after = {"gateway": _cpu_seconds(gw.serve_pid), "anvil": _cpu_seconds(anvil)}
    bench_after = os.times()
    load_after = os.getloadavg()
    for t in threads:
        t.join()
    if spy is not None:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    feed.stop_flag.set()
    feed.join()
    in_window = [d for d in stats.done if d[1] <= end]
    latencies = sorted(d[2] for d in stats.done)
    by_kind = Counter(d[0] for d in in_window)
    groups = {
        "issue": by_kind["issue_single"] + by_kind["issue_batch"],
        "transfer": by_kind["transfer"],
        "endorse": by_kind["endorse"],
        "surrender+accept": by_kind["surrender"] + by_kind["accept"],
    }
    total = sum(groups.values())
    with httpx.Client(base_url=gw.url, timeout=30) as c:
        index_check = _index_check(c, gw, stats)
    cpu: dict[str, Any] = {}
    for name in ("gateway", "anvil"):
        b, a = cpu_before[name], cpu_after[name]
        cpu[name] = None if a is None or b is None else round(a - b, 2)
    cpu["load_generator"] = round(
        (bench_after.user + bench_after.system) - (bench_before.user + bench_before.system), 2
    )
    errors = dict(stats.errors)
    if stats.unfinished:
        errors["unfinished_after_drain"] = stats.unfinished
    return {
        "ops_per_s": round(len(in_window) / duration, 1),
        "p50_final_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_final_s": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3)
        if latencies
        else None,
        "errors": errors,
        "mix": {
            "target": MIX_TARGET,
            "achieved": {k: round(v / total, 3) for k, v in groups.items()} if total else {},
            "final_in_window": {**dict(by_kind), "total": len(in_window)},
            "issuance_single_vs_batch": {"single": by_kind["issue_single"], "batch": by_kind["issue_batch"]},
            "submitted": dict(stats.submitted),
            "http_requests": {
                **dict(stats.requests),
                "feed (readyz + auditor events)": feed.requests,
            },
            "finished_in_drain": len(stats.done) - len(in_window),
            "unfinished_after_drain": stats.unfinished,
        },
        "latency_s": _percentiles(latencies),
        "latency_by_kind_s": {
            kind: _percentiles(sorted(d[2] for d in stats.done if d[0] == kind))
            for kind in sorted({d[0] for d in stats.done})
        },
        "timeline_ops_per_s": [
            sum(1 for d in stats.done if second <= d[1] - start < second + 1)
            for second in range(int(duration + drain))
        ],
        "index_check": index_check,
        "feed": {"rounds": feed.rounds, "index_lagging_503": feed.lagging},
        "cpu_seconds_in_window": {
            **cpu,
            "note": "user+system CPU of each process during the measured window; the machine has "
            f"{os.cpu_count()} cores, so {duration * (os.cpu_count() or 1):.0f} core-seconds in all",
            "gateway_core_utilisation": round(cpu["gateway"] / duration, 2) if cpu["gateway"] else None,
            "gateway_ms_per_op": round(1000 * cpu["gateway"] / len(in_window), 2)
            if cpu["gateway"] and in_window
            else None,
        },
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "end_of_window": [round(x, 2) for x in load_after],
        },
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    pick = {"p10": 0.1, "p50": 0.5, "p90": 0.9, "p99": 0.99, "max": 1.0}
    return {k: round(values[min(len(values) - 1, int(q * len(values)))], 3) for k, q in pick.items()}


def _index_check(c: httpx.Client, gw: Gateway, stats: Stats, sample: int = 40) -> dict[str, Any]:
    """Auditor history of a sample of eBLs holds at least the actions we counted as indexed."""
    auditor = {"Authorization": f"Bearer {gw.credentials['auditor']['token']}"}
    ebls = list(stats.done_ebls.items())
    random.Random(0).shuffle(ebls)
    ok = 0
    for ebl, kinds in ebls[:sample]:
        r = c.get(f"/v1/auditors/ebls/{ebl}/history", headers=auditor)
        if r.status_code == 200 and len(r.json()) >= len(kinds):
            ok += 1
    return {"sampled_ebls": min(sample, len(ebls)), "history_contains_counted_ops": ok}


# ------------------------------------------------------------------ TradeTrust baseline


def _sign_legacy(key: PrivateKey, chain_id: int, nonce: int, gas: int, to: bytes, data: bytes) -> bytes:
    """An EIP-155 legacy transaction signed with libsecp256k1 directly (RFC 6979, low s: the same
    bytes eth_account produces, in a twentieth of the time), so pre-signing does not dominate the run."""
    fields = [nonce, 2 * 10**9, gas, to, 0, data]
    digest = keccak(rlp.encode([*fields, chain_id, 0, 0]))
    sig = key.sign_recoverable(digest, hasher=None)
    v = sig[64] + 35 + 2 * chain_id
    return bytes(rlp.encode([*fields, v, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")]))


def run_tradetrust(chain_url: str, duration: float, per_second: int) -> dict[str, Any]:
    """TradeTrust mint + transferHolder, pre-signed, sent raw as fast as they go on the same anvil."""
    w3 = Web3(Web3.HTTPProvider(chain_url, request_kwargs={"timeout": 120}))
    h = Harness(w3)
    tt = TradeTrust.deploy(h)
    carrier, shipper, bank = tt.key("carrier"), tt.key("shipper"), tt.addr("bank")
    n = int(duration * per_second)
    prep_start = time.monotonic()
    ids = [int.from_bytes(os.urandom(32), "big") for _ in range(n)]
    c_nonce = w3.eth.get_transaction_count(carrier.address, "pending")
    s_nonce = w3.eth.get_transaction_count(shipper.address, "pending")
    selector = keccak(text="getEscrowAddress(address,uint256)")[:4]
    escrows: list[bytes] = []
    for i in range(0, n, 500):  # JSON-RPC batches of eth_call
        calls = [
            (
                RPCEndpoint("eth_call"),
                [
                    {
                        "to": tt.factory.address,
                        "data": "0x"
                        + (selector + encode(["address", "uint256"], [tt.token.address, t])).hex(),
                    },
                    "latest",
                ],
            )
            for t in ids[i : i + 500]
        ]
        escrows += [bytes.fromhex(r["result"][-40:]) for r in w3.provider.make_batch_request(calls)]  # type: ignore[attr-defined]
    mint_selector = keccak(text="mint(address,address,uint256,bytes)")[:4]
    transfer_data = bytes.fromhex(
        w3.eth.contract(abi=tt.escrow_abi).encode_abi("transferHolder", args=[bank, b""]).removeprefix("0x")
    )
    ck, sk = PrivateKey(bytes(carrier.key)), PrivateKey(bytes(shipper.key))
    token = bytes.fromhex(tt.token.address[2:])
    mints = [
        _sign_legacy(
            ck,
            h.chain_id,
            c_nonce + k,
            600_000,
            token,
            mint_selector
            + encode(["address", "address", "uint256", "bytes"], [shipper.address, shipper.address, i, b""]),
        )
        for k, i in enumerate(ids)
    ]
    transfers = [
        _sign_legacy(sk, h.chain_id, s_nonce + k, 200_000, e, transfer_data) for k, e in enumerate(escrows)
    ]
    reference = w3.eth.account.sign_transaction(
        {
            "to": tt.token.address,
            "nonce": c_nonce,
            "gas": 600_000,
            "gasPrice": 2 * 10**9,
            "value": 0,
            "chainId": h.chain_id,
            "data": mint_selector
            + encode(
                ["address", "address", "uint256", "bytes"], [shipper.address, shipper.address, ids[0], b""]
            ),
        },
        carrier.key,
    ).raw_transaction
    assert bytes(reference) == mints[0], "fast signer disagrees with eth_account"
    prep_s = time.monotonic() - prep_start

    seen: dict[int, float] = {}
    stop = threading.Event()

    def watch_blocks() -> None:
        while not stop.is_set():
            try:
                head = w3.eth.block_number
                seen.setdefault(head, time.monotonic())
            except Exception:
                pass
            stop.wait(0.02)

    start_block = w3.eth.block_number
    t0 = time.monotonic()
    end = t0 + duration
    watcher = threading.Thread(target=watch_blocks, daemon=True)
    watcher.start()
    sent = {"mint": 0, "transfer": 0}

    def send_mints() -> None:
        for raw in mints:
            if time.monotonic() >= end:
                return
            w3.eth.send_raw_transaction(raw)
            sent["mint"] += 1

    def send_transfers() -> None:
        k = 0
        while time.monotonic() < end:
            mined = w3.eth.get_transaction_count(carrier.address, "latest") - c_nonce
            while k < mined and time.monotonic() < end:
                w3.eth.send_raw_transaction(transfers[k])
                sent["transfer"] += 1
                k += 1
            time.sleep(0.02)

    senders = [threading.Thread(target=send_mints), threading.Thread(target=send_transfers)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    time.sleep(2.5)
    stop.set()
    watcher.join()
    ok_in_window = 0
    ok_total = 0
    failed = 0
    tt_addresses = {tt.token.address.lower()} | {"0x" + e.hex() for e in escrows}
    for block in range(start_block + 1, w3.eth.block_number + 1):
        seen_at = seen.get(block, float("inf"))
        receipts = w3.provider.make_request(RPCEndpoint("eth_getBlockReceipts"), [hex(block)])["result"] or []
        for rc in receipts:
            if (rc.get("to") or "").lower() not in tt_addresses:
                continue
            if int(rc["status"], 16) == 1:
                ok_total += 1
                ok_in_window += seen_at <= end
            else:
                failed += 1
    return {
        "ops_per_s": round(ok_in_window / duration, 1),
        "final_in_window": ok_in_window,
        "final_total": ok_total,
        "failed": failed,
        "sent": sent,
        "presigned": {"transactions": 2 * n, "seconds": round(prep_s, 1)},
        "duration_s": duration,
    }


# ------------------------------------------------------------------ profile


def _frame_name(frame: str) -> tuple[str, str]:
    """(function with module, module) from a py-spy frame ``func (path/to/file.py:123)``."""
    func, _, rest = frame.partition(" (")
    path = rest.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", "/work/main/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    if path.startswith(".11/"):  # /lib/python3.11/<stdlib module>
        path = path[4:]
    module = path.removesuffix(".py").replace("/", ".").lstrip(".")
    return f"{module}.{func}", module.split(".")[0] if module else "?"


IDLE_LEAVES = (
    "threading.Condition.wait",
    "threading.Event.wait",
    "threading.Thread.join",
    "threading.Thread._wait_for_tstate_lock",
    "queue.Queue.get",
    "selectors.EpollSelector.select",
    "asyncio.base_events.BaseEventLoop._run_once",
    "time.sleep",
)
# Exclusive stages: a sample belongs to the stage of its innermost frame that names one (so a SQLite write
# made by the relayer's journal listener counts as journal, a JSON-RPC call made by the simulation as
# simulation). Listed in the order a write goes through; the first matching prefix of a frame wins.
STAGES: dict[str, tuple[str, ...]] = {
    "auth: token check + rate limit": ("api.auth.", "api.deps.get_principal"),
    "issue: DCSA validation + hashing": ("registry.documents.",),
    "sign: custodial EIP-712 signature": ("registry.title.signing.SigningKeys.sign_custodial",),
    "simulate: eth_call per write": ("registry.title.outbox.Outbox._simulate",),
    "journal: SQLite operation journal": ("registry.store.journal.",),
    "documents: store issued documents": ("registry.store.documents.",),
    "title service: rest of the write path": ("registry.title.",),
    "relayer: encode + sign + send batches": (
        "registry.chain.relayer.Relayer._send_batch",
        "registry.chain.relayer.Relayer._batch_loop",
    ),
    "relayer: receipts + resolve": ("registry.chain.relayer.",),
    "indexer: follow + apply events": (
        "registry.store.indexer.",
        "registry.chain.events.",
        "registry.runtime.Runtime._follow",
    ),
    "reads: event feed, readyz, operation polls": (
        "api.routes.auditors.",
        "api.routes.operations.",
        "registry.store.queries.",
    ),
    "api: route code": ("api.",),
    "chain watchdog: anvil state backup (crash recovery)": (
        "registry.watchdog.ChainWatchdog.run",
        "registry.chain.anvil.",
    ),
    "start-up (scripts.serve main thread)": ("scripts.serve.",),
    "http: uvicorn + starlette + fastapi + pydantic": (
        "uvicorn.",
        "starlette.",
        "fastapi.",
        "anyio.",
        "h11.",
        "httptools.",
        "asyncio.",
        "pydantic",
    ),
}
# Libraries, cumulative across callers (a sample may count in several).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "sqlalchemy + sqlite3": ("sqlalchemy.",),
    "JSON-RPC client (web3, requests, urllib3, http.client)": ("web3.manager.", "web3.providers."),
    "pydantic (validation + serialisation)": ("pydantic.", "pydantic_core.", "fastapi._compat."),
    "eth_abi encode/decode": ("eth_abi.",),
}


def summarise_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """py-spy raw stacks of the gateway process: where its busy samples go.

    With ``--gil`` (the default here) every sample is a thread holding the GIL, i.e. the gateway's
    Python CPU time; the few samples whose innermost frame is a wait are reported as idle and left out.
    """
    self_count: Counter[str] = Counter()
    cum: Counter[str] = Counter()
    project_cum: Counter[str] = Counter()
    package: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        total += count
        leaf = frames[-1][0]
        if leaf.startswith(IDLE_LEAVES):
            idle += count
            continue
        self_count[leaf] += count
        package[frames[-1][1]] += count
        stage = "other"
        for name, _ in reversed(frames):
            found = next((s for s, prefixes in STAGES.items() if name.startswith(prefixes)), None)
            if found is not None:
                stage = found
                break
        stages[stage] += count
        names = {f[0] for f in frames}
        for lib, prefixes in LIBRARIES.items():
            if any(n.startswith(prefixes) for n in names):
                libraries[lib] += count
        for name in names:
            cum[name] += count
            if name.startswith(("registry.", "api.")):
                project_cum[name] += count
    busy = total - idle

    def pct(c: Counter[str], n: int) -> list[dict[str, Any]]:
        return [{"function": k, "pct": round(100 * v / busy, 1)} for k, v in c.most_common(n)]

    ordered = sorted(stages.items(), key=lambda kv: -kv[1])
    return {
        "samples": total,
        "idle_pct_of_samples": round(100 * idle / total, 1) if total else None,
        "busy_samples": busy,
        "biggest_cost": ordered[0][0] if ordered else None,
        "stages_pct_of_busy": {k: round(100 * v / busy, 1) for k, v in ordered} if busy else {},
        "libraries_pct_of_busy": {k: round(100 * libraries[k] / busy, 1) for k in LIBRARIES} if busy else {},
        "self": pct(self_count, top),
        "self_by_package": pct(package, top),
        "cumulative_project": pct(project_cum, top + 8),
    }


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="End-to-end throughput over HTTP, against TradeTrust")
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s, shorter TradeTrust run")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--window", type=int, default=40, help="operations in flight per client (closed loop)"
    )
    parser.add_argument("--drain", type=float, default=None, help="seconds to wait for in-flight operations")
    parser.add_argument("--tt-duration", type=float, default=None)
    parser.add_argument("--tt-rate", type=int, default=1000, help="TradeTrust mints pre-signed per second")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--profile-rate", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    duration = args.duration or (15.0 if args.quick else 60.0)
    drain = args.drain or (8.0 if args.quick else 15.0)
    tt_duration = args.tt_duration or (8.0 if args.quick else 15.0)
    out: Path = args.out or RESULTS / ("throughput.quick.json" if args.quick else "throughput.json")

    with tempfile.TemporaryDirectory(prefix="ebl-throughput-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        started = time.monotonic()
        gw = Gateway.start(data_dir, profile=False, rate=args.profile_rate)
        profile_path = None if args.no_profile else Path(tmp) / "gateway.pyspy.txt"
        print(
            f"gateway up in {time.monotonic() - started:.1f}s at {gw.url}, chain {gw.chain_url}", flush=True
        )
        try:
            load = run_load(gw, args.clients, args.window, duration, drain, profile_path, args.profile_rate)
            print(json.dumps({k: load[k] for k in ("ops_per_s", "p50_final_s", "p99_final_s")}), flush=True)
            tt = run_tradetrust(gw.chain_url, tt_duration, args.tt_rate)
            print(json.dumps({"tradetrust_ops_per_s": tt["ops_per_s"]}), flush=True)
            chain = Web3(Web3.HTTPProvider(gw.chain_url)).client_version
        finally:
            stopped = gw.stop()
        profile = None
        if profile_path is not None and profile_path.exists():
            profile = summarise_profile(profile_path)
            kept = Path(tempfile.gettempdir()) / f"{out.stem}.pyspy.txt"
            shutil.copyfile(profile_path, kept)
            profile["raw_stacks"] = str(kept)
            profile["note"] = (
                "py-spy record --gil, attached to the gateway for exactly the measured window: samples of "
                "the thread holding the GIL, i.e. where the gateway's Python CPU time goes under load; "
                "stages are exclusive (innermost stage frame wins) and sum to 100"
            )
        log_lines = (Path(tmp) / "serve.stderr").read_text().splitlines()
        stderr_lines = len(log_lines)
        # JSON lines (api/logs.py): one per request plus the process's own records; count the loud ones.
        warnings = [line for line in log_lines if '"level": "warning"' in line or '"level": "error"' in line]

    result = {
        "ops_per_s": load["ops_per_s"],
        "p50_final_s": load["p50_final_s"],
        "p99_final_s": load["p99_final_s"],
        "errors": load["errors"],
        "tradetrust_ops_per_s": tt["ops_per_s"],
        "ratio_vs_tradetrust": round(load["ops_per_s"] / tt["ops_per_s"], 3) if tt["ops_per_s"] else None,
        "profile_top": profile,
        "mix": load["mix"],
        "latency_s": load["latency_s"],
        "latency_by_kind_s": load["latency_by_kind_s"],
        "timeline_ops_per_s": load["timeline_ops_per_s"],
        "index_check": load["index_check"],
        "feed": load["feed"],
        "cpu_seconds_in_window": load["cpu_seconds_in_window"],
        "load_average": load["load_average"],
        "tradetrust": {**tt, "provenance": tradetrust_provenance()},
        "machine": {**machine_description(), "chain": chain},
        "parameters": {
            "duration_s": duration,
            "clients": args.clients,
            "in_flight_per_client": args.window,
            "offered_concurrency_ops": args.clients * args.window,
            "loop": "closed: each client keeps at most in_flight_per_client operations in flight and "
            "one HTTP request at a time; an eBL's next step waits until its previous operation counted",
            "batch_issue_items": BATCH_ITEMS,
            "drain_s": drain,
            "counted_when": "its event (eBL id, seq) is in the auditor event feed: mined (final on anvil) "
            "and indexed; the feed follows each new indexer checkpoint from /readyz",
            "feed_interval_s": FEED_INTERVAL,
            "straggler_poll": {"after_s": STRAGGLER_S, "every_s": STRAGGLER_POLL_S},
            "gateway": "python -m scripts.serve (as `make run`), subprocess, fresh data dir",
            "load_generator": "this process, same machine (httpx, one thread per client)",
            "env": {
                "EBL_CHAIN_BLOCK_TIME": 1,
                "EBL_KEYSTORE_KDF_N": 16384,
                "note": "KDF cost lowered only to unlock keystores fast at start-up; not on the request path",
            },
            "relayer": {"max_batch": 400, "max_delay_s": 0.05, "note": "Settings defaults"},
            "tradetrust": {"duration_s": tt_duration, "presigned_mints_per_s": args.tt_rate},
            "profiled_with": None
            if args.no_profile
            else f"py-spy record --gil --nonblocking --rate {args.profile_rate} --pid <gateway>, for the "
            "measured window of this same run; sampling overhead is included in the figures",
            "gateway_log_lines": stderr_lines,
            "gateway_log_warnings": {"count": len(warnings), "first": warnings[:5]},
            "gateway_stop": stopped,
            "seconds": round(time.monotonic() - started, 1),
        },
        "goal": GOAL,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    keys = (
        "ops_per_s",
        "p50_final_s",
        "p99_final_s",
        "errors",
        "tradetrust_ops_per_s",
        "ratio_vs_tradetrust",
    )
    print(json.dumps({k: result[k] for k in keys}, indent=2))
    if profile is not None:
        print(json.dumps(profile["stages_pct_of_busy"], indent=2))
    if stopped["anvil_left"]:
        print(f"WARNING: anvil left running: {stopped['anvil_left']}", file=sys.stderr)


if __name__ == "__main__":
    main()
