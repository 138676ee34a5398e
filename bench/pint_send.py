"""Time to send a bill between two registries on this machine over PINT.

Starts two `make run` gateways (each its own anvil, database and platform key: EBLA and EBLB), makes
them trust each other, then, N times: the carrier on A issues a to-order bill to its shipper, and the
shipper sends it to the bank on B (``POST /v1/holders/ebls/{id}/platform-transfers``); the time measured
is that one request, from the holder's call to the verified RECE and the export closed on A's chain
(the import on B's chain happens inside it). Results: ``bench/results/pint_send.json``.

Run: ``PYTHONPATH=$PWD .venv/bin/python -m bench.pint_send [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench._machine import machine_description
from tests.outsiders.test_pint_between_registries import _start, _trust, issue, send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/results/pint_send.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = _start(root, "a", "EBLA")
        b = _start(root, "b", "EBLB")
        try:
            _trust(a, b)
            _trust(b, a)
            seconds: list[float] = []
            for _ in range(args.runs):
                ebl = issue(a, to_order=True)
                started = time.perf_counter()
                answer = send(a, "shipper", ebl, b, "bank")
                seconds.append(time.perf_counter() - started)
                assert answer.status_code == 201 and answer.json()["status"] == "EXPORTED", answer.text
        finally:
            a.gateway.close()
            b.gateway.close()
    ordered = sorted(seconds)
    result = {
        "benchmark": "pint_send",
        "what": "one holder request: envelope built, export started, envelope posted, RECE verified, "
        "export closed",
        "runs": len(seconds),
        "block_time_seconds": a.gateway.block_time,
        "seconds": {
            "p50": statistics.median(ordered),
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "min": ordered[0],
            "max": ordered[-1],
            "all": seconds,
        },
        "machine": machine_description(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["seconds"], indent=2))


if __name__ == "__main__":
    main()
