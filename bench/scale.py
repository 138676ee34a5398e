"""Scale: issue eBLs on chain up to ``--target`` (1,000,000) and measure what the embedded ledger costs.

``python -m bench.scale`` writes ``bench/results/scale.json`` (and ``scale.png`` through
:mod:`bench.plots`); ``--quick`` issues 20,000 and writes ``scale.quick.json``.

anvil runs with the registry's settings (:func:`registry.runtime.embedded_anvil_config`,
``EBL_CHAIN_*``; ``--states-kept`` and ``--state-interval`` override them) plus ``--tx-kept`` (anvil's
``--transaction-block-keeper``; 64, the registry's ``EBL_CHAIN_TX_KEPT`` default), its state file in a
temporary data folder. eBLs are issued through the library's batch path as fast as it goes
(:func:`bench._chain_load.issue_many`, the preload of :mod:`bench.endurance`), in steps of ``--step``.
After each step a sample records: eBLs on chain, the step's issuance rate, anvil's RSS, the state file's
size, anvil's CPU share over the step, and the chain height. Every ``--dump-every`` eBLs one full state
dump (``anvil_dumpState``) is timed with issuance paused, with anvil's CPU seconds and RSS peak for it:
the persistence share of a core is that CPU over the wait the registry's persister would choose after
such a dump (:func:`registry.chain.anvil_persist.next_wait`: a hundred times its duration, within the
configured interval bounds), and over the persister's current wait (``state_interval_s``). The JSON is
rewritten after every step (``"partial": true``), so a run cut short still leaves its numbers.

After the target, ``--settle`` (20) issuances a block run until every block the node keeps transactions
for is such a block, as a registry's traffic would after a bulk load; then RSS and one timed dump
(``settled``): the bulk blocks' traces are a transient the issuance carries, not what the registry holds.

At the end anvil is stopped (SIGTERM: it writes its state), and a cold restart from the state file is
timed as the registry does it (:meth:`registry.chain.anvil.AnvilProcess.start`: the leftover check, the
backup copy, the load), then its RSS, and ``titleOf`` of the first and last eBLs issued (nothing lost).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
from web3 import Web3

from bench._chain_load import Chain, embedded_chain, issue_many
from bench._machine import machine_description
from bench.endurance import RESULTS, write_json
from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.anvil_persist import next_wait
from registry.chain.views import TitleReader
from registry.config import Settings
from registry.runtime import embedded_anvil_config

PROBES = 5
"""eBLs checked after the restart at each end of the issuance."""


def config_for(args: argparse.Namespace) -> AnvilConfig:
    config = replace(embedded_anvil_config(Settings()), state_path=None, port=None)
    config = replace(config, transactions_kept=args.tx_kept or None)
    if args.states_kept is not None:
        config = replace(config, states_kept=args.states_kept)
    if args.state_interval is not None:
        config = replace(config, state_interval=args.state_interval)
    return config


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def timed_dump(chain: Chain, proc: psutil.Process) -> dict[str, float]:
    """One full ``anvil_dumpState`` with issuance paused: wall seconds, anvil CPU seconds, RSS peak."""
    cpu0, peak = cpu_seconds(proc), proc.memory_info().rss
    started = time.monotonic()
    result: dict[str, Any] = {}

    def dump() -> None:
        result["reply"] = chain.w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]

    t = threading.Thread(target=dump, daemon=True)
    t.start()
    while t.is_alive():
        peak = max(peak, proc.memory_info().rss)
        t.join(0.05)
    wall = time.monotonic() - started
    size = len(str(result.get("reply", {}).get("result", ""))) // 2
    return {
        "dump_wall_s": round(wall, 2),
        "dump_cpu_s": round(cpu_seconds(proc) - cpu0, 2),
        "dump_rss_peak_mib": round(peak / 2**20, 1),
        "dump_gzip_mib": round(size / 2**20, 1),
    }


def cold_restart(config: AnvilConfig, state: Path, chain: Chain, probes: list[int]) -> dict[str, Any]:
    """Stop the node (it writes its state), start a new one from the file, check the probed eBLs."""
    t0 = time.monotonic()
    chain.node.stop(timeout=900)
    stop_s = time.monotonic() - t0
    size = state.stat().st_size
    node = AnvilProcess(replace(config, state_path=state))
    t0 = time.monotonic()
    node.start(timeout=900)
    start_s = time.monotonic() - t0
    try:
        assert node.pid is not None
        rss = psutil.Process(node.pid).memory_info().rss
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        reader = TitleReader(w3, chain.deployment.address)
        found = reader.titles_of(probes, "latest")
        return {
            "stop_and_final_dump_s": round(stop_s, 1),
            "state_file_mib": round(size / 2**20, 1),
            "cold_start_s": round(start_s, 1),
            "rss_after_start_mib": round(rss / 2**20, 1),
            "probed": len(probes),
            "found": sum(1 for e in probes if e in found),
            "nothing_lost": all(e in found for e in probes),
        }
    finally:
        node.stop(timeout=900)


def settle(chain: Chain, proc: psutil.Process, config: AnvilConfig, per_block: int) -> dict[str, Any]:
    """Run the chain on as a registry would after the bulk issuance: ``per_block`` issuances a block
    until every block the node keeps transactions (and states) for is one of these, then anvil's RSS
    and one timed dump. The bulk steps put about a thousand issuances with their call traces in each
    block, and the transaction keeper holds 64 such blocks (~75,000 eBLs' traces) until traffic rolls
    them out: RSS during the issuance is that transient on top of what the registry holds."""
    blocks = (config.transactions_kept or 0) + (config.states_kept or 0) + 2
    started, first = time.monotonic(), chain.head()
    rss_max = issued = 0
    while chain.head() - first < blocks:
        issue_many(chain, per_block, per_block)
        issued += per_block
        rss_max = max(rss_max, proc.memory_info().rss)
    time.sleep(2)
    return {
        "blocks": chain.head() - first,
        "issued": issued,
        "seconds": round(time.monotonic() - started, 1),
        "anvil_rss_mib": round(proc.memory_info().rss / 2**20, 1),
        "anvil_rss_max_mib": round(rss_max / 2**20, 1),
        **timed_dump(chain, proc),
    }


def run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    config = config_for(args)
    load_before = os.getloadavg()
    result: dict[str, Any] = {
        "parameters": {
            "target": args.target,
            "step": args.step,
            "dump_every": args.dump_every,
            "settle_per_block": args.settle,
            "states_kept": config.states_kept,
            "transactions_kept": config.transactions_kept,
            "state_interval": config.state_interval,
            "on_demand": config.on_demand,
            "block_time": config.block_time,
            "anvil_args": list(config.extra_args),
        },
        "samples": [],
        "load_average_before": [round(x, 2) for x in load_before],
        "machine": machine_description(),
        "caveat": "2-core machine shared with other helpers' tests and benchmarks (and the endurance "
        "run) while this ran: rates, dump times and CPU shares are pessimistic; sizes are not",
    }

    def checkpoint(partial: bool = True) -> None:
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        write_json(out, {**result, "partial": partial})

    with tempfile.TemporaryDirectory(prefix="ebl-scale-") as tmp, embedded_chain(Path(tmp), config) as chain:
        assert chain.node.pid is not None
        proc = psutil.Process(chain.node.pid)
        first: list[int] = []
        last: list[int] = []
        total, next_dump, started = 0, args.dump_every, time.monotonic()
        while total < args.target:
            n = min(args.step, args.target - total)
            cpu0 = cpu_seconds(proc)
            ids, wall = issue_many(chain, n)
            total += n
            chain.node.backup_state()  # as the watchdog's backup round
            first = first or ids[:PROBES]
            last = ids[-PROBES:]
            sample: dict[str, Any] = {
                "t": round(time.monotonic() - started, 1),
                "ebls": total,
                "rate_per_s": round(n / wall, 1),
                "anvil_rss_mib": round(proc.memory_info().rss / 2**20, 1),
                "state_file_mib": round(chain.state_path.stat().st_size / 2**20, 1)
                if chain.state_path.exists()
                else None,
                "anvil_cpu_share": round((cpu_seconds(proc) - cpu0) / wall, 3),
                "height": chain.head(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "state_interval_s": chain.node.state_interval,
            }
            if total >= next_dump or total >= args.target:
                next_dump += args.dump_every
                dump = timed_dump(chain, proc)
                share = min(1.0, dump["dump_cpu_s"] / chain.node.state_interval)
                longest = config.state_interval_max or config.state_interval
                sized = next_wait(dump["dump_wall_s"], config.state_interval, longest)
                sample.update(
                    dump,
                    persistence_share_at_interval=round(share, 3),
                    registry_interval_s=sized,
                    persistence_share_at_registry_interval=round(min(1.0, dump["dump_cpu_s"] / sized), 3),
                )
            result["samples"].append(sample)
            print(sample, flush=True)
            checkpoint()
        if args.settle:
            result["settled"] = settle(chain, proc, config, args.settle)
            print(result["settled"], flush=True)
            checkpoint()
        result["restart"] = cold_restart(config, chain.state_path, chain, first + last)
    checkpoint(partial=False)
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", type=int, default=1_000_000, help="eBLs on chain at the end")
    p.add_argument("--step", type=int, default=10_000, help="eBLs between samples")
    p.add_argument("--dump-every", type=int, default=100_000, help="eBLs between timed dumps")
    p.add_argument("--tx-kept", type=int, default=64, help="--transaction-block-keeper (0: off)")
    p.add_argument("--states-kept", type=int, default=None, help="override EBL_CHAIN_STATES_KEPT")
    p.add_argument("--state-interval", type=int, default=None, help="override EBL_CHAIN_STATE_INTERVAL")
    p.add_argument(
        "--settle",
        type=int,
        default=20,
        help="then issue this many a block until the kept blocks are all such (0: skip); RSS and a dump",
    )
    p.add_argument("--quick", action="store_true", help="20,000 eBLs: scale.quick.json")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.target, args.step, args.dump_every = 20_000, 5_000, 10_000
    out = args.out or RESULTS / ("scale.quick.json" if args.quick else "scale.json")
    result = run(args, out)
    print(result.get("restart"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
