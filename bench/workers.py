"""Throughput with 1, 2 and 4 gateway workers (``make run WORKERS=N``) on one PostgreSQL journal.

The same closed-loop HTTP mix as :mod:`bench.throughput` (its ``Gateway`` and ``run_load``), against
``python -m scripts.serve --workers N`` with ``EBL_DATABASE_URL`` on a throwaway PostgreSQL server
(tests/support/postgres.py: fsync off), a fresh data folder per run. With one worker the gateway is
today's single process (no leader election). The results go to ``bench/results/throughput.json``
under ``"workers"``, beside the single-process SQLite figures already there.

Run: ``python -m bench.workers [--workers 1 2 4] [--duration 20] [--clients 16] [--window 40]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._machine import machine_description
from bench.throughput import RESULTS, Gateway, run_load
from tests.support.postgres import PostgresServer


def one_run(workers: int, duration: float, drain: float, clients: int, window: int) -> dict[str, Any]:
    postgres = PostgresServer()
    postgres.start()
    try:
        url = postgres.create_database("bench")
        with tempfile.TemporaryDirectory(prefix="ebl-workers-") as tmp:
            data_dir = Path(tmp) / "data"
            data_dir.mkdir()
            started = time.monotonic()
            gw = Gateway.start(
                data_dir,
                profile=False,
                rate=50,
                timeout=600,
                workers=workers,
                env={"EBL_DATABASE_URL": url},
            )
            # /healthz answers once one worker serves; measure once every worker has started (the
            # leader's start includes its recovery, and writes wait in the journal until it relays)
            log = data_dir.parent / "serve.stderr"
            while log.read_text(errors="replace").count("Application startup complete") < workers:
                if time.monotonic() - started > 600:
                    raise SystemExit(f"not every worker started: {log.read_text()[-3000:]}")
                time.sleep(0.5)
            up = time.monotonic() - started
            try:
                load = run_load(gw, clients, window, duration, drain)
            finally:
                stopped = gw.stop()
    finally:
        postgres.stop()
    return {
        "workers": workers,
        "ops_per_s": load["ops_per_s"],
        "p50_final_s": load["p50_final_s"],
        "p99_final_s": load["p99_final_s"],
        "errors": load["errors"],
        "cpu_seconds_in_window": load["cpu_seconds_in_window"],
        "load_average": load["load_average"],
        "start_up_s": round(up, 1),
        "gateway_stop": stopped,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--window", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    args = parser.parse_args(argv)
    runs = []
    for n in args.workers:
        run = one_run(n, args.duration, args.drain, args.clients, args.window)
        print(json.dumps({k: run[k] for k in ("workers", "ops_per_s", "p50_final_s", "p99_final_s")}))
        runs.append(run)
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    earlier = result.get("workers", {}).get("runs", [])
    kept = [r for r in earlier if r["workers"] not in {run["workers"] for run in runs}]
    result["workers"] = {
        "runs": sorted(kept + runs, key=lambda r: r["workers"]),
        "parameters": {
            "duration_s": args.duration,
            "drain_s": args.drain,
            "clients": args.clients,
            "in_flight_per_client": args.window,
            "database": "PostgreSQL (throwaway server, fsync off) on this machine",
            "gateway": "python -m scripts.serve --workers N (make run WORKERS=N), embedded anvil, "
            "EBL_CHAIN_BLOCK_TIME=1; 1 worker = the single-process gateway",
            "mix_and_counting": "as the top-level figures (bench/throughput.py)",
        },
        "machine": machine_description(),
        "cpus": os.cpu_count(),
        "note": result.get("workers", {}).get("note", ""),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
