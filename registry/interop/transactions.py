"""The PINT transactions of our chain entry for a bill leaving this registry: what happened to it here
(from the index, or the chain's view when it is not indexed yet) and the holder's final transfer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from registry.errors import NotFoundError
from registry.interop.directory import MemberDirectory
from registry.pint.envelope import Transaction
from registry.store import queries
from registry.store.pint_sessions import OutgoingTransfer
from registry.types import Action, EblId

__all__ = ["EntryTransactions", "rfc3339"]

_HISTORY_ACTIONS = {
    Action.ISSUE: "ISSUE",
    Action.TRANSFER: "TRANSFER",
    Action.ENDORSE: "ENDORSE",
    Action.ENDORSE_TO_ORDER: "ENDORSE_TO_ORDER",
    Action.BLANK_ENDORSE: "BLANK_ENDORSE",
}
"""The recorded actions that become PINT transactions of our chain entry (a NOMINATE, say, is ours)."""


def rfc3339(moment: datetime) -> str:
    """``moment`` as PINT's ``actionDateTime`` (UTC, milliseconds, ``Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EntryTransactions:
    """Builds the transactions of the entry we add to a bill's transfer chain.

    Args:
        engine: the registry database (the bill's indexed history).
        directory: our members as PINT parties.
        view: the chain's verification of an eBL (carrier and holder), when its history is not indexed.
    """

    def __init__(
        self, engine: Any, directory: MemberDirectory, view: Callable[[EblId], Any] | None = None
    ) -> None:
        self._engine = engine
        self._directory = directory
        self._view = view

    def history(self, ebl: EblId, *, imported: bool) -> list[Transaction]:
        """What happened to the bill here, as PINT transactions: from its issue (a bill issued here) or
        from its latest import (a bill that arrived)."""
        try:
            events = queries.history(self._engine, int(ebl))
        except NotFoundError:  # not indexed (yet): the chain's view names the carrier and the holder
            if imported or self._view is None:
                return []
            view = self._view(ebl)
            now = rfc3339(datetime.now(UTC))
            issued = {
                "actionCode": "ISSUE",
                "actor": self._directory.party_of(view.carrier),
                "recipient": self._directory.party_of(view.holder),
                "actionDateTime": now,
            }
            seen = [issued]
            if view.blank_endorsed:
                seen.append(
                    {
                        "actionCode": "BLANK_ENDORSE",
                        "actor": self._directory.party_of(view.holder),
                        "actionDateTime": now,
                    }
                )
            return [Transaction.model_validate(tx) for tx in seen]
        if imported:
            starts = [i for i, e in enumerate(events) if e.action is Action.IMPORT_TITLE]
            events = events[starts[-1] + 1 :] if starts else []
        out: list[Transaction] = []
        for event in events:
            code = _HISTORY_ACTIONS.get(event.action)
            if code is None or event.actor is None:  # a bridge action has no member actor
                continue
            tx: dict[str, Any] = {
                "actionCode": code,
                "actor": self._directory.party_of(event.actor),
                "actionDateTime": rfc3339(datetime.fromtimestamp(event.block_time, UTC)),
            }
            if event.counterparty:
                tx["recipient"] = self._directory.party_of(event.counterparty)
            out.append(Transaction.model_validate(tx))
        return out

    def final(self, t: OutgoingTransfer) -> Transaction:
        return Transaction.model_validate(
            {
                "actionCode": t.action_code,
                "actor": self._directory.party_of(t.org),
                "recipient": t.recipient,
                "actionDateTime": rfc3339(t.created_at),
            }
        )
