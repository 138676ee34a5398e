"""Writing a range of decoded logs: fold the title events, record the history, maintain membership.

:func:`apply_logs` is what :meth:`Indexer.sync <registry.store.indexer.Indexer.sync>` runs on one block
range after fetching and decoding it, inside the transaction that also moves the checkpoint. It loads the
states of the eBLs the range touches in a few ``IN`` queries, folds every title event with the pure
:func:`~registry.store.indexer.fold.fold`, then writes new eBLs, changed eBLs and the history rows in one
executemany each. Events are inserted with ``ON CONFLICT (tx_hash, log_index) DO NOTHING`` and the fold
ignores an action whose ``seq`` is not new, so applying a range twice changes nothing.

Membership events maintain ``organisations`` and ``org_keys``. ERC-721 ``Transfer``, ``BatchEntryFailed``
and ``NonceInvalidated`` carry nothing the index needs and are skipped. The cross-platform events
(``ExportStarted``, ``ExportClosed``, ``TitleImported``) are folded with the ``ActionRecorded`` of the
same transaction and eBL; a ``TitleImported`` of a bill new here also creates its row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from registry.chain.events import Log
from registry.store.indexer.fold import ACTIONS, TitleRow, fold, platform_code
from registry.store.indexer.tables import EBLS, EVENTS, KEYS, ORGS, chunks, insert_new
from registry.types import Action, KeyStatus, OrgStatus, Role

__all__ = ["MUTABLE", "apply_logs"]

ZERO32 = "0x" + "00" * 32
_COMPANIONS = frozenset({"ExportStarted", "ExportClosed", "TitleImported"})
_TITLE_EVENTS = frozenset({"Issued", "ActionRecorded", "TitleImported"})
_ROLES = tuple(Role)
MUTABLE = (
    "status",
    "holder",
    "endorsee",
    "nominee",
    "previous_holder",
    "surrender_reason",
    "successor",
    "paper_hash",
    "platform",
    "platform_checksum",
    "seq",
    "updated_block",
)
"""The ``ebls`` columns an action can change."""


def apply_logs(conn: Connection, logs: Sequence[Log], block_times: Mapping[int, int], dialect: str) -> None:
    """Apply decoded logs (in chain order) on ``conn``; the caller owns the transaction.

    ``block_times``: the timestamp of every block a log is in.

    Raises:
        StoreError: an action on an eBL the index does not hold (the transaction must be rolled back).
    """
    ids = sorted({str(lg.args["eblId"]) for lg in logs if lg.name in _TITLE_EVENTS})
    # The cross-platform event beside an export / import action, by transaction and eBL.
    companions = {(lg.tx_hash, lg.args["eblId"]): lg for lg in logs if lg.name in _COMPANIONS}
    states: dict[str, TitleRow] = {}
    for chunk in chunks(ids):
        for found in conn.execute(select(EBLS).where(EBLS.c.ebl_id.in_(chunk))).mappings():
            states[found["ebl_id"]] = dict(found)  # type: ignore[assignment]
    known = set(states)
    changed: set[str] = set()
    events: list[dict[str, Any]] = []
    for lg in logs:
        args = lg.args
        if lg.name == "Issued":
            key = str(args["eblId"])
            time = block_times[lg.block_number]
            if key not in states:
                states[key] = fold(None, lg, time)
            events.append(
                _event_row(lg, time, key, 0, Action.ISSUE, args["carrier"], args["holder"], args["actorKey"])
            )
            events[-1]["data"] = args["documentHash"]
        elif lg.name == "TitleImported":
            key = str(args["eblId"])
            if key not in states:
                states[key] = fold(None, lg, block_times[lg.block_number])
        elif lg.name == "ActionRecorded":
            key = str(args["eblId"])
            state = states.get(key)
            companion = companions.get((lg.tx_hash, args["eblId"]))
            new = fold(state, lg, block_times[lg.block_number], companion)
            if new is not state:
                states[key] = new
                changed.add(key)
            row = _event_row(
                lg,
                block_times[lg.block_number],
                key,
                args["seq"],
                ACTIONS[args["action"]],
                args["actor"],
                args["counterparty"],
                args["actorKey"],
            )
            row["data"] = args["data"]
            if companion is not None:
                row["platform"] = platform_code(companion.args["platform"])
                row["endorsee"] = companion.args.get("endorsee")
            events.append(row)
        elif lg.name in _COMPANIONS:
            pass  # folded with the ActionRecorded beside it
        else:
            _apply_membership(conn, lg, dialect)
    new_rows = [states[k] for k in ids if k not in known]
    if new_rows:
        conn.execute(insert_new(dialect, EBLS, ["ebl_id"]), new_rows)
    dirty = [states[k] for k in ids if k in known and k in changed]
    if dirty:
        stmt = (
            update(EBLS)
            .where(EBLS.c.ebl_id == bindparam("b_ebl_id"))
            .values({c: bindparam(f"b_{c}") for c in MUTABLE})
        )
        conn.execute(stmt, [{f"b_{c}": s[c] for c in ("ebl_id", *MUTABLE)} for s in dirty])  # type: ignore[literal-required]
    if events:
        conn.execute(insert_new(dialect, EVENTS, ["tx_hash", "log_index"]), events)


def _event_row(
    lg: Log,
    time: int,
    ebl_id: str,
    seq: int,
    action: Action,
    actor: str,
    counterparty: str | None,
    actor_key: str,
) -> dict[str, Any]:
    return {
        "ebl_id": ebl_id,
        "seq": seq,
        "action": action.dcsa_code,
        "actor": actor,
        "counterparty": counterparty,
        "actor_key": actor_key,
        "data": ZERO32,
        "block_number": lg.block_number,
        "block_time": time,
        "tx_hash": lg.tx_hash,
        "log_index": lg.log_index,
        "block_hash": lg.block_hash,
        "platform": None,
        "endorsee": None,
    }


def _apply_membership(conn: Connection, lg: Log, dialect: str) -> None:
    args, block = lg.args, lg.block_number
    if lg.name == "OrganisationRegistered":
        conn.execute(
            insert_new(dialect, ORGS, ["address"]).values(
                address=args["org"],
                role=_ROLES[args["role"]].name,
                status=OrgStatus.ACTIVE.name,
                index=args["index"],
                identifier_hash=args["identifier"],
                registered_block=block,
                status_block=block,
            )
        )
    elif lg.name in ("OrganisationSuspended", "OrganisationReinstated"):
        status = OrgStatus.SUSPENDED if lg.name == "OrganisationSuspended" else OrgStatus.ACTIVE
        conn.execute(
            update(ORGS).where(ORGS.c.address == args["org"]).values(status=status.name, status_block=block)
        )
    elif lg.name == "KeyAdded":
        conn.execute(
            insert_new(dialect, KEYS, ["key"]).values(
                key=args["key"], org=args["org"], status=KeyStatus.ACTIVE.name, added_block=block
            )
        )
    elif lg.name == "KeyRevoked":
        conn.execute(
            update(KEYS)
            .where(KEYS.c.key == args["key"])
            .values(status=KeyStatus.REVOKED.name, revoked_block=block)
        )
