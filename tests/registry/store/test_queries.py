"""Indexed read queries: title state, history, events by organisation (keyset pages), holdings."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from registry.errors import NotFoundError
from registry.store.indexer import Indexer
from registry.store.queries import ebls_held_by, events_by_org, history, title_state
from registry.types import Action, DocumentKind, Status
from tests.registry.store.conftest import Chain

UNKNOWN_EBL = 2**256 - 1


def test_unknown_ebl_raises_not_found(chain: Chain, engine: Engine) -> None:
    """title_state and history refuse an eBL the index has never seen."""
    Indexer(chain.w3, chain.deployment, engine).sync()
    with pytest.raises(NotFoundError) as excinfo:
        title_state(engine, UNKNOWN_EBL)
    assert excinfo.value.key == UNKNOWN_EBL
    with pytest.raises(NotFoundError):
        history(engine, UNKNOWN_EBL)


def test_title_state_of_a_fresh_straight_bill(chain: Chain, engine: Engine) -> None:
    """A straight bill issued to the shipper for the consignee, exactly as issued."""
    bill, doc = chain.issue(to="shipper", endorsee="consignee", kind=DocumentKind.STRAIGHT)
    Indexer(chain.w3, chain.deployment, engine).sync()
    state = title_state(engine, bill)
    assert (state.ebl_id, state.status, state.kind, state.carrier, state.holder, state.endorsee) == (
        bill,
        Status.ACTIVE,
        DocumentKind.STRAIGHT,
        chain.org("carrier"),
        chain.org("shipper"),
        chain.org("consignee"),
    )
    assert (state.document_hash, state.seq, state.predecessor, state.successor) == (doc, 0, None, None)
    block = chain.w3.eth.get_block(state.issued_block)
    assert state.issued_time == block["timestamp"]


def test_events_by_org_pages_through_everything_once_in_chain_order(chain: Chain, engine: Engine) -> None:
    """Keyset pages of 2 concatenate to the single-page answer; the action filter narrows it."""
    bills = [chain.issue(to="buyer")[0] for _ in range(3)]
    for bill in bills:
        chain.act("buyer", "transferPossession", bill, chain.org("bank"))
    chain.act("bank", "transferPossession", bills[0], chain.org("buyer"))
    Indexer(chain.w3, chain.deployment, engine).sync()
    buyer = chain.org("buyer")

    everything = events_by_org(engine, buyer, since=0, until=2**62, limit=1000)
    assert everything.next_cursor is None
    mine = [e for e in everything.events if e.ebl_id in bills]
    assert [(e.action, e.ebl_id) for e in mine] == [
        *((Action.ISSUE, b) for b in bills),
        *((Action.TRANSFER, b) for b in bills),
        (Action.TRANSFER, bills[0]),
    ]
    assert all(buyer in (e.actor, e.counterparty) for e in everything.events)
    keys = [(e.block_time, e.id) for e in everything.events]
    assert keys == sorted(keys)

    paged, cursor, pages = [], None, 0
    while True:
        page = events_by_org(engine, buyer, since=0, until=2**62, limit=2, cursor=cursor)
        paged += page.events
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == everything.events
    assert pages == -(-len(everything.events) // 2)

    issues = events_by_org(engine, buyer, since=0, until=2**62, action=Action.ISSUE, limit=1000)
    assert {e.action for e in issues.events} == {Action.ISSUE}
    assert {e.ebl_id for e in issues.events} >= set(bills)

    first_time = mine[0].block_time
    assert events_by_org(engine, buyer, since=first_time, until=first_time).events == []
    window = events_by_org(engine, buyer, since=first_time, until=first_time + 1, limit=1000).events
    assert window and {e.block_time for e in window} == {first_time}


def test_ebls_held_by_matches_the_erc721_balance_of_every_member(chain: Chain, engine: Engine) -> None:
    """Live eBLs per holder agree with the contract's balanceOf, including terminal ones left out."""
    bill, _ = chain.issue(to="consignee", endorsee="consignee")
    chain.act("consignee", "requestSurrenderForDelivery", bill)
    chain.act("carrier", "acceptSurrender", bill)
    kept, _ = chain.issue(to="consignee")
    Indexer(chain.w3, chain.deployment, engine).sync()

    held = {e.ebl_id for e in ebls_held_by(engine, chain.org("consignee"))}
    assert kept in held
    assert bill not in held
    for p in chain.cast.values():
        assert len(ebls_held_by(engine, p.org)) == chain.registry.functions.balanceOf(p.org).call()


def test_invalid_paging_arguments_are_refused(chain: Chain, engine: Engine) -> None:
    """A zero limit or a malformed cursor is a caller error."""
    with pytest.raises(ValueError, match="limit"):
        events_by_org(engine, chain.org("buyer"), since=0, until=1, limit=0)
    with pytest.raises(ValueError, match="cursor"):
        events_by_org(engine, chain.org("buyer"), since=0, until=1, cursor="not-a-cursor")
