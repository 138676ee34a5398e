"""The journal's hand-off between gateway workers: a follower journals a write ``pending`` with no
attempt; the relayer leader claims it (``claim_unsent``), once, whoever else claims at the same time."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import Engine

from registry.store.journal import SqlJournal
from registry.title.ports import JournalEntry
from registry.types import Action, EblId

ORG = "0x" + "11" * 20


def _journal(journal: SqlJournal, status: str = "pending") -> str:
    operation_id = str(uuid.uuid4())
    journal.record(
        JournalEntry(
            operation_id=operation_id,
            org=ORG,
            action=Action.TRANSFER,
            ebl_id=EblId(7),
            entry={"kind": "action"},
            status=status,  # type: ignore[arg-type]
            request_hash="h",
        )
    )
    return operation_id


def test_claims_only_writes_never_handed_to_a_relayer_oldest_first(engine: Engine) -> None:
    journal = SqlJournal(engine)
    unsent = [_journal(journal) for _ in range(3)]
    relayed = _journal(journal, "submitted")  # the leader's own: already with its relayer
    retried = _journal(journal)
    journal.mark(retried, "submitted")
    journal.mark(retried, "pending", error_detail="send failed")  # the watchdog's retry, not a hand-off
    claimed = journal.claim_unsent()
    assert [e.operation_id for e in claimed] == unsent
    assert all(journal.get(op).status == "submitted" for op in unsent)
    assert journal.get(relayed).status == "submitted" and journal.get(retried).status == "pending"
    assert journal.claim_unsent() == []


def test_concurrent_claimers_never_both_get_one(engine: Engine) -> None:
    journal = SqlJournal(engine)
    written = {_journal(journal) for _ in range(60)}
    got: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def claim(n: int) -> None:
        start.wait()
        for _ in range(20):
            got[n] += [e.operation_id for e in SqlJournal(engine).claim_unsent(limit=5)]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [op for ops in got for op in ops]
    assert sorted(everything) == sorted(written)  # each exactly once
