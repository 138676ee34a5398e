"""Title attestations and audit bundles: attestation p50/p99 over HTTP, bundle build and offline verify.

``python -m bench.proofs [--quick] [--runs N] [--out PATH]``

Starts the gateway as ``make run`` starts it (``python -m scripts.serve`` in a fresh data folder, its
own anvil, 0.5 s blocks; only the keystore KDF cost is lowered). Over HTTP, the demo carrier issues one
to-order eBL to the demo shipper, then the shipper and the bank pass it back and forth (endorse to the
other, then transfer possession to them) until the eBL has 25 actions (the issuance included). Then:

* **attestation**: ``POST /v1/banks/ebls/{id}/attestations`` as the bank, sequential, keep-alive; each
  request reads the chain head, ``eth_getProof`` of the registry account and the eBL's title slots at
  that block, and signs the result (JSON response with the compact JWS);
* **attestation verify**: ``verify_attestation`` (what ``ebl attest verify`` calls) in process;
* **bundle build**: ``GET /v1/auditors/ebls/{id}/bundle`` as governance (every action's receipt and its
  trie proof, the headers from the first action's block to the signed head);
* **bundle verify**: ``verify_bundle`` (what ``ebl audit verify`` calls) in process, no network.

Each series has warm-up runs that are discarded. The 1-, 5- and 15-minute load averages before and after
are recorded (`load_average`): on a shared machine they show in p99. Nothing here asserts on time: the
JSON says whether each goal of issue 16 is met.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench._machine import machine_description
from registry.proofs.audit import verify_bundle
from registry.proofs.verify import verify_attestation
from tests.fixtures.dcsa import issued_example
from tests.support.gateway_process import GatewayProcess

RESULTS = Path(__file__).resolve().parent / "results"
ACTIONS = 25
WARMUP = 5
GOALS = {"attestation_p99_ms": 20.0, "bundle_verify_p99_ms": 200.0}


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(samples: list[float]) -> dict[str, float | int]:
    return {
        "runs": len(samples),
        "p50_ms": round(_percentile(samples, 0.50), 3),
        "p99_ms": round(_percentile(samples, 0.99), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


def _time(runs: int, call: Callable[[], Any]) -> list[float]:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    if r.status_code != status:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:500]}")
    out: dict[str, Any] = r.json()
    return out


def _build_ebl(gw: GatewayProcess, creds: dict[str, dict[str, str]]) -> str:
    """One to-order eBL with ACTIONS actions: issued to the shipper, then endorse + transfer, alternately
    from the shipper to the bank and back."""
    shipper, bank = creds["shipper"], creds["bank"]
    doc = issued_example(transportDocumentReference=f"PB-{int(time.time())}")
    with gw.client(creds["carrier"]["token"], timeout=60) as c:
        ebl = str(
            _ok(c.post("/v1/carriers/ebls", json={"document": doc, "issueTo": shipper["org"]}), 201)["eblId"]
        )
    holder, other = shipper, bank
    done = 1
    while done < ACTIONS:
        with gw.client(holder["token"], timeout=60) as h:
            _ok(h.post(f"/v1/holders/ebls/{ebl}/endorse", json={"endorsee": other["org"]}))
            done += 1
            if done < ACTIONS:
                _ok(h.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": other["org"]}))
                done += 1
        holder, other = other, holder
    return ebl


def _wait_indexed(gw: GatewayProcess, token: str, ebl: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with gw.client(token, timeout=60) as a:
        while True:
            bundle = _ok(a.get(f"/v1/auditors/ebls/{ebl}/bundle"))
            if len(bundle["actions"]) >= ACTIONS:
                return bundle
            if time.monotonic() > deadline:
                raise RuntimeError(f"bundle has {len(bundle['actions'])} actions after {timeout}s")
            time.sleep(0.2)


def _verdict(value: float, goal: float) -> dict[str, Any]:
    return {"value_ms": value, "goal_ms": goal, "met": value <= goal}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 attestations, 20 bundles")
    parser.add_argument("--runs", type=int, default=None, help="attestations (default 1,000)")
    parser.add_argument(
        "--bundle-runs", type=int, default=None, help="bundle GETs and verifies (default 100)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = args.runs or (100 if args.quick else 1_000)
    bundle_runs = args.bundle_runs or (20 if args.quick else 100)
    out: Path = args.out or RESULTS / ("proofs.quick.json" if args.quick else "proofs.json")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        gw = GatewayProcess(Path(tmp))
        try:
            gw.start()
            assert gw.credentials is not None
            creds = gw.credentials
            gov = creds["governance"]["token"]
            ebl = _build_ebl(gw, creds)
            bundle = _wait_indexed(gw, gov, ebl)
            jwks = httpx.get(f"{gw.url}/.well-known/jwks.json", timeout=30).json()
            with gw.client(creds["bank"]["token"], timeout=60) as b:
                attest_path = f"/v1/banks/ebls/{ebl}/attestations"
                compact = str(_ok(b.post(attest_path))["attestation"])
                attest = _time(runs, lambda: _ok(b.post(attest_path)))
            attest_verify = _time(runs, lambda: verify_attestation(compact, jwks))
            with gw.client(gov, timeout=60) as a:
                bundle_get = _time(bundle_runs, lambda: _ok(a.get(f"/v1/auditors/ebls/{ebl}/bundle")))
            checked = verify_bundle(bundle, jwks)
            if len(checked.timeline) != ACTIONS or checked.unchecked:
                raise RuntimeError(
                    f"bundle verified {len(checked.timeline)} actions, unchecked {checked.unchecked}"
                )
            bundle_verify = _time(bundle_runs, lambda: verify_bundle(bundle, jwks))
        finally:
            gw.close()
    results: dict[str, Any] = {
        "attestation_http": _summary(attest),
        "attestation_verify_offline": _summary(attest_verify),
        "bundle_build_http": _summary(bundle_get),
        "bundle_verify_offline": _summary(bundle_verify),
        "goals": {
            "attestation_p99_ms": _verdict(round(_percentile(attest, 0.99), 3), GOALS["attestation_p99_ms"]),
            "bundle_verify_p99_ms": _verdict(
                round(_percentile(bundle_verify, 0.99), 3), GOALS["bundle_verify_p99_ms"]
            ),
        },
        "ebl": {
            "actions": [t.action for t in checked.timeline],
            "signed_actions": checked.signed,
            "bundle_bytes": len(json.dumps(bundle)),
            "bundle_headers": len(bundle["headers"]),
            "attestation_bytes": len(compact),
        },
        "method": __doc__.split("\n\n", 2)[2].strip().replace("\n", " "),
        "machine": machine_description(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "parameters": {
            "actions": ACTIONS,
            "attestation_runs": runs,
            "bundle_runs": bundle_runs,
            "warmup_runs": WARMUP,
            "block_time_s": gw.block_time,
            "quick": args.quick,
        },
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.write_text(json.dumps(results, indent=2) + "\n")
    for name in (
        "attestation_http",
        "attestation_verify_offline",
        "bundle_build_http",
        "bundle_verify_offline",
    ):
        s = results[name]
        print(f"{name}: p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms (n={s['runs']})", file=sys.stderr)
    for name, g in results["goals"].items():
        print(
            f"{name}: {g['value_ms']} ms, goal ≤ {g['goal_ms']} ms: {'met' if g['met'] else 'NOT met'}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
