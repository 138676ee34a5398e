"""Hand-encoded titleOf reads agree with web3's contract call; the chain head cache stays honest."""

from __future__ import annotations

from web3 import Web3

from registry.chain.deploy import Deployment
from registry.chain.views import ChainHead, TitleReader
from registry.types import DocumentKind, Status
from tests.fixtures.dcsa import issued_example


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reader_agrees_with_the_contract_call(w3, service, registry, carrier, shipper, bank, consignee):
    """The carrier issues to order, the shipper endorses to the bank: every field decodes as web3 does."""
    doc = issued_example("regular", transportDocumentReference="VIEWS-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    service.endorse(shipper.org, ebl, bank.org)
    reader = TitleReader(w3, registry.address)

    state = reader.title_of(ebl)
    raw = registry.functions.titleOf(ebl).call()

    assert state is not None
    assert (state.status, state.kind) == (Status.ACTIVE, DocumentKind(raw[1]))
    assert (state.holder, state.endorsee, state.carrier) == (shipper.org, bank.org, carrier.org)
    assert state.nominee is None and state.previous_holder == (raw[7] if int(raw[7], 16) else None)
    assert state.document_hash == "0x" + raw[13].hex()
    assert (state.seq, state.endorsable, state.blank_endorsed) == (raw[12], raw[8], raw[9])
    assert state.predecessor is None and state.successor is None and state.paper_document_hash is None


def test_unknown_ebls_read_as_absent_alone_or_in_a_batch(w3, service, registry, carrier, shipper):
    ebl = service.issue(
        carrier.org, issued_example("regular", transportDocumentReference="VIEWS-2"), shipper.org
    )
    reader = TitleReader(w3, registry.address)

    assert reader.title_of(12345) is None
    found = reader.titles_of([12345, int(ebl.ebl_id), 67890], "latest")
    assert list(found) == [int(ebl.ebl_id)] and found[int(ebl.ebl_id)].holder == shipper.org


def test_title_read_at_an_earlier_block_shows_the_earlier_holder(
    w3, service, registry, carrier, shipper, bank
):
    """A read pinned to a block answers for that block, not for the newest one."""
    ebl = service.issue(
        carrier.org, issued_example("regular", transportDocumentReference="VIEWS-3"), shipper.org
    )
    before = w3.eth.block_number
    service.transfer(shipper.org, ebl.ebl_id, bank.org)
    reader = TitleReader(w3, registry.address)

    old, new = reader.title_of(ebl.ebl_id, before), reader.title_of(ebl.ebl_id)
    assert old is not None and new is not None
    assert (old.holder, new.holder) == (shipper.org, bank.org)


def test_head_is_cached_for_max_age_then_refreshed(w3: Web3, deployment: Deployment):
    clock = _Clock()
    head = ChainHead(w3, max_age=0.25, clock=clock)
    first = head.latest()
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    assert head.latest() == first  # within max_age: no round trip
    clock.now += 0.3
    assert head.latest().number == first.number + 1


def test_head_never_anchors_below_an_observed_block(w3: Web3, deployment: Deployment):
    """An operation just became final in a new block: the next read includes it, cache or not."""
    clock = _Clock()
    head = ChainHead(w3, max_age=60, clock=clock)
    first = head.latest()
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    head.observe(first.number + 1)
    assert head.latest().number == first.number + 1


def test_head_follows_a_chain_restored_below_what_it_saw(w3: Web3, deployment: Deployment):
    """A chain restored from an older state: the head drops with it instead of refreshing forever."""
    clock = _Clock()
    head = ChainHead(w3, max_age=0.25, clock=clock)
    now = head.latest().number
    head.observe(now + 100)

    assert head.latest().number == now  # refreshed once, and the observation is clamped
    clock.now += 0.1
    assert head._fresh() is not None
