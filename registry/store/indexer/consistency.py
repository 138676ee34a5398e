"""Comparing the index with the chain: every indexed eBL against the chain's ``titleOf``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from registry.chain.views import TitleReader
from registry.store.indexer.tables import EBLS, IN_CHUNK, chunks

__all__ = ["Discrepancy", "discrepancies"]


@dataclass(frozen=True)
class Discrepancy:
    """One field in which the index disagrees with the chain's ``titleOf`` (``field="exists"``: presence)."""

    ebl_id: int
    field: str
    indexed: object
    chain: object


def discrepancies(
    engine: Engine, titles: TitleReader, block: str, ebl_ids: Iterable[int] | None = None
) -> list[Discrepancy]:
    """Compare indexed state with the chain's ``titleOf`` at ``block`` (0x-hex number or a tag).

    Compares status, kind, carrier, holder, endorsee, nominee, document hash, seq, predecessor,
    successor and paper hash; an eBL known to only one side is reported with ``field="exists"``.
    With ``ebl_ids`` None, every indexed eBL is checked (streamed in chunks; ``titleOf`` calls
    go out as JSON-RPC batches).
    """
    found: list[Discrepancy] = []
    for wanted, rows in _ebl_chunks(engine, ebl_ids):
        indexed = {int(r["ebl_id"]): r for r in rows}
        views = _title_views(titles, wanted, block)
        for ebl_id in wanted:
            view, row = views.get(ebl_id), indexed.get(ebl_id)
            if view is None or row is None:
                if (view is None) != (row is None):
                    found.append(Discrepancy(ebl_id, "exists", row is not None, view is not None))
                continue
            found += [
                Discrepancy(ebl_id, field, row[field], value)
                for field, value in view.items()
                if row[field] != value
            ]
    return found


def _ebl_chunks(
    engine: Engine, ebl_ids: Iterable[int] | None
) -> Iterator[tuple[list[int], Sequence[RowMapping]]]:
    """(wanted ids, their indexed rows) in chunks: the given ids, or every indexed eBL by keyset."""
    if ebl_ids is not None:
        ids = [int(i) for i in ebl_ids]
        for chunk in chunks([str(i) for i in ids]):
            with engine.connect() as conn:
                rows = conn.execute(select(EBLS).where(EBLS.c.ebl_id.in_(chunk))).mappings().all()
            yield [int(i) for i in chunk], rows
        return
    last = ""
    while True:
        with engine.connect() as conn:
            rows = (
                conn.execute(select(EBLS).where(EBLS.c.ebl_id > last).order_by(EBLS.c.ebl_id).limit(IN_CHUNK))
                .mappings()
                .all()
            )
        if not rows:
            return
        last = rows[-1]["ebl_id"]
        yield [int(r["ebl_id"]) for r in rows], rows


def _title_views(titles: TitleReader, ebl_ids: Sequence[int], block: str) -> dict[int, dict[str, Any]]:
    """The chain's ``titleOf`` of each id at ``block``, as ``ebls`` column values; absent ids left out."""
    return {
        ebl_id: {
            "status": t.status.name,
            "kind": t.kind.name,
            "holder": t.holder,
            "endorsee": t.endorsee,
            "carrier": t.carrier,
            "nominee": t.nominee,
            "seq": t.seq,
            "document_hash": t.document_hash,
            "predecessor": str(t.predecessor) if t.predecessor else None,
            "successor": str(t.successor) if t.successor else None,
            "paper_hash": t.paper_document_hash,
        }
        for ebl_id, t in titles.titles_of(ebl_ids, block).items()
    }
