"""Endurance: the embedded chain under sustained load, and left idle; memory, state file, finality.

``make soak`` (``python -m bench.endurance``: 100 ops/s for 60 minutes, then 2 minutes idle) writes
``bench/results/endurance.json``, and the idle run (``--rate 0 --preload 100000 --idle 3600``: a registry
holding 100,000 eBLs left alone for an hour) ``endurance-idle.json``; ``--quick`` (in ``make
bench-quick``) runs about a minute and writes ``endurance.quick.json``.

Phases, each sampled every ``--sample`` seconds:

* ``preload``: ``--preload`` eBLs issued as fast as the relayer takes them (a registry that already holds
  that many);
* ``load``: open-loop operations at ``--rate`` per second for ``--duration`` seconds through the
  library's batch path (:mod:`bench._chain_load`: the relayer the gateway's outbox uses, no HTTP), in the
  project's ops/s mix (40 % issue, 30 % transfer, 20 % endorse, 10 % surrender + accept; the offered mix
  is recorded) or, with ``--issue-only``, issuances only (the figure before the mix);
* ``idle``: ``--idle`` seconds with no traffic (no blocks: on-demand mining, so no dumps either).

Each sample: anvil's resident memory, its CPU seconds in the window (mining, persistence and reads:
``persistence_cpu_share`` is estimated from the dumps' count and the size of the file), the state file's
size and how many times it was rewritten, the crash backup's lag behind the newest dump
(``backup_lag_s``, the goal: at most ``BACKUP_EVERY``) and the age of the state it holds
(``backup_age_s``: the persister's interval plus the lag; an idle chain is not dumped, so it only
ages), chain height, issuances offered /
final / failed and the finality p50 / p99 (from the due time, so queueing counts). The summary has the
RSS growth per minute after warm-up (least squares), p99 at the end over p99 at the start, the oldest
backup seen, whether reads at ``head - k`` still answer (the registry pins reads to a cached head), how
many registry logs the node still returns, and one full state dump's wall time.

``--anvil-args`` passes flags to anvil on top of the registry's own
(:func:`registry.runtime.embedded_anvil_config`, ``EBL_CHAIN_*``; ``--states-kept`` overrides
``EBL_CHAIN_STATES_KEPT``, ``--tx-kept N`` overrides ``EBL_CHAIN_TX_KEPT``, anvil's
``--transaction-block-keeper N``); ``--bare`` runs anvil as the registry did before issue 17 (interval
mining, anvil's own history limits, a dump every second).
Other helpers may share the machine: the load averages before and after are recorded. The JSON is
rewritten after every sample (``"partial": true``), so a run cut short still leaves its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench._chain_load import (
    Load,
    Probe,
    dump_seconds,
    embedded_chain,
    historical_reads,
    logs_kept,
    pct,
    preload,
)
from bench._machine import machine_description
from bench.throughput import MIX_TARGET
from registry.chain.anvil import AnvilConfig
from registry.config import Settings
from registry.runtime import embedded_anvil_config
from registry.watchdog import BACKUP_EVERY, WATCH_EVERY

RESULTS = Path(__file__).resolve().parent / "results"


def slope_per_minute(samples: list[dict[str, Any]], key: str, skip_s: float) -> float | None:
    """Least-squares growth of ``key`` per minute over the samples after ``skip_s`` seconds."""
    points = [(s["t"], s[key]) for s in samples if s["t"] >= skip_s and s.get(key) is not None]
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return round(60 * sum((p[0] - mx) * (p[1] - my) for p in points) / den, 2) if den else None


class Sampler(threading.Thread):
    def __init__(
        self,
        probe: Probe,
        load: Load | None,
        interval: float,
        started: float,
        checkpoint: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        super().__init__(name="endurance-sampler", daemon=True)
        self.probe, self.load, self.interval, self.started = probe, load, interval, started
        self.checkpoint = checkpoint
        backups = probe.chain.node.backup_schedule(BACKUP_EVERY, WATCH_EVERY)
        assert backups is not None, "the benchmark's anvil always has a state file"
        self.backups = backups
        self.samples: list[dict[str, Any]] = []
        self.phase = "preload"
        self.lock = threading.Lock()
        """Held while sampling or backing up (and by a restart of the node)."""
        self._halt = threading.Event()

    def sample(self) -> None:
        s: dict[str, Any] = {"t": round(time.monotonic() - self.started, 1), "phase": self.phase}
        s.update(self.probe.sample())
        # the backup's worst lag behind the newest dump in this window (a copy caught up, or not yet)
        s["backup_lag_s"] = round(max(self.backups.max_lag_s, self.backups.lag()), 1)
        self.backups.max_lag_s = 0.0
        if self.load is not None:
            offered, final, failed, lat, issued = self.load.take()
            s.update(
                offered=offered,
                final=final,
                issued=issued,
                failed=failed,
                finality_p50_s=pct(lat, 50),
                finality_p99_s=pct(lat, 99),
            )
        s["load_avg_1m"] = round(os.getloadavg()[0], 2)
        self.samples.append(s)
        print(json.dumps(s), flush=True)
        if self.checkpoint is not None:
            self.checkpoint(self.samples)

    def run(self) -> None:
        next_sample = time.monotonic() + self.interval
        while not self._halt.wait(WATCH_EVERY):
            with self.lock:
                self.backups.tick()  # as registry.watchdog.ChainWatchdog does
                if time.monotonic() >= next_sample:
                    next_sample += self.interval
                    self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=self.interval + 30)


def anvil_config(args: argparse.Namespace) -> AnvilConfig:
    """The anvil the run measures: the registry's (``EBL_CHAIN_*``) or, with ``--bare``, anvil's own."""
    extra = tuple(shlex.split(args.anvil_args))
    if args.bare:  # anvil's own defaults, as the registry ran it before issue 17
        return AnvilConfig(
            block_time=None if args.automine else args.block_time,
            state_interval=args.state_interval or 1,
            transactions_kept=args.tx_kept,
            extra_args=extra,
        )
    # exactly as the registry runs it (EBL_CHAIN_* settings apply)
    config = replace(embedded_anvil_config(Settings()), state_path=None, port=None, extra_args=extra)
    if args.state_interval:
        config = replace(config, state_interval=args.state_interval)
    if args.states_kept is not None:
        config = replace(config, states_kept=args.states_kept)
    if args.tx_kept is not None:
        config = replace(config, transactions_kept=args.tx_kept or None)
    return config


def parameters(args: argparse.Namespace, config: AnvilConfig) -> dict[str, Any]:
    return {
        "rate": args.rate,
        "duration_s": args.duration,
        "idle_s": args.idle,
        "preload": args.preload,
        "sample_s": args.sample,
        "mix": "issue-only" if args.issue_only else MIX_TARGET,
        "block_time": config.block_time,
        "on_demand": config.on_demand,
        "states_kept": config.states_kept,
        "state_interval": config.state_interval,
        "anvil_args": list(config.extra_args),
        "bare": args.bare,
        "label": args.label,
    }


def summary(args: argparse.Namespace, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """What the samples add up to (the end-of-run checks are added by :func:`run`)."""
    load_phase = [s for s in samples if s["phase"] == "load" and s.get("finality_p99_s") is not None]
    # p99 over the first and the last minute of load (after warm-up), not one 10 s window
    per_minute = max(1, round(60 / args.sample))
    warm = [s for s in load_phase if s["t"] - load_phase[0]["t"] >= args.warmup] if load_phase else []

    def p99_over(window: list[dict[str, Any]]) -> float | None:
        values = sorted(s["finality_p99_s"] for s in window)
        return values[len(values) // 2] if values else None  # the median window's p99

    p99_start = p99_over(warm[:per_minute]) if len(warm) >= 2 * per_minute else None
    p99_end = p99_over(warm[-per_minute:]) if len(warm) >= 2 * per_minute else None
    total_final = sum(s.get("final", 0) for s in samples)
    load_s = sum(1 for s in samples if s["phase"] == "load") * args.sample
    backup_ages = [s["backup_age_s"] for s in samples if s.get("backup_age_s") is not None]
    backup_lags = [s["backup_lag_s"] for s in samples if s.get("backup_lag_s") is not None]
    idle = [s for s in samples if s["phase"] == "idle"]
    return {
        "load_final_per_s": round(total_final / load_s, 1) if load_s else None,
        "failed": sum(s.get("failed", 0) for s in samples),
        "anvil_rss_end_mib": samples[-1]["anvil_rss_mib"] if samples else None,
        "anvil_rss_max_mib": max((s["anvil_rss_mib"] for s in samples), default=None),
        "rss_growth_mib_per_min_load": slope_per_minute(
            [s for s in samples if s["phase"] == "load"],
            "anvil_rss_mib",
            (load_phase[0]["t"] if load_phase else 0) + args.warmup,
        ),
        "rss_growth_mib_per_min_idle": slope_per_minute(idle, "anvil_rss_mib", idle[0]["t"] if idle else 0),
        # a sample may catch a dump half written: the largest of the last three is the file
        "state_file_end_mib": max((s["state_file_mib"] for s in samples[-3:]), default=None),
        "anvil_cpu_share_of_one_core": round(
            sum(s["anvil_cpu_s"] for s in samples) / max(samples[-1]["t"], 1e-9), 3
        )
        if samples
        else None,
        "finality_p99_start_s": p99_start,
        "finality_p99_end_s": p99_end,
        "p99_end_over_start": round(p99_end / p99_start, 2) if p99_start and p99_end else None,
        "backup_interval_s": BACKUP_EVERY,
        "backup_lag_max_s": max(backup_lags, default=None),
        "backup_age_max_s": max(backup_ages, default=None),
        "ebls": args.preload + sum(s.get("issued", 0) for s in samples),
        "operations_final": total_final,
    }


def run(args: argparse.Namespace, out: Path | None = None) -> dict[str, Any]:
    config = anvil_config(args)
    load_before = os.getloadavg()
    head: dict[str, Any] = {"parameters": parameters(args, config)}

    def result(samples: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            **head,
            "summary": {**summary(args, samples), **extra},
            "samples": samples,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "machine": machine_description(),
            "caveat": "2-core machine shared with other helpers' tests and benchmarks while this ran: "
            "absolute rates and latencies are pessimistic; memory and file sizes do not depend on load",
        }

    def checkpoint(samples: list[dict[str, Any]]) -> None:
        if out is not None:
            write_json(out, {**result(samples), "partial": True})

    with (
        tempfile.TemporaryDirectory(prefix="ebl-endurance-") as tmp,
        embedded_chain(Path(tmp), config) as chain,
    ):
        started = time.monotonic()
        probe = Probe(chain)
        load = (
            Load(chain, args.rate, mix=not args.issue_only) if args.rate > 0 and args.duration > 0 else None
        )
        sampler = Sampler(probe, load, args.sample, started, checkpoint)
        sampler.start()
        preload_rate = preload(chain, args.preload) if args.preload else None
        head["preload_rate_per_s"] = round(preload_rate, 1) if preload_rate else None
        if load is not None:
            sampler.phase = "load"
            load.start()
            time.sleep(args.duration)
            load.stop()
            time.sleep(3)  # let the last batches become final
            head["mix_offered"] = load.mix_offered()
        if args.idle:
            with sampler.lock:
                sampler.phase = "idle"
            time.sleep(args.idle)
        sampler.stop()
        probe.close()
        return result(
            sampler.samples,
            reads_at_head_minus_k=historical_reads(chain),
            registry_logs_kept=logs_kept(chain),
            one_state_dump_s=dump_seconds(chain),
        )


def write_json(out: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``out`` through a temporary file (a reader never sees half of it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(out)


def plot(result: dict[str, Any], out: Path) -> bool:
    """anvil RSS, state file and finality p99 over time, phases shaded; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    samples = result["samples"]
    t = [s["t"] / 60 for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(t, [s["anvil_rss_mib"] for s in samples], label="anvil RSS (MiB)")
    top.plot(t, [s["state_file_mib"] for s in samples], label="state file (MiB)")
    top.set_ylabel("MiB")
    top.legend(loc="upper left")
    p99 = [(x, s.get("finality_p99_s")) for x, s in zip(t, samples, strict=True)]
    bottom.plot(
        [x for x, v in p99 if v is not None], [v for _, v in p99 if v is not None], label="finality p99"
    )
    p50 = [(x, s.get("finality_p50_s")) for x, s in zip(t, samples, strict=True)]
    bottom.plot(
        [x for x, v in p50 if v is not None], [v for _, v in p50 if v is not None], label="finality p50"
    )
    bottom.set_ylabel("seconds")
    bottom.set_xlabel("minutes (shaded: idle)")
    bottom.legend(loc="upper left")
    for ax in (top, bottom):
        for s, x in zip(samples, t, strict=True):
            if s["phase"] == "idle":
                ax.axvspan(x - result["parameters"]["sample_s"] / 60, x, color="0.9", lw=0)
    p = result["parameters"]
    fig.suptitle(
        f"endurance: {p['rate']:g}/s for {p['duration_s']:g} s, idle {p['idle_s']:g} s (shared 2 cores)"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="about a minute: endurance.quick.json")
    p.add_argument("--rate", type=float, default=100.0, help="operations per second (0: none)")
    p.add_argument("--duration", type=float, default=3600.0, help="seconds of load")
    p.add_argument("--idle", type=float, default=120.0, help="seconds idle after the load")
    p.add_argument("--preload", type=int, default=0, help="eBLs issued before the load")
    p.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before RSS growth is fitted")
    p.add_argument("--block-time", type=float, default=1.0)
    p.add_argument("--automine", action="store_true", help="one block per transaction, none when idle")
    p.add_argument(
        "--state-interval",
        type=int,
        default=None,
        help="seconds between dumps (default: the registry's; --bare: 1)",
    )
    p.add_argument("--anvil-args", default="", help="extra anvil flags, e.g. '--prune-history 64'")
    p.add_argument("--states-kept", type=int, default=None, help="override EBL_CHAIN_STATES_KEPT")
    p.add_argument(
        "--tx-kept",
        type=int,
        default=None,
        help="anvil --transaction-block-keeper N (blocks; default EBL_CHAIN_TX_KEPT, 0: keep all)",
    )
    p.add_argument("--issue-only", action="store_true", help="issuances only, not the ops/s mix")
    p.add_argument("--bare", action="store_true", help="anvil's defaults, not the registry's flags")
    p.add_argument("--label", default="", help="a name for this run in the results")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.idle, args.sample, args.warmup = 45.0, 15.0, 5.0, 10.0
    out = args.out or RESULTS / ("endurance.quick.json" if args.quick else "endurance.json")
    result = run(args, out)
    write_json(out, result)
    if args.out is None and not args.quick:
        plot(result, out.with_suffix(".png"))
    print(json.dumps(result["summary"], indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
