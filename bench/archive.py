"""The registry's chain archive: bytes per eBL, ingest rate, and an index rebuild from the archive alone.

``python -m bench.archive [--quick] [--ebls N] [--out PATH]``

An anvil as the registry runs it (on-demand mining at 1 s, ``--transaction-block-keeper 64``, 16
states), the registry deployed, issuances through :class:`registry.chain.relayer.Relayer` (the
gateway's batch path, :mod:`bench._chain_load`). Then, into a fresh SQLite database:

* **ingest**: :meth:`ChainArchive.ingest` of every block from the deployment block (each header,
  raw transaction and receipt verified against its block);
* **bytes**: the archive's stored bytes (header and body blobs) and the database file, per eBL;
* **rebuild**: :meth:`Indexer.rebuild` from the archive (logs decoded from the archived receipts);
* **singles**: then ``SINGLES`` issuances one at a time (each waited for: one per transaction, the
  worst case, as a quiet gateway relays them), archived every ten (as the follower does, within the
  node's 64 blocks), and their blocks' bytes per eBL.

One eBL here is one issuance; later title actions add their own transactions (a relayed action is
about the size of an issuance). Nothing asserts on time: the JSON is the result.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from bench._chain_load import embedded_chain, preload
from bench._machine import machine_description
from registry.chain.anvil import AnvilConfig
from registry.store.db import create_engine_for, migrate
from registry.store.indexer import Indexer
from registry.store.models import ChainBlock, Ebl

RESULTS = Path(__file__).resolve().parent / "results"
SINGLES = 100


def _blob_bytes(engine: Engine, after: int = -1) -> tuple[int, int]:
    """(blocks, stored header and body bytes) of the archived blocks above ``after``."""
    with engine.connect() as conn:
        blocks, blobs = conn.execute(
            select(
                func.count(),
                func.sum(func.length(ChainBlock.header) + func.coalesce(func.length(ChainBlock.body), 0)),
            ).where(ChainBlock.number > after)
        ).one()
    return int(blocks), int(blobs or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 eBLs")
    parser.add_argument("--ebls", type=int, default=None, help="eBLs issued (default 20,000)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    count = args.ebls or (2_000 if args.quick else 20_000)
    out: Path = args.out or RESULTS / ("archive.quick.json" if args.quick else "archive.json")
    config = AnvilConfig(
        block_time=1.0, on_demand=True, states_kept=16, transactions_kept=64, state_interval=5
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp,
        embedded_chain(Path(tmp), config) as chain,
    ):
        rate = preload(chain, count)
        url = f"sqlite:///{Path(tmp) / 'registry.db'}"
        migrate(url)
        engine = create_engine_for(url)
        db_file = Path(tmp) / "registry.db"
        empty_bytes = db_file.stat().st_size
        indexer = Indexer(chain.w3, chain.deployment, engine)
        started = time.perf_counter()
        tip = indexer.archive.ingest()
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        indexer.sync()
        first_sync_s = time.perf_counter() - started
        started = time.perf_counter()
        indexer.rebuild()
        rebuild_s = time.perf_counter() - started
        blocks, blobs = _blob_bytes(engine)
        with engine.connect() as conn:
            indexed = int(conn.execute(select(func.count()).select_from(Ebl)).scalar_one())
        for n in range(SINGLES):
            (single,) = chain.relayer.submit_many([chain.issuance()])
            single.result(timeout=60)
            if n % 10 == 9:  # as the follower does: within the node's 64 blocks, or a gap error
                indexer.archive.ingest()
        single_blocks, single_blobs = _blob_bytes(engine, tip)
        engine.dispose()
        with create_engine_for(url).connect() as conn:  # fold the WAL in before measuring the file
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db_bytes = db_file.stat().st_size
    result = {
        "parameters": {"ebls": count, "quick": args.quick, "anvil": config.__dict__ | {"state_path": None}},
        "issuance_rate_per_s": round(rate, 1),
        "archive": {
            "blocks": int(blocks),
            "tip": tip,
            "blob_bytes": int(blobs),
            "blob_bytes_per_ebl": round(int(blobs) / count, 1),
            "database_bytes_with_index": db_bytes - empty_bytes,
            "database_bytes_per_ebl_with_index": round((db_bytes - empty_bytes) / count, 1),
        },
        "singles": {
            "ebls": SINGLES,
            "blocks": single_blocks,
            "blob_bytes": single_blobs,
            "blob_bytes_per_ebl": round(single_blobs / SINGLES, 1),
        },
        "ingest_s": round(ingest_s, 3),
        "ingest_ebls_per_s": round(count / ingest_s, 1),
        "first_sync_from_archive_s": round(first_sync_s, 3),
        "rebuild_from_archive_s": round(rebuild_s, 3),
        "rebuild_ebls_per_s": round(count / rebuild_s, 1),
        "indexed_ebls": indexed,
        "method": " ".join(__doc__.split()),
        "machine": machine_description(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    json.dump({k: v for k, v in result.items() if k not in ("method", "machine")}, sys.stdout, indent=2)
    print()
    return 0 if indexed >= count else 1


if __name__ == "__main__":
    raise SystemExit(main())
