"""The registry's chain archive against real blocks on anvil: what it stores is what the node served,
verified; a doctored block is refused and stores nothing; a reorg rolls it back. On SQLite and
PostgreSQL."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from registry.chain.blocks import NodeBlock, fetch_blocks
from registry.chain.rpc import rpc
from registry.errors import ArchiveMismatchError
from registry.proofs.headers import BASE_FIELDS, FORK_FIELDS
from registry.store.archive import ChainArchive, verify_block
from registry.store.models import ChainBlock
from tests.registry.store.conftest import Chain
from tests.support.mutations import changed

HEADER_FIELDS = [name for name, _ in BASE_FIELDS + FORK_FIELDS]


def _archive(chain: Chain, engine: Engine) -> ChainArchive:
    return ChainArchive(chain.w3, engine, chain.deployment.block_number, batch_blocks=7)


def _busy_block(chain: Chain) -> NodeBlock:
    """The node's newest block, after a transfer mined into it: one transaction, one registry log."""
    bill, _ = chain.issue(to="shipper")
    receipt = chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    (served,) = fetch_blocks(chain.w3, receipt["blockNumber"], receipt["blockNumber"])
    assert served.raws and served.receipts[0]["logs"]
    return served


def test_every_block_since_deployment_is_archived_with_the_logs_the_node_serves(
    chain: Chain, engine: Engine
) -> None:
    """The archive holds every block from the deployment block to the head, one hash chain, and reads
    back exactly the registry logs ``eth_getLogs`` answers, and where each transaction is."""
    bill, _ = chain.issue(to="shipper")
    receipt = chain.act("shipper", "transferPossession", bill, chain.org("bank"))
    archive = _archive(chain, engine)
    head = chain.w3.eth.block_number
    assert archive.ingest() == head
    first = chain.deployment.block_number
    headers = archive.headers(first, head)
    assert [h.number for h in headers] == list(range(first, head + 1))
    for older, newer in itertools.pairwise(headers):
        assert newer.parent_hash == older.hash
    assert headers[-1].hash == chain.w3.eth.get_block(head)["hash"].to_0x_hex()
    served = rpc(
        chain.w3,
        "eth_getLogs",
        [{"address": chain.deployment.address, "fromBlock": hex(first), "toBlock": "latest"}],
    )
    keys = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash", "logIndex")
    assert [
        {k: _lower(lg[k]) for k in keys} for lg in archive.logs(first, head, chain.deployment.address)
    ] == [{k: _lower(lg[k]) for k in keys} for lg in served]
    tx = receipt["transactionHash"].to_0x_hex()
    assert archive.transaction(tx) == (receipt["blockNumber"], receipt["blockHash"].to_0x_hex(), 0)
    assert archive.ingest() == head  # nothing new: nothing fetched twice
    assert archive.ingest(to_block=head - 2) == head - 2  # archived up to there (and beyond)


def _lower(value: Any) -> Any:
    return [v.lower() for v in value] if isinstance(value, list) else str(value).lower()


@pytest.mark.parametrize("field", HEADER_FIELDS)
def test_a_doctored_header_field_is_refused(chain: Chain, field: str) -> None:
    """Any header field changed: the header no longer hashes to its block hash."""
    served = _busy_block(chain)
    if field not in served.block:
        pytest.skip(f"this node's headers have no {field}")
    block = dict(served.block)
    block[field] = _changed_hex(block[field])
    with pytest.raises(ArchiveMismatchError, match=f"block {served.number}"):
        verify_block(replace(served, block=block), served.block["parentHash"])


def _changed_hex(value: str) -> str:
    """Another hex value of the same length ("0x0" becomes "0x1")."""
    return changed(value, len(value) - 1)


def test_a_broken_parent_link_is_refused(chain: Chain) -> None:
    served = _busy_block(chain)
    with pytest.raises(ArchiveMismatchError, match="parent hash"):
        verify_block(served, "0x" + "11" * 32)


def test_a_doctored_raw_transaction_is_refused(chain: Chain) -> None:
    served = _busy_block(chain)
    raw = bytearray(served.raws[0])
    raw[-40] ^= 0x01  # a byte of the signature
    with pytest.raises(ArchiveMismatchError, match="transactionsRoot"):
        verify_block(replace(served, raws=(bytes(raw),)), served.block["parentHash"])


@pytest.mark.parametrize(
    "path",
    [("status",), ("cumulativeGasUsed",), ("logsBloom",), ("logs", 0, "address"), ("logs", 0, "data")]
    + [("logs", 0, "topics", i) for i in range(2)]
    + [("transactionHash",)],
)
def test_a_doctored_receipt_is_refused(chain: Chain, path: tuple[Any, ...]) -> None:
    """A changed consensus field of the receipt no longer rebuilds the receiptsRoot; a receipt of
    another transaction is not taken for this one's."""
    served = _busy_block(chain)
    receipt: Any = copy.deepcopy(dict(served.receipts[0]))
    parent: Any = receipt
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = _changed_hex(parent[path[-1]])
    with pytest.raises(ArchiveMismatchError, match="receipt"):
        verify_block(replace(served, receipts=(receipt,)), served.block["parentHash"])


def test_a_refused_block_stores_nothing_of_it_or_after_it(
    chain: Chain, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingestion through a node that serves one doctored block stops there with the typed error; the
    blocks before it are kept, none from it on, and a later ingest from an honest node carries on."""
    _busy_block(chain)
    archive = _archive(chain, engine)
    head = chain.w3.eth.block_number
    doctored = head - 1
    honest = fetch_blocks

    def lying(w3: Any, first: int, last: int) -> list[NodeBlock]:
        out = honest(w3, first, last)
        return [
            replace(b, block={**b.block, "gasUsed": hex(int(b.block["gasUsed"], 16) + 1)})
            if b.number == doctored
            else b
            for b in out
        ]

    monkeypatch.setattr("registry.store.archive.fetch_blocks", lying)
    with pytest.raises(ArchiveMismatchError, match=f"block {doctored}"):
        archive.ingest()
    with engine.connect() as conn:
        assert conn.execute(select(func.max(ChainBlock.number))).scalar() == doctored - 1
    monkeypatch.setattr("registry.store.archive.fetch_blocks", honest)
    assert archive.ingest() == head


def test_a_reorg_rolls_the_archive_back_to_the_block_the_node_still_has(chain: Chain, engine: Engine) -> None:
    """After the node replaced archived blocks (deeper than any reorg depth), the archive drops them and
    takes the new branch: its newest block is the node's, by hash."""
    archive = _archive(chain, engine)
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    for _ in range(5):
        chain.issue(to="shipper")
    lost_tip = archive.ingest()
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(8):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    head = chain.w3.eth.block_number
    assert head > lost_tip
    assert archive.ingest() == head
    assert archive.block_hash(head) == chain.w3.eth.get_block(head)["hash"].to_0x_hex()
    assert archive.logs(head - 7, head, chain.deployment.address) == []  # the lost issuances are gone
