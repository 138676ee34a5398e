"""A member's bills (held, awaiting its action, formerly held), told as the parties live them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from registry.errors import InvalidRequestError
from registry.store.holdings import Awaiting, HoldingView, member_ebls
from registry.store.indexer import Indexer
from registry.types import DocumentKind
from tests.registry.store.conftest import Chain

EVERYTHING = 1000


def _view(engine: Engine, chain: Chain, name: str, view: HoldingView) -> dict[int, Awaiting | None]:
    page = member_ebls(engine, chain.org(name), view, limit=EVERYTHING)
    assert page.next_cursor is None
    return {h.title.ebl_id: h.awaiting for h in page.items}


def _sync(chain: Chain, engine: Engine) -> None:
    Indexer(chain.w3, chain.deployment, engine).sync()


def test_a_transfer_waits_for_the_receiver_until_it_acts_and_then_the_sender_held_it(
    chain: Chain, engine: Engine
) -> None:
    """Shipper → bank: the bank may reject (awaiting), the shipper lists it as formerly held; after the
    bank rejects, the shipper holds it again with nothing to reject (a returned bill is not a transfer)."""
    bill, _ = chain.issue(to="shipper")
    _sync(chain, engine)
    assert _view(engine, chain, "shipper", HoldingView.HELD)[bill] is None  # an issuance cannot be rejected
    assert bill not in _view(engine, chain, "shipper", HoldingView.AWAITING)

    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    _sync(chain, engine)
    assert _view(engine, chain, "bank", HoldingView.AWAITING)[bill] is Awaiting.TRANSFER_RECEIVED
    assert _view(engine, chain, "bank", HoldingView.HELD)[bill] is Awaiting.TRANSFER_RECEIVED
    assert bill in _view(engine, chain, "shipper", HoldingView.FORMER)
    assert bill not in _view(engine, chain, "shipper", HoldingView.HELD)

    chain.act("bank", "rejectTransfer", bill)
    _sync(chain, engine)
    assert _view(engine, chain, "shipper", HoldingView.HELD)[bill] is None
    assert bill not in _view(engine, chain, "shipper", HoldingView.AWAITING)
    assert bill not in _view(engine, chain, "shipper", HoldingView.FORMER)  # it holds it now
    assert bill in _view(engine, chain, "bank", HoldingView.FORMER)


def test_a_holder_that_acts_on_a_received_bill_can_no_longer_reject_it(chain: Chain, engine: Engine) -> None:
    """Bank receives a to-order bill and endorses it to the buyer: nothing is awaiting it any more."""
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "endorseToOrder", bill, chain.org("bank"))
    chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    _sync(chain, engine)
    assert _view(engine, chain, "bank", HoldingView.AWAITING)[bill] is Awaiting.TRANSFER_RECEIVED
    chain.act("bank", "endorse", bill, chain.org("buyer"))
    _sync(chain, engine)
    assert bill not in _view(engine, chain, "bank", HoldingView.AWAITING)
    assert _view(engine, chain, "bank", HoldingView.HELD)[bill] is None


def test_an_endorsees_nomination_waits_for_the_holder(chain: Chain, engine: Engine) -> None:
    """The shipper holds a bill endorsed to the bank; the bank nominates the buyer: the shipper, who alone
    can now endorse to the nominee, has it awaiting; once it does, it no longer waits."""
    bill, _ = chain.issue(to="shipper", endorsee="bank")
    chain.act("bank", "nominate", bill, chain.org("buyer"))
    _sync(chain, engine)
    assert _view(engine, chain, "shipper", HoldingView.AWAITING)[bill] is Awaiting.NOMINATION
    assert bill not in _view(engine, chain, "bank", HoldingView.AWAITING)
    chain.act("shipper", "endorse", bill, chain.org("buyer"))
    _sync(chain, engine)
    assert bill not in _view(engine, chain, "shipper", HoldingView.AWAITING)


def test_a_nomination_by_another_party_leaves_the_right_to_reject(chain: Chain, engine: Engine) -> None:
    """Buyer receives a bill endorsed to the bank; the bank nominates and withdraws its nomination: the
    buyer still may reject the transfer, as the contract agrees."""
    bill, _ = chain.issue(to="shipper", endorsee="bank")
    chain.act("shipper", "transferPossession", bill, chain.org("buyer"))
    chain.act("bank", "nominate", bill, chain.org("consignee"))
    chain.act("bank", "nominate", bill, "0x" + "00" * 20)
    _sync(chain, engine)
    assert _view(engine, chain, "buyer", HoldingView.AWAITING)[bill] is Awaiting.TRANSFER_RECEIVED
    chain.act("buyer", "rejectTransfer", bill)  # the chain agrees: it was still rejectable
    _sync(chain, engine)
    assert bill in _view(engine, chain, "buyer", HoldingView.FORMER)


def test_a_surrender_waits_for_the_carrier_and_ends_in_nobodys_list(chain: Chain, engine: Engine) -> None:
    """The consignee surrenders a straight bill: the carrier must answer; once accepted the bill is no
    one's to hold, and the consignee lists it as formerly held."""
    bill, _ = chain.issue(to="consignee", endorsee="consignee", kind=DocumentKind.STRAIGHT)
    chain.act("consignee", "requestSurrenderForDelivery", bill)
    _sync(chain, engine)
    assert _view(engine, chain, "carrier", HoldingView.AWAITING)[bill] is Awaiting.SURRENDER_REQUESTED
    assert bill in _view(engine, chain, "consignee", HoldingView.FORMER)
    chain.act("carrier", "acceptSurrender", bill)
    _sync(chain, engine)
    assert bill not in _view(engine, chain, "carrier", HoldingView.AWAITING)
    assert bill not in _view(engine, chain, "carrier", HoldingView.HELD)
    assert bill in _view(engine, chain, "consignee", HoldingView.FORMER)


def test_a_surrender_for_amendment_waits_for_the_carrier_to_amend_void_or_switch(
    chain: Chain, engine: Engine
) -> None:
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "requestSurrenderForAmendment", bill, b"\0" * 32)
    chain.act("carrier", "acceptSurrender", bill)
    _sync(chain, engine)
    assert _view(engine, chain, "carrier", HoldingView.AWAITING)[bill] is Awaiting.SURRENDERED_FOR_AMENDMENT


def test_pages_of_two_concatenate_to_the_whole_list_newest_issuance_first(
    chain: Chain, engine: Engine
) -> None:
    bills = [chain.issue(to="buyer", by="third_carrier")[0] for _ in range(5)]
    _sync(chain, engine)
    buyer = chain.org("buyer")
    whole = [h.title.ebl_id for h in member_ebls(engine, buyer, HoldingView.HELD, limit=EVERYTHING).items]
    assert [b for b in whole if b in bills] == bills[::-1]
    paged: list[int] = []
    cursor = None
    while True:
        page = member_ebls(engine, buyer, HoldingView.HELD, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        paged += [h.title.ebl_id for h in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == whole


def test_a_bill_sent_to_another_platform_is_held_until_it_accepts_and_then_formerly_held(
    chain: Chain, engine: Engine
) -> None:
    """The shipper sends its bill to WAVE: held (frozen) while the envelope travels; on WAVE's RECE it is
    the shipper's former bill, and nobody's here."""
    bill, _ = chain.issue(to="shipper")
    chain.act("shipper", "startExport", bill, b"WAVE", b"\x01" * 32)
    _sync(chain, engine)
    assert bill in _view(engine, chain, "shipper", HoldingView.HELD)
    assert bill not in _view(engine, chain, "shipper", HoldingView.FORMER)
    chain.send(chain.registry.functions.closeExport(bill, b"\x02" * 32), chain.bridge)
    _sync(chain, engine)
    assert bill not in _view(engine, chain, "shipper", HoldingView.HELD)
    assert bill not in _view(engine, chain, "shipper", HoldingView.AWAITING)
    assert bill in _view(engine, chain, "shipper", HoldingView.FORMER)


@pytest.mark.parametrize("limit, cursor", [(0, None), (EVERYTHING + 1, None), (10, "nonsense"), (10, "1.x")])
def test_a_bad_limit_or_cursor_is_an_invalid_request(
    chain: Chain, engine: Engine, limit: int, cursor: str
) -> None:
    with pytest.raises(InvalidRequestError):
        member_ebls(engine, chain.org("buyer"), HoldingView.HELD, limit=limit, cursor=cursor)
