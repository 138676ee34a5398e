"""Soak: hold 80 % of the measured maximum throughput for 10 minutes; errors and memory over time.

Not a CI test: ``make soak`` (``python -m bench.soak``) writes ``bench/results/soak.json``; ``--quick``
runs 30 s and writes ``soak.quick.json``.

The gateway is started exactly as :mod:`bench.throughput` starts it (its ``Gateway``: ``python -m
scripts.serve`` as ``make run`` runs it, a fresh temporary data folder, ``EBL_CHAIN_BLOCK_TIME=1``,
``EBL_KEYSTORE_KDF_N=16384``), without the profiler.

Rate: ``--fraction`` (0.8) of ``ops_per_s`` in ``bench/results/throughput.json`` (``make bench``'s
throughput run on this machine); ``--rate`` sets it directly instead.

Load is **open loop**: operation *n* is due at ``start + n / rate`` whatever the gateway does, so a slow
gateway meets a growing queue instead of a politely waiting client. Each due slot takes the next step of
an eBL whose previous step is final (the life-cycle shapes and 16-eBL cycle of ``bench.throughput``, so
the mix is the same 40 % issue / 30 % transfer / 20 % endorse / 10 % surrender + accept) or, when no
eBL is waiting, an issuance; every second issuance is collected into a batch of ``BATCH_ITEMS``
(``POST /v1/carriers/ebls/batch``), the others go one by one. Requests are sent with ``?wait=false`` by
``--workers`` threads; an accepted operation counts as final when its event reaches the auditor feed
(``bench.throughput.Feed``: mined and indexed); only stragglers are polled on ``GET /v1/operations/{id}``.
Latencies run from the slot's due time (not the send time), so queueing in the client counts.

Every ``--sample`` seconds (10) a sample records, for that window: operations offered (due), acknowledged
(2xx), final on chain, errors by kind, p50 / p99 of acknowledgement and finality latency, the client's
backlog, and the resident memory (``VmRSS``), threads and open files of the gateway process and of its
anvil. At the end the gateway gets a SIGTERM; totals, RSS growth per minute (least squares over the
samples after the first minute, or after the first sample in a short run), ``kept_up`` (operations
final during the load >= 95 % of those offered) and the machine description are written with the
parameters, including the load average before and after: run it on a quiet machine, as the
throughput measurement it takes 80 % of was.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._machine import machine_description
from bench.throughput import (
    BATCH_ITEMS,
    CYCLE,
    MIX_TARGET,
    PARTIES,
    SHAPES,
    STRAGGLER_POLL_S,
    STRAGGLER_S,
    Ebl,
    Feed,
    Gateway,
)
from tests.fixtures.dcsa import issued_example

RESULTS = Path(__file__).resolve().parent / "results"
DRAIN_S = 30.0
GROUP = {
    "issue_single": "issue",
    "issue_batch": "issue",
    "transfer": "transfer",
    "endorse": "endorse",
    "surrender": "surrender+accept",
    "accept": "surrender+accept",
}


# ------------------------------------------------------------------ process probes


def proc_status(pid: int | None) -> dict[str, Any]:
    """Resident memory (MiB), threads and open file descriptors of a live process (empty if gone)."""
    if pid is None:
        return {}
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            rss, threads, fds = proc.memory_info().rss, proc.num_threads(), proc.num_fds()
    except psutil.Error:
        return {}
    return {"pid": pid, "rss_mib": round(rss / 2**20, 1), "threads": threads, "open_fds": fds}


def find_child(pid: int, name: str) -> int | None:
    """The first descendant of ``pid`` whose command name is ``name`` (breadth first)."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return None
    for child in descendants:
        try:
            if child.name() == name:
                return child.pid
        except psutil.Error:
            continue
    return None


# ------------------------------------------------------------------ load


@dataclass
class Job:
    kind: str  # issue_single | issue_batch | transfer | endorse | surrender | accept
    due: list[float]  # one due time per operation (a batch carries several)
    ebl: Ebl | None = None
    docs: list[tuple[dict[str, Any], str]] = field(default_factory=list)


@dataclass
class Pending:
    kind: str
    operation_id: str
    due: float
    ebl: Ebl | None
    ebl_id: str
    seq: int  # the event sequence number the operation produces (issuance: 0)
    next_poll: float


@dataclass
class Window:
    """Counters of one sampling window (reset at every sample) and of the whole run."""

    offered: Counter[str] = field(default_factory=Counter)
    acked: Counter[str] = field(default_factory=Counter)
    final: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    ack_latency: list[float] = field(default_factory=list)
    final_latency: list[float] = field(default_factory=list)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 3)


class Soak:
    """Open-loop driver: a dispatcher emitting due slots, workers sending them, pollers finishing them."""

    def __init__(self, gw: Gateway, rate: float, duration: float, workers: int, pollers: int) -> None:
        self.gw, self.rate, self.duration = gw, rate, duration
        self.tokens = {n: {"Authorization": f"Bearer {c['token']}"} for n, c in gw.credentials.items()}
        self.orgs = {n: c.get("org", "") for n, c in gw.credentials.items()}
        self.template = issued_example()
        self.run_id = f"{random.randrange(16**4):04X}"
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.ready: deque[Ebl] = deque()
        self.lock = threading.Lock()
        self.window = Window()
        self.total = Window()
        self.pending: list[list[Pending]] = [[] for _ in range(pollers)]
        self.pending_locks = [threading.Lock() for _ in range(pollers)]
        self.issued = 0
        self.cycle = CYCLE[:]
        random.Random(0).shuffle(self.cycle)
        self.stop_polling = threading.Event()
        # Completion as an auditor sees it: the operation's event in the feed (mined and indexed); only
        # stragglers are polled one by one, so the soak's own reads do not load the gateway it measures.
        self.feed = Feed(gw, [gw.credentials[n]["org"] for n in PARTIES])
        self.workers = [
            threading.Thread(target=self._work, name=f"soak-w{i}", daemon=True) for i in range(workers)
        ]
        self.pollers = [
            threading.Thread(target=self._poll, args=(i,), name=f"soak-p{i}", daemon=True)
            for i in range(pollers)
        ]
        self._next_poller = 0

    # -------------------------------------------------------------- bookkeeping

    def _count(self, what: str, kind: str, n: int = 1, latency: float | None = None) -> None:
        with self.lock:
            for w in (self.window, self.total):
                getattr(w, what)[kind] += n
                if latency is not None:
                    (w.ack_latency if what == "acked" else w.final_latency).append(latency)

    def _error(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.window.errors[key] += n
            self.total.errors[key] += n

    def backlog(self) -> dict[str, int]:
        in_flight = 0
        for i, lock in enumerate(self.pending_locks):
            with lock:
                in_flight += len(self.pending[i])
        return {
            "queued_requests": self.jobs.qsize(),
            "in_flight_ops": in_flight,
            "ebls_waiting": len(self.ready),
        }

    def take_window(self) -> Window:
        with self.lock:
            w, self.window = self.window, Window()
        return w

    # -------------------------------------------------------------- dispatcher

    def _doc(self) -> tuple[dict[str, Any], str]:
        self.issued += 1
        doc = dict(self.template)
        doc["transportDocumentReference"] = f"S{self.run_id}{self.issued:08d}"
        return doc, self.cycle[self.issued % len(self.cycle)]

    def dispatch(self) -> None:
        """Emit one operation per ``1 / rate`` seconds until the duration is over (runs in the caller)."""
        start = time.monotonic()
        end = start + self.duration
        batch: list[tuple[dict[str, Any], str]] = []
        batch_due: list[float] = []
        issuances = 0
        n = 0
        while True:
            due = start + n / self.rate
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            n += 1
            try:
                ebl = self.ready.popleft()
            except IndexError:
                ebl = None
            if ebl is not None:
                action = SHAPES[ebl.shape][ebl.step][0]
                self._count("offered", action)
                self.jobs.put(Job(action, [due], ebl=ebl))
                continue
            issuances += 1
            doc = self._doc()
            if issuances % 2:
                self._count("offered", "issue_single")
                self.jobs.put(Job("issue_single", [due], docs=[doc]))
            else:
                self._count("offered", "issue_batch")
                batch.append(doc)
                batch_due.append(due)
                if len(batch) == BATCH_ITEMS:
                    self.jobs.put(Job("issue_batch", batch_due, docs=batch))
                    batch, batch_due = [], []
        if batch:
            self.jobs.put(Job("issue_batch", batch_due, docs=batch))

    # -------------------------------------------------------------- workers

    def _request(self, job: Job) -> tuple[str, str, Any]:
        """(actor, path, body) of a job."""
        if job.kind == "issue_single":
            doc, _ = job.docs[0]
            return "carrier", "/v1/carriers/ebls", {"document": doc, "issueTo": self.orgs["shipper"]}
        if job.kind == "issue_batch":
            items = [{"document": d, "issueTo": self.orgs["shipper"]} for d, _ in job.docs]
            return "carrier", "/v1/carriers/ebls/batch", {"items": items}
        assert job.ebl is not None
        _, actor, party = SHAPES[job.ebl.shape][job.ebl.step]
        base = f"/v1/holders/ebls/{job.ebl.ebl_id}"
        path, body = {
            "endorse": (f"{base}/endorse", {"endorsee": self.orgs.get(party or "", ""), "toOrder": True}),
            "transfer": (f"{base}/transfer", {"to": self.orgs.get(party or "", "")}),
            "surrender": (f"{base}/surrender", {"reason": "DELIVERY"}),
            "accept": (f"/v1/carriers/ebls/{job.ebl.ebl_id}/accept-surrender", None),
        }[job.kind]
        return actor, path, body

    def _track(self, kind: str, op: dict[str, Any], due: float, ebl: Ebl | None, now: float) -> None:
        if not op.get("operationId"):
            self._error(f"{kind}:refused:{op.get('errorCode')}")
            return
        self._count("acked", kind, latency=now - due)
        i = self._next_poller = (self._next_poller + 1) % len(self.pollers)
        seq = 0 if kind.startswith("issue") or ebl is None else ebl.step + 1
        with self.pending_locks[i]:
            ebl_id = str(op.get("eblId", ""))
            self.pending[i].append(Pending(kind, op["operationId"], due, ebl, ebl_id, seq, now + STRAGGLER_S))

    def _work(self) -> None:
        with httpx.Client(base_url=self.gw.url, timeout=60) as c:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                actor, path, body = self._request(job)
                try:
                    r = c.post(path, params={"wait": "false"}, json=body, headers=self.tokens[actor])
                except httpx.HTTPError as exc:
                    self._error(f"{job.kind}:{type(exc).__name__}", len(job.due))
                    continue
                now = time.monotonic()
                if r.status_code not in (200, 201, 202):
                    code = r.json().get("code", "") if "json" in r.headers.get("content-type", "") else ""
                    self._error(f"{job.kind}:http_{r.status_code}:{code}", len(job.due))
                    continue
                if job.kind == "issue_batch":
                    for (_, shape), op, due in zip(job.docs, r.json(), job.due, strict=True):
                        self._track(
                            job.kind, op, due, Ebl(op["eblId"], shape) if op.get("eblId") else None, now
                        )
                elif job.kind == "issue_single":
                    op = r.json()
                    self._track(job.kind, op, job.due[0], Ebl(op["eblId"], job.docs[0][1]), now)
                else:
                    self._track(job.kind, r.json(), job.due[0], job.ebl, now)

    # -------------------------------------------------------------- pollers

    def _poll(self, i: int) -> None:
        auditor = self.tokens["auditor"]
        with httpx.Client(base_url=self.gw.url, timeout=60) as c:
            while True:
                now = time.monotonic()
                seen = self.feed.seen
                with self.pending_locks[i]:
                    due = [p for p in self.pending[i] if p.next_poll <= now or (p.ebl_id, p.seq) in seen]
                    if not due and not self.pending[i] and self.stop_polling.is_set():
                        return
                for p in due:
                    at = seen.get((p.ebl_id, p.seq))
                    if at is not None:  # in the auditor feed: mined and indexed
                        with self.pending_locks[i]:
                            self.pending[i].remove(p)
                        self._finished(p, at)
                        continue
                    try:  # a straggler: ask whether it failed
                        body = c.get(f"/v1/operations/{p.operation_id}", headers=auditor).json()
                    except (httpx.HTTPError, ValueError) as exc:
                        self._error(f"poll:{type(exc).__name__}")
                        p.next_poll = time.monotonic() + STRAGGLER_POLL_S
                        continue
                    if body.get("status") == "failed":
                        with self.pending_locks[i]:
                            self.pending[i].remove(p)
                        self._error(f"{p.kind}:failed:{body.get('errorCode')}")
                        continue
                    p.next_poll = time.monotonic() + STRAGGLER_POLL_S
                if not due and self.stop_polling.wait(0.02) and not self.pending[i]:
                    return

    def _finished(self, p: Pending, at: float) -> None:
        self._count("final", p.kind, latency=at - p.due)
        if p.ebl is not None:
            if not p.kind.startswith("issue"):
                p.ebl.step += 1  # an issuance leaves the eBL at its first step
            if p.ebl.step < len(SHAPES[p.ebl.shape]) and not self.stop_polling.is_set():
                self.ready.append(p.ebl)

    def drain(self, timeout: float) -> None:
        """Stop the workers once the queue is empty; wait until every accepted operation is final."""
        for _ in self.workers:
            self.jobs.put(None)
        for t in self.workers:
            t.join()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.backlog()["in_flight_ops"]:
            time.sleep(0.2)
        self.stop_polling.set()
        for t in self.pollers:
            t.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
        self.feed.stop_flag.set()
        self.feed.join(timeout=10)

    def start(self) -> None:
        self.feed.start()
        while self.feed.checkpoint < 0:
            time.sleep(0.1)
        for t in self.workers + self.pollers:
            t.start()


# ------------------------------------------------------------------ sampling


class Sampler(threading.Thread):
    """Every ``interval`` seconds: the window's counters and latencies, backlog, and process memory."""

    def __init__(self, soak: Soak, interval: float, started: float) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.soak, self.interval, self.started = soak, interval, started
        self.samples: list[dict[str, Any]] = []
        self.phase = "load"
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.anvil_pid = find_child(soak.gw.serve_pid, "anvil")

    def sample(self, phase: str) -> dict[str, Any]:
        with self.lock:
            return self._sample(phase)

    def _gas_price(self) -> int | None:
        """The node's suggested gas price: it must stay flat while the relayer pays it (fees.FeePolicy)."""
        try:
            reply = httpx.post(
                self.soak.gw.chain_url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_gasPrice", "params": []},
                timeout=5,
            ).json()
            return int(reply["result"], 16)
        except (httpx.HTTPError, KeyError, ValueError):
            return None

    def _sample(self, phase: str) -> dict[str, Any]:
        w = self.soak.take_window()
        if self.anvil_pid is None:
            self.anvil_pid = find_child(self.soak.gw.serve_pid, "anvil")
        s: dict[str, Any] = {
            "t_s": round(time.monotonic() - self.started, 1),
            "phase": phase,
            "offered": sum(w.offered.values()),
            "acknowledged": sum(w.acked.values()),
            "final": sum(w.final.values()),
            "errors": sum(w.errors.values()),
            "errors_by_kind": dict(w.errors),
            "ack_latency_s": {"p50": _pct(w.ack_latency, 0.5), "p99": _pct(w.ack_latency, 0.99)},
            "final_latency_s": {"p50": _pct(w.final_latency, 0.5), "p99": _pct(w.final_latency, 0.99)},
            "final_by_kind": dict(w.final),
            "backlog": self.soak.backlog(),
            "gateway": proc_status(self.soak.gw.serve_pid),
            "anvil": proc_status(self.anvil_pid),
            "chain_gas_price_wei": self._gas_price(),
        }
        self.samples.append(s)
        print(
            f"[{s['t_s']:7.1f}s {phase:5}] offered {s['offered']:5} acked {s['acknowledged']:5} "
            f"final {s['final']:5} errors {s['errors']:3}  final p50/p99 "
            f"{s['final_latency_s']['p50']}/{s['final_latency_s']['p99']} s  "
            f"gateway {s['gateway'].get('rss_mib')} MiB  anvil {s['anvil'].get('rss_mib')} MiB  "
            f"backlog {s['backlog']}",
            flush=True,
        )
        return s

    def cut(self, next_phase: str) -> None:
        """Close the current window now (a partial sample) and label the following ones ``next_phase``."""
        with self.lock:
            self._sample(self.phase)
            self.phase = next_phase

    def run(self) -> None:
        while not self.stop_flag.wait(self.interval):
            self.sample(self.phase)


def rss_growth(samples: list[dict[str, Any]], who: str, skip_s: float) -> float | None:
    """Least-squares slope of ``who``'s RSS in MiB per minute over samples after ``skip_s``."""
    pts = [(s["t_s"], s[who]["rss_mib"]) for s in samples if s["t_s"] > skip_s and s[who].get("rss_mib")]
    if len(pts) < 2:
        return None
    slope = statistics.linear_regression([p[0] for p in pts], [p[1] for p in pts]).slope
    return round(slope * 60, 3)


# ------------------------------------------------------------------ main


def target_rate(args: argparse.Namespace) -> tuple[float, dict[str, Any]]:
    """The offered rate and where it came from."""
    if args.rate:
        return args.rate, {"source": "--rate", "rate_ops_per_s": args.rate}
    source = args.throughput
    if not source.exists():
        raise SystemExit(f"{source} not found: run `python -m bench.throughput` first, or pass --rate")
    peak = float(json.loads(source.read_text())["ops_per_s"])
    if peak <= 0:
        raise SystemExit(f"{source} records ops_per_s = {peak}: measure again, or pass --rate")
    return round(peak * args.fraction, 1), {
        "source": str(source.relative_to(Path.cwd()) if source.is_relative_to(Path.cwd()) else source),
        "measured_max_ops_per_s": peak,
        "fraction": args.fraction,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Hold 80 % of the peak throughput; errors and memory over time"
    )
    parser.add_argument("--quick", action="store_true", help="30 s instead of 600 s; writes soak.quick.json")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (default 600)")
    parser.add_argument("--rate", type=float, default=None, help="operations per second (default: measured)")
    parser.add_argument("--fraction", type=float, default=0.8, help="of the measured ops_per_s")
    parser.add_argument("--throughput", type=Path, default=RESULTS / "throughput.json")
    parser.add_argument("--workers", type=int, default=32, help="sending threads")
    parser.add_argument("--pollers", type=int, default=4, help="threads polling accepted operations")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds per sample")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    duration = args.duration or (30.0 if args.quick else 600.0)
    out: Path = args.out or RESULTS / ("soak.quick.json" if args.quick else "soak.json")
    rate, rate_source = target_rate(args)
    load_before = [round(x, 2) for x in os.getloadavg()]
    print(f"soak: {rate} ops/s for {duration:g} s ({rate_source})", flush=True)

    with tempfile.TemporaryDirectory(prefix="ebl-soak-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        started = time.monotonic()
        gw = Gateway.start(data_dir, profile=False, rate=0)
        print(f"gateway up in {time.monotonic() - started:.1f}s at {gw.url} (pid {gw.serve_pid})", flush=True)
        try:
            soak = Soak(gw, rate, duration, args.workers, args.pollers)
            t0 = time.monotonic()
            sampler = Sampler(soak, args.sample, t0)
            baseline = sampler.sample("idle")
            soak.start()
            sampler.start()
            soak.dispatch()
            sampler.cut("drain")
            drain_started = time.monotonic()
            soak.drain(DRAIN_S)
            drained_s = time.monotonic() - drain_started
            sampler.stop_flag.set()
            sampler.join()
            sampler.cut("done")
            backlog_after = soak.backlog()
        finally:
            stopped = gw.stop()
        stderr_lines = (Path(tmp) / "serve.stderr").read_text().count("\n")

    samples = sampler.samples
    total = soak.total
    offered, acked, final = sum(total.offered.values()), sum(total.acked.values()), sum(total.final.values())
    by_group: Counter[str] = Counter()
    for kind, n in total.final.items():
        by_group[GROUP[kind]] += n
    load_samples = [s for s in samples if s["phase"] == "load"]
    skip = 60.0 if duration >= 180 else (load_samples[0]["t_s"] if load_samples else 0.0)
    result = {
        "summary": {
            "duration_s": duration,
            "rate_offered_ops_per_s": rate,
            "offered": offered,
            "acknowledged": acked,
            "final": final,
            "achieved_final_ops_per_s": round(sum(s["final"] for s in load_samples) / duration, 1),
            # Held the rate: finality kept pace with the offered load (else the backlog grew all along).
            "kept_up": sum(s["final"] for s in load_samples) >= 0.95 * rate * duration,
            "errors": sum(total.errors.values()),
            "errors_by_kind": dict(total.errors),
            "unfinished_after_drain": backlog_after["queued_requests"] + backlog_after["in_flight_ops"],
            "ebls_left_mid_life_cycle": backlog_after["ebls_waiting"],
            "drain_s": round(drained_s, 1),
            "ack_latency_s": {q: _pct(total.ack_latency, v) for q, v in (("p50", 0.5), ("p99", 0.99))},
            "final_latency_s": {q: _pct(total.final_latency, v) for q, v in (("p50", 0.5), ("p99", 0.99))},
            "mix": {
                "target": MIX_TARGET,
                "achieved_final": {k: round(v / final, 3) for k, v in by_group.items()} if final else {},
            },
            "gateway_rss_mib": {
                "idle": baseline["gateway"].get("rss_mib"),
                "max": max((s["gateway"].get("rss_mib") or 0) for s in samples),
                "end": samples[-1]["gateway"].get("rss_mib"),
                "growth_mib_per_min": rss_growth(samples, "gateway", skip),
            },
            "chain_gas_price_wei": {
                "start": next((p for s in samples if (p := s.get("chain_gas_price_wei"))), None),
                "max": max((s.get("chain_gas_price_wei") or 0) for s in samples),
                "end": samples[-1].get("chain_gas_price_wei"),
            },
            "anvil_rss_mib": {
                "idle": baseline["anvil"].get("rss_mib"),
                "max": max((s["anvil"].get("rss_mib") or 0) for s in samples),
                "end": samples[-1]["anvil"].get("rss_mib"),
                "growth_mib_per_min": rss_growth(samples, "anvil", skip),
            },
        },
        "samples": samples,
        "machine": machine_description(),
        "parameters": {
            "rate": rate_source,
            "duration_s": duration,
            "sample_interval_s": args.sample,
            "workers": args.workers,
            "pollers": args.pollers,
            "batch_issue_items": BATCH_ITEMS,
            "completion": "event (eBL id, seq) seen in GET /v1/auditors/events after each indexer checkpoint",
            "straggler_poll_after_s": STRAGGLER_S,
            "straggler_poll_interval_s": STRAGGLER_POLL_S,
            "drain_limit_s": DRAIN_S,
            "load": "open loop: operation n due at start + n/rate; latency measured from the due time",
            "gateway": "python -m scripts.serve (as `make run`), subprocess, fresh data dir, no profiler",
            "env": {"EBL_CHAIN_BLOCK_TIME": 1, "EBL_KEYSTORE_KDF_N": 16384},
            "rss_growth": f"least-squares slope over samples after t = {skip:g} s",
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "gateway_log_lines": stderr_lines,
            "gateway_stop": stopped,
            "seconds": round(time.monotonic() - started, 1),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))
    print(f"wrote {out}")
    if stopped.get("anvil_left"):
        print(f"WARNING: anvil left running: {stopped['anvil_left']}", file=sys.stderr)


if __name__ == "__main__":
    main()
