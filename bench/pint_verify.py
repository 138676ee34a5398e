"""Verifying a 10-entry PINT envelope (``check_envelope``): p50 and p99 over N runs, per algorithm.

``python -m bench.pint_verify [--quick] [--runs N] [--out PATH]``

Ten platforms pass one bill along (the first issues it with an ISSUE and a TRANSFER, each of the
nine others records one TRANSFER), every platform signing with its own key; the tenth sends the
envelope to this registry's consignee. One run is the receiver's whole stateless check: the body
model, the manifest JWS, ten chain-entry JWS, the issuance manifest JWS (twelve signature
verifications), the checksum chain, the document's RFC 8785 checksum, the transactions and the
recipient lookup. In process, no HTTP; certificates are not configured (JWK sets only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.reads import machine
from registry.pint.verify import check_envelope
from tests.registry.pint.support import (
    CARRIER,
    CONSIGNEE,
    OURS,
    SHIPPER,
    Members,
    make_platforms,
    party,
    send,
    tx,
)

RESULTS = Path(__file__).resolve().parent / "results"
ENTRIES = 10
ALGORITHMS = ["EdDSA", "ES256", "RS256", "PS256"]
CODES = ["WAVE", "BOLE", "CARX", "EDOX", "IQAX", "SECR", "TRGO", "ETEU", "TRAC", "COVA"]


def _envelope(alg: str) -> tuple[dict[str, Any], Any]:
    platforms = make_platforms({**dict.fromkeys(CODES, alg), OURS: alg})
    holders = [party(f"Holder {i}", code, f"did:web:holder{i}.example") for i, code in enumerate(CODES)]
    first = {**SHIPPER, "eblPlatform": CODES[0]}
    hops = [
        (
            CODES[0],
            [tx("ISSUE", {**CARRIER, "eblPlatform": CODES[0]}, first), tx("TRANSFER", first, holders[1])],
        )
    ]
    for i in range(1, ENTRIES):
        recipient = holders[i + 1] if i + 1 < ENTRIES else CONSIGNEE
        hops.append((CODES[i], [tx("TRANSFER", holders[i], recipient)]))
    built = send(platforms, hops)
    assert len(built.chain) == ENTRIES
    return built.envelope, platforms.trust()


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 runs per algorithm")
    parser.add_argument("--runs", type=int, default=None, help="runs per algorithm (default 2,000)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = args.runs or (200 if args.quick else 2_000)
    out: Path = args.out or RESULTS / ("pint_verify.quick.json" if args.quick else "pint_verify.json")
    results: dict[str, Any] = {
        "p50_ms": {},
        "p99_ms": {},
        "mean_ms": {},
        "envelope_bytes": {},
        "method": __doc__.split("\n\n", 2)[2].strip().replace("\n", " "),
        "machine": machine(),
        "parameters": {"entries": ENTRIES, "runs": runs, "warmup_runs": 20, "quick": args.quick},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    members = Members()
    for alg in ALGORITHMS:
        body, trust = _envelope(alg)
        for _ in range(20):
            check_envelope(body, trust, members, own_platform=OURS)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            check_envelope(body, trust, members, own_platform=OURS)
            samples.append((time.perf_counter() - start) * 1000)
        results["p50_ms"][alg] = round(_percentile(samples, 0.50), 3)
        results["p99_ms"][alg] = round(_percentile(samples, 0.99), 3)
        results["mean_ms"][alg] = round(statistics.fmean(samples), 3)
        results["envelope_bytes"][alg] = len(json.dumps(body))
        print(f"{alg}: p50 {results['p50_ms'][alg]} ms, p99 {results['p99_ms'][alg]} ms", file=sys.stderr)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
