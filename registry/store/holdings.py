"""A member's bills, from the index: the ones it holds, the ones waiting for its action, the ones it held.

The holder's inbox (the web app's, and ``GET /v1/members/ebls``) reads three views, each one indexed
query with keyset pagination on (``issued_block``, ``ebl_id``), newest issuance first:

* :attr:`HoldingView.HELD` — live bills in the member's possession, a bill on its way to another
  platform included (``ix_ebls_holder_issued_block``).
* :attr:`HoldingView.AWAITING` — held bills on which the member is the party to act next, each with
  the reason (:class:`Awaiting`). Every such bill is held by the member (a surrender moves possession
  to the carrier), so the same index serves it:

  - ``TRANSFER_RECEIVED``: transferred to it and not yet acted on, so it may reject it (the
    contract's ``REJECTABLE`` flag, read from the events);
  - ``NOMINATION``: the endorsee nominated a party, and only the holder can now endorse to it;
  - ``SURRENDER_REQUESTED``: the carrier must accept or reject a surrender;
  - ``SURRENDERED_FOR_AMENDMENT``: the carrier must amend, void or switch it to paper.
* :attr:`HoldingView.FORMER` — bills the member once handed on (it acted on them, transfer, reject,
  surrender or export, as holder) and does not hold now: another holds them, or another platform
  (``ix_ebl_events_actor_ebl_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Select, and_, or_, select

from registry.errors import InvalidRequestError
from registry.store.queries import EBLS, EVENTS, MAX_LIMIT, TitleState, title_from_row
from registry.types import Action, Status

__all__ = ["Awaiting", "Holding", "HoldingPage", "HoldingView", "member_ebls"]


class HoldingView(StrEnum):
    """Which of a member's bills to list."""

    HELD = "held"
    AWAITING = "awaiting"
    FORMER = "former"


class Awaiting(StrEnum):
    """Why a held bill waits for its holder's action."""

    TRANSFER_RECEIVED = "TRANSFER_RECEIVED"
    NOMINATION = "NOMINATION"
    SURRENDER_REQUESTED = "SURRENDER_REQUESTED"
    SURRENDERED_FOR_AMENDMENT = "SURRENDERED_FOR_AMENDMENT"


@dataclass(frozen=True)
class Holding:
    """One bill of a member's list, and why it waits for the member (None: it does not)."""

    title: TitleState
    awaiting: Awaiting | None


@dataclass(frozen=True)
class HoldingPage:
    """A page of a member's bills and the cursor of the next page (None on the last page)."""

    items: list[Holding]
    next_cursor: str | None


_LIVE = (
    Status.ACTIVE.name,
    Status.SURRENDER_REQUESTED.name,
    Status.SURRENDERED_FOR_AMENDMENT.name,
    Status.EXPORT_PENDING.name,  # still the member's until the other platform's RECE
)
_HANDED_ON = tuple(
    a.dcsa_code
    for a in (
        Action.TRANSFER,
        Action.REJECT,
        Action.SURRENDER_FOR_DELIVERY,
        Action.SURRENDER_FOR_AMENDMENT,
        Action.START_EXPORT,
    )
)


def _cursor(title: TitleState) -> str:
    return f"{title.issued_block}.{title.ebl_id}"


def _after(cursor: str) -> Any:
    """The keyset condition for the rows after ``cursor`` in (issued_block, ebl_id) descending order."""
    try:
        block_text, ebl_text = cursor.split(".")
        block, ebl = int(block_text), int(ebl_text)
    except ValueError:
        raise InvalidRequestError(f"invalid cursor {cursor!r}") from None
    return or_(EBLS.c.issued_block < block, and_(EBLS.c.issued_block == block, EBLS.c.ebl_id < str(ebl)))


def _rejectable() -> Any:
    """True where the holder may still reject the transfer that brought it the bill.

    The contract's ``REJECTABLE`` flag, from the events: a transfer to the current holder after which
    nothing happened but nominations by another party (an endorsee that is not the holder nominating
    leaves the flag; every other action after the transfer clears it or moves the bill).
    """
    transfer, later = EVENTS.alias("transfer"), EVENTS.alias("later")
    cleared = (
        select(later.c.id)
        .where(
            later.c.ebl_id == transfer.c.ebl_id,
            later.c.seq > transfer.c.seq,
            or_(later.c.action != Action.NOMINATE.dcsa_code, later.c.actor == EBLS.c.holder),
        )
        .correlate(EBLS, transfer)  # the outer bill's holder: left uncorrelated it joins every bill
        .exists()
    )
    return (
        select(transfer.c.id)
        .where(
            transfer.c.ebl_id == EBLS.c.ebl_id,
            transfer.c.action == Action.TRANSFER.dcsa_code,
            transfer.c.counterparty == EBLS.c.holder,
            ~cleared,
        )
        .correlate(EBLS)
        .exists()
    )


def _statement(org: str, view: HoldingView) -> Select[Any]:
    columns = select(EBLS, _rejectable().label("rejectable"))
    if view is HoldingView.HELD:
        return columns.where(EBLS.c.holder == org, EBLS.c.status.in_(_LIVE))
    if view is HoldingView.AWAITING:
        active = EBLS.c.status == Status.ACTIVE.name
        return columns.where(
            EBLS.c.holder == org,
            or_(
                and_(active, or_(EBLS.c.nominee.is_not(None), _rejectable())),
                EBLS.c.status.in_((Status.SURRENDER_REQUESTED.name, Status.SURRENDERED_FOR_AMENDMENT.name)),
            ),
        )
    handed_on = select(EVENTS.c.ebl_id).where(EVENTS.c.actor == org, EVENTS.c.action.in_(_HANDED_ON))
    # an exported bill keeps its last holder here, the member that sent it to the other platform
    return columns.where(
        EBLS.c.ebl_id.in_(handed_on), or_(EBLS.c.holder != org, EBLS.c.status == Status.EXPORTED.name)
    )


def _awaiting(row: Any) -> Awaiting | None:
    if row.status == Status.SURRENDER_REQUESTED.name:
        return Awaiting.SURRENDER_REQUESTED
    if row.status == Status.SURRENDERED_FOR_AMENDMENT.name:
        return Awaiting.SURRENDERED_FOR_AMENDMENT
    if row.status != Status.ACTIVE.name:
        return None
    if row.rejectable:  # first: any action of the holder ends the right to reject
        return Awaiting.TRANSFER_RECEIVED
    return Awaiting.NOMINATION if row.nominee is not None else None


def member_ebls(
    engine: Engine, org: str, view: HoldingView, limit: int = 50, cursor: str | None = None
) -> HoldingPage:
    """One page of ``org``'s bills in ``view``, newest issuance first (see the module docstring).

    A bill of the held and former views carries its :class:`Awaiting` reason too, when it has one for
    ``org``. Pass the returned ``next_cursor`` for the next page; ``limit`` is at most
    :data:`~registry.store.queries.MAX_LIMIT`.

    Raises:
        InvalidRequestError: ``limit`` out of range, or a cursor this function did not return.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_LIMIT}")
    stmt = _statement(org, view)
    if cursor is not None:
        stmt = stmt.where(_after(cursor))
    stmt = stmt.order_by(EBLS.c.issued_block.desc(), EBLS.c.ebl_id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(stmt).all()
    items = [Holding(title_from_row(r), _awaiting(r) if r.holder == org else None) for r in rows[:limit]]
    return HoldingPage(items, _cursor(items[-1].title) if len(rows) > limit else None)
