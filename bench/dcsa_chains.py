"""DCSA Endorsement Chain GET latency against an index with many events.

``python -m bench.dcsa_chains [--ebls 50000] [--events-per-ebl 6] [--samples 2000] [--out PATH]``

A fresh SQLite database (migrated to head) is filled with synthetic eBLs (each its ``ebls`` row, its
``documents`` row and ``events-per-ebl`` ``ebl_events`` rows: issue, transfers, surrender, surrendered)
and the members' profiles, by bulk insert. Then :func:`registry.dcsa.endorsement_chains` — the one
query and the shaping that ``GET /v3/endorsement-chains/{tdr}`` runs — is timed in process for random
references: p50 / p99 in milliseconds. The HTTP layer is not included (``bench/reads.py`` measures the
gateway's own overhead on reads: about 1 ms).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from registry.chain import ids
from registry.dcsa import endorsement_chains
from registry.store.db import create_engine_for, migrate
from registry.store.models import Document, Ebl, EblEvent, OrgProfile

ACTIONS = ["ISSUE", "TRANSFER", "ENDORSE", "TRANSFER", "SURRENDER_FOR_DELIVERY", "SACC"]


def _address(i: int) -> str:
    return "0x" + f"{i:040x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ebls", type=int, default=50_000)
    parser.add_argument("--events-per-ebl", type=int, default=6)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/dcsa_chains.json"))
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        now = datetime.now(UTC)
        orgs = [_address(i + 1) for i in range(200)]
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                insert(OrgProfile.__table__),
                [
                    {
                        "address": a,
                        "name": f"Org {i}",
                        "identifier": f"LEI:{i}",
                        "role": "trader",
                        "created_at": now,
                    }
                    for i, a in enumerate(orgs)
                ],
            )
            ebls, docs, events = [], [], []
            for n in range(args.ebls):
                ebl_id = str(10**30 + n)
                reference = f"B{n:012d}"
                carrier = orgs[n % 10]
                ebls.append(
                    {
                        "ebl_id": ebl_id,
                        "status": "SURRENDERED",
                        "kind": "TO_ORDER",
                        "carrier": carrier,
                        "holder": carrier,
                        "endorsee": None,
                        "nominee": None,
                        "previous_holder": None,
                        "surrender_reason": "DELIVERY",
                        "issued_holder": orgs[10 + n % 190],
                        "issued_endorsee": None,
                        "document_hash": "0x" + "ab" * 32,
                        "tdr_hash": "0x" + ids.tdr_hash(reference).hex(),
                        "predecessor": None,
                        "successor": None,
                        "paper_hash": None,
                        "seq": args.events_per_ebl - 1,
                        "issued_block": n,
                        "issued_time": 1_700_000_000 + n,
                        "updated_block": n,
                    }
                )
                docs.append(
                    {
                        "ebl_id": ebl_id,
                        "document_hash": "0x" + "ab" * 32,
                        "stored_at": now,
                        "canonical": "{}",
                        "document": {
                            "transportDocumentReference": reference,
                            "carrierCode": "YMLU",
                            "carrierCodeListProvider": "NMFTA",
                        },
                    }
                )
                events.extend(
                    {
                        "ebl_id": ebl_id,
                        "seq": seq,
                        "action": ACTIONS[seq % len(ACTIONS)],
                        "actor": orgs[(n + seq) % 200],
                        "counterparty": orgs[(n + seq + 1) % 200],
                        "actor_key": orgs[(n + seq) % 200],
                        "data": "0x" + "00" * 32,
                        "block_number": n,
                        "block_time": 1_700_000_000 + n,
                        "tx_hash": "0x" + f"{n:064x}",
                        "log_index": seq,
                    }
                    for seq in range(args.events_per_ebl)
                )
                if len(events) >= 60_000:
                    conn.execute(insert(Ebl.__table__), ebls)
                    conn.execute(insert(Document.__table__), docs)
                    conn.execute(insert(EblEvent.__table__), events)
                    ebls, docs, events = [], [], []
            if events:
                conn.execute(insert(Ebl.__table__), ebls)
                conn.execute(insert(Document.__table__), docs)
                conn.execute(insert(EblEvent.__table__), events)
        filled = time.perf_counter() - started
        for _ in range(100):  # warm up
            endorsement_chains(engine, "WAVE", f"B{rng.randrange(args.ebls):012d}")
        timings = []
        for _ in range(args.samples):
            reference = f"B{rng.randrange(args.ebls):012d}"
            t0 = time.perf_counter()
            chains = endorsement_chains(engine, "WAVE", reference)
            timings.append((time.perf_counter() - t0) * 1000)
            assert len(chains) == 1 and len(chains[0]["endorsementChain"]) == args.events_per_ebl
        timings.sort()
        result = {
            "benchmark": "dcsa_chains",
            "what": "registry.dcsa.endorsement_chains (the query and shaping of "
            "GET /v3/endorsement-chains/{tdr}), in process, SQLite",
            "ebls": args.ebls,
            "events": args.ebls * args.events_per_ebl,
            "samples": args.samples,
            "fill_seconds": round(filled, 1),
            "p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
            "max_ms": round(timings[-1], 3),
            "measured_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        engine.dispose()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
