"""The sender's StartExport step after a crash: a resent StartExport that our chain refuses because the
first one already landed must not freeze the bill as "refused here" (it is ExportPending, ours)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry.interop.sender import PintSender
from registry.store.db import create_engine_for, migrate
from registry.store.pint_sessions import OutgoingTransfer, PintSessions
from registry.title.bridge import Export
from registry.title.model import Operation
from registry.types import Action, EblId, Status

CHECKSUM = "ab" * 32
EBL = EblId(7)


class LedgerWhereAnEarlierExportLanded:
    """The shipper's first StartExport was relayed, the sender was killed before it journaled that, and
    the chain mined it while the resumed sender sent it again: the second one fails on chain."""

    def __init__(self, *, landed_checksum: str | None) -> None:
        self._landed = landed_checksum
        self._mined = False
        self.sent = 0

    def export_of(self, ebl_id: int) -> Export:
        if self._mined and self._landed:
            return Export(EblId(ebl_id), Status.EXPORT_PENDING, "WAVE", self._landed)
        return Export(EblId(ebl_id), Status.ACTIVE, None, None)

    def start_export(self, org: str, ebl_id: int, *, platform: str, envelope_checksum: str) -> Operation:
        self.sent += 1
        self._mined = True  # the earlier StartExport is mined now; this one is refused as wrong state
        return Operation("op-2", Action.START_EXPORT, EblId(ebl_id), "failed", None, None, "WrongState", "")

    def close_export(self, ebl_id: int, *, accepted: bool, response_checksum: str | None) -> Operation:
        raise AssertionError("not reached in these tests")


def _sender(tmp_path: Path, bridge: Any) -> tuple[PintSender, OutgoingTransfer]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(engine)
    sessions = PintSessions(engine)
    t = sessions.create_outgoing(
        ebl_id=str(EBL), org="shipper", platform="WAVE", action_code="TRANSFER", recipient={}
    )
    t = sessions.advance(t.transfer_id, "envelope-built", envelope_checksum=CHECKSUM)
    sender = PintSender(sessions, None, None, None, bridge, engine, dict, list)  # type: ignore[arg-type]
    return sender, t


def test_a_refused_resend_of_our_own_landed_export_counts_as_started(tmp_path: Path) -> None:
    ledger = LedgerWhereAnEarlierExportLanded(landed_checksum=CHECKSUM)
    sender, t = _sender(tmp_path, ledger)
    after = sender._start_export(t)
    assert (ledger.sent, after.step) == (1, "export-started")


@pytest.mark.parametrize("landed", [None, "cd" * 32], ids=["nothing-landed", "another-envelope-landed"])
def test_a_refused_export_not_ours_on_chain_is_refused_here(tmp_path: Path, landed: str | None) -> None:
    sender, t = _sender(tmp_path, LedgerWhereAnEarlierExportLanded(landed_checksum=landed))
    after = sender._start_export(t)
    assert after.step == "refused-here" and after.reason == "WrongState: "
