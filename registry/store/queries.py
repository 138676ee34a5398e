"""Read queries over the chain index. Every query is served by an index; none scans logs.

* :func:`title_state` — current title of one eBL (primary key).
* :func:`history` — its actions in ``seq`` order (``ix_ebl_events_ebl_id_seq``).
* :func:`events_by_org` — actions an organisation took or received in a time window, optionally of
  one action, with keyset pagination on (block_time, id) (``ix_ebl_events_actor_block_time`` and
  ``ix_ebl_events_counterparty_block_time``, one indexed branch each, merged).
* :func:`ebls_held_by` — live eBLs in an organisation's possession (``ix_ebls_holder``); the same
  count as the contract's ERC-721 ``balanceOf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, Table, and_, or_, select, union

from registry.errors import InvalidRequestError, NotFoundError
from registry.store.models import Ebl, EblEvent, OrgKey
from registry.types import Action, DocumentKind, Status, SurrenderReason

__all__ = [
    "EventPage",
    "EventRecord",
    "TitleState",
    "ebls_held_by",
    "events_by_org",
    "history",
    "title_from_row",
    "title_state",
]

EBLS: Table = Ebl.__table__  # type: ignore[assignment]
EVENTS: Table = EblEvent.__table__  # type: ignore[assignment]
_ACTION_BY_CODE = {a.dcsa_code: a for a in Action}
_LIVE = (Status.ACTIVE.name, Status.SURRENDER_REQUESTED.name, Status.SURRENDERED_FOR_AMENDMENT.name)
MAX_LIMIT = 1000


@dataclass(frozen=True)
class TitleState:
    """Indexed title of one eBL (addresses checksummed, None for "none")."""

    ebl_id: int
    status: Status
    kind: DocumentKind
    carrier: str | None
    holder: str
    endorsee: str | None
    nominee: str | None
    previous_holder: str | None
    surrender_reason: SurrenderReason
    document_hash: str
    predecessor: int | None
    successor: int | None
    paper_hash: str | None
    seq: int
    issued_block: int
    issued_time: int
    updated_block: int


@dataclass(frozen=True)
class EventRecord:
    """One recorded action; ``action.dcsa_code`` is the DCSA word as stored."""

    id: int
    ebl_id: int
    seq: int
    action: Action
    actor: str | None
    """None for the registry bridge's actions (CLOSE_EXPORT, CANCEL_EXPORT, IMPORT_TITLE)."""
    counterparty: str | None
    actor_key: str
    data: str
    block_number: int
    block_time: int
    tx_hash: str
    log_index: int
    platform: str | None = None
    """The other platform of an export or import action (PINT)."""


@dataclass(frozen=True)
class EventPage:
    """A page of events and the cursor of the next page (None on the last page)."""

    events: list[EventRecord]
    next_cursor: str | None


def title_from_row(row: Any) -> TitleState:
    """The :class:`TitleState` of one ``ebls`` row."""
    return TitleState(
        ebl_id=int(row.ebl_id),
        status=Status[row.status],
        kind=DocumentKind[row.kind],
        carrier=row.carrier,
        holder=row.holder,
        endorsee=row.endorsee,
        nominee=row.nominee,
        previous_holder=row.previous_holder,
        surrender_reason=SurrenderReason[row.surrender_reason],
        document_hash=row.document_hash,
        predecessor=int(row.predecessor) if row.predecessor else None,
        successor=int(row.successor) if row.successor else None,
        paper_hash=row.paper_hash,
        seq=row.seq,
        issued_block=row.issued_block,
        issued_time=row.issued_time,
        updated_block=row.updated_block,
    )


def _event(row: Any) -> EventRecord:
    return EventRecord(
        id=row.id,
        ebl_id=int(row.ebl_id),
        seq=row.seq,
        action=_ACTION_BY_CODE[row.action],
        actor=row.actor,
        counterparty=row.counterparty,
        actor_key=row.actor_key,
        data=row.data,
        block_number=row.block_number,
        block_time=row.block_time,
        tx_hash=row.tx_hash,
        log_index=row.log_index,
        platform=row.platform,
    )


def _seconds(value: datetime | int) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def title_state(engine: Engine, ebl_id: int) -> TitleState:
    """Current indexed title of ``ebl_id``.

    Raises:
        NotFoundError: the eBL is not indexed.
    """
    with engine.connect() as conn:
        row = conn.execute(select(EBLS).where(EBLS.c.ebl_id == str(ebl_id))).first()
    if row is None:
        raise NotFoundError("eBL", ebl_id)
    return title_from_row(row)


def history(engine: Engine, ebl_id: int) -> list[EventRecord]:
    """Every action on ``ebl_id``, issuance first, in ``seq`` order.

    Raises:
        NotFoundError: the eBL is not indexed.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS).where(EVENTS.c.ebl_id == str(ebl_id)).order_by(EVENTS.c.seq)).all()
        if (
            not rows
            and conn.execute(select(EBLS.c.ebl_id).where(EBLS.c.ebl_id == str(ebl_id))).first() is None
        ):
            raise NotFoundError("eBL", ebl_id)
    return [_event(r) for r in rows]


def _encode_cursor(event: EventRecord) -> str:
    return f"{event.block_time}.{event.id}"


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        time, ident = cursor.split(".")
        return int(time), int(ident)
    except ValueError:
        raise InvalidRequestError(f"invalid cursor {cursor!r}") from None


def events_by_org(
    engine: Engine,
    org: str,
    since: datetime | int,
    until: datetime | int,
    action: Action | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> EventPage:
    """Actions ``org`` took or was the counterparty of, with ``since <= block_time < until``.

    Ordered by (block_time, id), i.e. chain order. Pass the returned ``next_cursor`` to get the next
    page; ``limit`` is capped at :data:`MAX_LIMIT`. Times are datetimes or unix seconds.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    low, high = _seconds(since), _seconds(until)
    after = _decode_cursor(cursor) if cursor else None

    def branch(column: Any) -> Select[Any]:
        conditions: list[Any] = [column == org, EVENTS.c.block_time >= low, EVENTS.c.block_time < high]
        if action is not None:
            conditions.append(EVENTS.c.action == action.dcsa_code)
        if after is not None:
            conditions.append(
                or_(
                    EVENTS.c.block_time > after[0],
                    and_(EVENTS.c.block_time == after[0], EVENTS.c.id > after[1]),
                )
            )
        return select(EVENTS).where(*conditions).order_by(EVENTS.c.block_time, EVENTS.c.id).limit(limit + 1)

    # each branch wrapped in its own subquery: SQLite refuses ORDER BY / LIMIT on union members
    by_actor = branch(EVENTS.c.actor).subquery("by_actor")
    by_counterparty = branch(EVENTS.c.counterparty).subquery("by_counterparty")
    merged = union(select(by_actor), select(by_counterparty)).subquery("merged")
    stmt = select(merged).order_by(merged.c.block_time, merged.c.id).limit(limit + 1)
    with engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(stmt).all()
    events = [_event(r) for r in rows[:limit]]
    next_cursor = _encode_cursor(events[-1]) if len(rows) > limit else None
    return EventPage(events, next_cursor)


def ebls_held_by(engine: Engine, org: str) -> list[TitleState]:
    """Live eBLs (active, surrender requested, surrendered for amendment) in ``org``'s possession."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(EBLS).where(EBLS.c.holder == org, EBLS.c.status.in_(_LIVE)).order_by(EBLS.c.issued_block)
        ).all()
    return [title_from_row(r) for r in rows]


def indexed_keys(engine: Engine, org: str) -> list[tuple[str, int, int | None]]:
    """``(key, added block, revoked block or None)`` of every key the index holds for ``org``, oldest
    first."""
    keys: Table = OrgKey.__table__  # type: ignore[assignment]
    with engine.connect() as conn:
        rows = conn.execute(
            select(keys.c.key, keys.c.added_block, keys.c.revoked_block)
            .where(keys.c.org == org)
            .order_by(keys.c.added_block, keys.c.key)
        ).all()
    return [(str(k), int(a), None if r is None else int(r)) for k, a, r in rows]
