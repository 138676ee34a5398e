"""The outbox journals each write's outcome once, and the write gate holds new writes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.errors import LedgerUnavailableError
from registry.store.journal import SqlJournal
from registry.title import WriteOptions
from registry.title.entries import entry_from_dict
from tests.registry.title.helpers import document, events_of


def test_a_resubmitted_copy_that_finds_its_nonce_spent_marks_the_operation_final(
    service, carrier, shipper, bank
):
    """A copy resubmitted after its first submission executed out of view fails with TitleNonceUsed for
    its own nonce: the operation is final (it executed once), not failed."""
    ebl = service.issue(carrier.org, document("SVC-DUP-1"), shipper.org).ebl_id
    done = service.transfer(shipper.org, ebl, bank.org)
    row = service._journal.get(done.operation_id)
    service._journal.reopen(done.operation_id, "test: lost from view")
    service._outbox.track(done.operation_id, service._relayer.submit(entry_from_dict(row.entry)))
    after = service.wait(done.operation_id)
    assert after.status == "final", after
    assert events_of(service, ebl) == ["ISSUE", "TRANSFER"]


def test_a_write_while_the_gate_is_closed_is_refused_and_journals_nothing(
    service, journal_engine, carrier, shipper, bank
):
    """While the runtime recovers what the chain lost, the shipper's transfer is refused with a
    retryable LedgerUnavailableError and leaves no journal row; a replay of an acknowledged key still
    answers; once the gate opens the same transfer goes through."""
    issued = service.issue(
        carrier.org, document("SVC-GATE-1"), shipper.org, options=WriteOptions("gate-issue")
    )
    journal = SqlJournal(journal_engine)
    before = len(journal.final_since(datetime.now(UTC) - timedelta(hours=1)))

    service.writes.close("the ledger is recovering; retry shortly")
    with pytest.raises(LedgerUnavailableError):
        service.transfer(shipper.org, issued.ebl_id, bank.org, options=WriteOptions("gate-transfer"))
    assert len(journal.final_since(datetime.now(UTC) - timedelta(hours=1))) == before
    assert journal.unfinished() == []
    replay = service.issue(
        carrier.org, document("SVC-GATE-1"), shipper.org, options=WriteOptions("gate-issue")
    )
    assert replay.operation_id == issued.operation_id

    service.writes.open()
    moved = service.transfer(shipper.org, issued.ebl_id, bank.org, options=WriteOptions("gate-transfer"))
    assert moved.status == "final"
    assert events_of(service, issued.ebl_id) == ["ISSUE", "TRANSFER"]
