"""The pure fold: one eBL's indexed title state, advanced by one decoded registry event.

No database and no chain here: every function takes a title state (a row of the ``ebls`` table) and
returns a new one, so the rules the index applies can be tested on their own (see
``tests/registry/store/test_fold.py``, which checks them against the contract tests' rule
model). Event → state rules, as ``contracts/TitleRegistry.sol`` applies them:

* ``Issued``: status ACTIVE, holder = "issue to", endorsee, kind, document hash; an amended reissue
  carries its ``predecessor``.
* ``ActionRecorded``: TRANSFER moves the holder to the counterparty; ENDORSE / ENDORSE_TO_ORDER set
  the endorsee, BLANK_ENDORSE clears it; NOMINATE sets (or clears) the nominee; REJECT returns the
  holder to the counterparty (the sender); SURRENDER_FOR_DELIVERY / _AMENDMENT move the holder to the
  carrier, status SURRENDER_REQUESTED (reason from the action and its data: ``"SWTP"`` = switch to
  paper); SACC ends in SURRENDERED (delivery) or SURRENDERED_FOR_AMENDMENT; SREJ returns it to the
  requester, ACTIVE; VOID → VOIDED; AMEND → VOIDED with ``successor`` = data; SWTP →
  SWITCHED_TO_PAPER with ``paper_hash`` = data. The event's ``seq`` becomes the eBL's seq.
* Other platforms (PINT): START_EXPORT → EXPORT_PENDING with ``platform`` (from the ``ExportStarted``
  beside it) and ``platform_checksum`` = data (the envelope's); CLOSE_EXPORT → EXPORTED (held on that
  platform, not here); CANCEL_EXPORT → ACTIVE, the same holder, no platform; IMPORT_TITLE → ACTIVE,
  holder = counterparty, the endorsee of the ``TitleImported`` beside it, ``platform_checksum`` = data
  (the last entry's). ``TitleImported`` of a bill new here creates its state like ``Issued`` (carrier
  None for a foreign carrier, ``origin_platform`` / ``origin_checksum`` kept for good).

Idempotent: an ``Issued`` for a title already held, or an ``ActionRecorded`` whose ``seq`` is not
above the state's, returns the state unchanged (the same object).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from registry.chain.events import Log
from registry.errors import StoreError
from registry.types import Action, DocumentKind, Status, SurrenderReason

__all__ = [
    "ACTIONS",
    "ACTION_BY_CODE",
    "TitleRow",
    "acted",
    "at_issuance",
    "fold",
    "imported",
    "issued",
    "platform_code",
    "recorded",
    "replay",
]

ACTIONS = tuple(Action)
"""The contract's action codes (its enum order) → :class:`~registry.types.Action`."""
ACTION_BY_CODE = {a.dcsa_code: a for a in Action}
"""Stored action code (DCSA spelling) → :class:`~registry.types.Action`."""
_KINDS = tuple(DocumentKind)
_SWTP = b"SWTP".ljust(32, b"\0")


class TitleRow(TypedDict):
    """One eBL's indexed state: a row of the ``ebls`` table (enums by name, ids as decimal strings)."""

    ebl_id: str
    status: str
    kind: str
    carrier: str | None
    holder: str
    endorsee: str | None
    nominee: str | None
    previous_holder: str | None
    surrender_reason: str
    issued_holder: str
    issued_endorsee: str | None
    document_hash: str
    tdr_hash: str
    predecessor: str | None
    successor: str | None
    paper_hash: str | None
    platform: str | None
    platform_checksum: str | None
    origin_platform: str | None
    origin_checksum: str | None
    seq: int
    issued_block: int
    issued_time: int
    updated_block: int


def issued(args: Mapping[str, Any], block: int, time: int) -> TitleRow:
    """The state an ``Issued`` event (decoded ``args``, mined in ``block`` at ``time``) creates."""
    predecessor = int(args["predecessor"])
    return {
        "ebl_id": str(args["eblId"]),
        "status": Status.ACTIVE.name,
        "kind": _KINDS[args["kind"]].name,
        "carrier": args["carrier"],
        "holder": args["holder"],
        "endorsee": args["endorsee"],
        "nominee": None,
        "previous_holder": None,
        "surrender_reason": SurrenderReason.NONE.name,
        "issued_holder": args["holder"],
        "issued_endorsee": args["endorsee"],
        "document_hash": args["documentHash"],
        "tdr_hash": args["tdrHash"],
        "predecessor": str(predecessor) if predecessor else None,
        "successor": None,
        "paper_hash": None,
        "platform": None,
        "platform_checksum": None,
        "origin_platform": None,
        "origin_checksum": None,
        "seq": 0,
        "issued_block": block,
        "issued_time": time,
        "updated_block": block,
    }


def platform_code(word: str | None) -> str | None:
    """A platform code as the index stores it (``WAVE``) from its ``bytes4`` 0x-hex."""
    if not word:
        return None
    return bytes.fromhex(word.removeprefix("0x")).rstrip(b"\0").decode("ascii", "replace") or None


def imported(args: Mapping[str, Any], block: int, time: int) -> TitleRow:
    """The state a ``TitleImported`` event creates for a bill new here (decoded ``args``)."""
    platform, checksum = platform_code(args["platform"]), args["lastEntryChecksum"]
    return {
        **issued({**args, "predecessor": 0}, block, time),
        "platform": platform,
        "platform_checksum": checksum,
        "origin_platform": platform,
        "origin_checksum": checksum,
    }


def recorded(
    state: TitleRow,
    action: Action,
    actor: str,
    counterparty: str | None,
    data: str,
    seq: int,
    block: int,
    *,
    platform: str | None = None,
    endorsee: str | None = None,
) -> TitleRow:
    """The state after one ``ActionRecorded`` (mined in ``block``); ``state`` itself if ``seq`` is old.

    ``platform`` and ``endorsee`` come from the cross-platform event beside an export or import action
    (``ExportStarted`` / ``TitleImported``; the stored event row keeps them for a replay).
    """
    if seq <= state["seq"]:
        return state
    new = state.copy()
    if action is Action.TRANSFER:
        new["previous_holder"], new["holder"] = state["holder"], counterparty  # type: ignore[typeddict-item]
        new["nominee"] = None
    elif action in (Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.BLANK_ENDORSE):
        new["endorsee"] = None if action is Action.BLANK_ENDORSE else counterparty
        new["nominee"] = None
    elif action is Action.NOMINATE:
        new["nominee"] = counterparty
    elif action is Action.REJECT:
        new["previous_holder"], new["holder"] = actor, counterparty  # type: ignore[typeddict-item]
        new["nominee"] = None
    elif action in (Action.SURRENDER_FOR_DELIVERY, Action.SURRENDER_FOR_AMENDMENT):
        if action is Action.SURRENDER_FOR_DELIVERY:
            reason = SurrenderReason.DELIVERY
        elif bytes.fromhex(data[2:]) == _SWTP:
            reason = SurrenderReason.SWITCH_TO_PAPER
        else:
            reason = SurrenderReason.AMENDMENT
        new["surrender_reason"] = reason.name
        # A foreign carrier's bill (carrier None) cannot be surrendered here: the chain refuses it.
        new["previous_holder"], new["holder"] = state["holder"], state["carrier"]  # type: ignore[typeddict-item]
        new["status"] = Status.SURRENDER_REQUESTED.name
        new["nominee"] = None
    elif action is Action.ACCEPT_SURRENDER:
        delivery = state["surrender_reason"] == SurrenderReason.DELIVERY.name
        new["status"] = (Status.SURRENDERED if delivery else Status.SURRENDERED_FOR_AMENDMENT).name
    elif action is Action.REJECT_SURRENDER:
        new["holder"], new["previous_holder"] = counterparty, state["carrier"]  # type: ignore[typeddict-item]
        new["status"] = Status.ACTIVE.name
        new["surrender_reason"] = SurrenderReason.NONE.name
    elif action is Action.VOID:
        new["status"] = Status.VOIDED.name
    elif action is Action.AMEND:
        new["status"] = Status.VOIDED.name
        new["successor"] = str(int(data, 16))
    elif action is Action.SWITCH_TO_PAPER:
        new["status"] = Status.SWITCHED_TO_PAPER.name
        new["paper_hash"] = data
    elif action is Action.START_EXPORT:
        new["status"] = Status.EXPORT_PENDING.name
        new["nominee"] = None
        new["platform"], new["platform_checksum"] = platform, data
    elif action is Action.CLOSE_EXPORT:
        new["status"] = Status.EXPORTED.name
    elif action is Action.CANCEL_EXPORT:
        new["status"] = Status.ACTIVE.name
        new["platform"], new["platform_checksum"] = None, None
    elif action is Action.IMPORT_TITLE:
        new["status"] = Status.ACTIVE.name
        new["previous_holder"], new["holder"] = None, counterparty  # type: ignore[typeddict-item]
        new["endorsee"], new["nominee"] = endorsee, None
        new["surrender_reason"] = SurrenderReason.NONE.name
        new["platform"], new["platform_checksum"] = platform, data
    new["seq"] = seq
    new["updated_block"] = block
    return new


def fold(state: TitleRow | None, log: Log, time: int, companion: Log | None = None) -> TitleRow:
    """The state of ``log``'s eBL after the ``Issued``, ``TitleImported`` or ``ActionRecorded`` ``log``;
    ``time`` is the timestamp of the log's block (it dates an issuance); ``companion`` the
    cross-platform event of the same transaction and eBL beside an ``ActionRecorded``, if any.

    Raises:
        StoreError: an action on an eBL with no state: the index is out of step with the chain.
    """
    if log.name == "Issued":
        return issued(log.args, log.block_number, time) if state is None else state
    if log.name == "TitleImported":  # a returning bill changes with the IMPORT_TITLE beside it
        return imported(log.args, log.block_number, time) if state is None else state
    return acted(state, log, companion)


def acted(state: TitleRow | None, log: Log, companion: Log | None = None) -> TitleRow:
    """The state after the ``ActionRecorded`` ``log`` (see :func:`fold`)."""
    args = log.args
    action = ACTIONS[args["action"]]
    if state is None:
        raise StoreError(
            f"block {log.block_number} records {action.dcsa_code} on eBL {args['eblId']}, which the index"
            " does not hold: the index is out of step with the chain (run Indexer.rebuild)"
        )
    extra = companion.args if companion is not None else {}
    return recorded(
        state,
        action,
        args["actor"],
        args["counterparty"],
        args["data"],
        args["seq"],
        log.block_number,
        platform=platform_code(extra.get("platform")),
        endorsee=extra.get("endorsee"),
    )


def at_issuance(row: TitleRow) -> TitleRow:
    """``row`` as it stood right after its ``Issued`` event (from the issuance columns it keeps)."""
    return {
        **row,
        "status": Status.ACTIVE.name,
        "holder": row["issued_holder"],
        "endorsee": row["issued_endorsee"],
        "nominee": None,
        "previous_holder": None,
        "surrender_reason": SurrenderReason.NONE.name,
        "successor": None,
        "paper_hash": None,
        "platform": row["origin_platform"],
        "platform_checksum": row["origin_checksum"],
        "seq": 0,
        "updated_block": row["issued_block"],
    }


def replay(row: TitleRow, events: Iterable[Mapping[str, Any]]) -> TitleRow:
    """Recompute ``row`` from its issuance and its stored ``ebl_events`` rows with seq > 0, in seq order."""
    state = at_issuance(row)
    for ev in events:
        state = recorded(
            state,
            ACTION_BY_CODE[ev["action"]],
            ev["actor"],
            ev["counterparty"],
            ev["data"],
            ev["seq"],
            ev["block_number"],
            platform=ev.get("platform"),
            endorsee=ev.get("endorsee"),
        )
    return state
