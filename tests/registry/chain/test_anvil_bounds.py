"""The embedded chain stays bounded (issue 17, docs/ledger.md): it mines only when there is work, keeps a
bounded number of historical states, and still serves every log since genesis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3
from web3.exceptions import Web3RPCError

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.anvil_state import state_interval_for
from registry.chain.views import TitleReader
from registry.config import Settings
from registry.errors import ConfigurationError, StateNotKeptError
from registry.runtime import embedded_anvil_config

KEPT = 16


@pytest.fixture
def node() -> Iterator[AnvilProcess]:
    """An anvil as the registry runs it, with a short block time and few states kept."""
    with AnvilProcess(AnvilConfig(block_time=0.2, on_demand=True, states_kept=KEPT)) as n:
        yield n


def _send(w3: Web3, nonce: int) -> str:
    sender, to = w3.eth.accounts[0], w3.eth.accounts[1]
    return w3.eth.send_transaction({"from": sender, "to": to, "value": 1, "nonce": nonce}).hex()


def test_an_idle_chain_mines_no_block_and_a_waiting_transaction_is_mined(node: AnvilProcess) -> None:
    """No traffic, no blocks (no empty block, so no state snapshot, per interval); a transaction sent
    is mined by the on-demand miner without anyone asking anvil to mine."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    head = w3.eth.block_number
    time.sleep(1.0)  # five block times
    assert w3.eth.block_number == head
    receipt = w3.eth.wait_for_transaction_receipt(_send(w3, 0), timeout=30)
    assert receipt["status"] == 1 and receipt["blockNumber"] == head + 1
    time.sleep(1.0)
    assert w3.eth.block_number == head + 1


def test_states_older_than_the_bound_are_forgotten_and_every_log_is_kept(node: AnvilProcess) -> None:
    """Reads within ``states_kept`` blocks of the head answer, older ones are refused; transactions,
    receipts and logs of every block stay (audit bundles and index rebuilds read them)."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    hashes = []
    for nonce in range(3 * KEPT):
        hashes.append(_send(w3, nonce))
        w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=30)
    head = w3.eth.block_number
    account = w3.eth.accounts[1]
    for back in (0, 1, KEPT // 2):
        assert w3.eth.get_balance(account, head - back) > 0
    with pytest.raises(Web3RPCError, match="BlockOutOfRange"):
        w3.eth.get_balance(account, head - 2 * KEPT)
    for tx in hashes:
        assert w3.eth.get_transaction_receipt(tx)["status"] == 1  # the oldest too
    assert w3.eth.get_block(1)["transactions"]


def test_the_registry_runs_its_chain_bounded_by_default(tmp_path: Path) -> None:
    """The runtime's anvil mines on demand, keeps a bounded history that covers a read pinned to a head
    cached for a fraction of a block, and dumps its state less often than every second."""
    config = embedded_anvil_config(Settings(data_dir=tmp_path))
    assert config.on_demand and config.block_time is not None
    assert config.states_kept is not None and 4 <= config.states_kept <= 64
    assert config.state_interval > 1 and config.state_path == tmp_path / "chain" / "state.json"
    assert config.transactions_kept == 64  # older blocks' transactions live in the registry's archive
    with pytest.raises(ValueError, match="chain_tx_kept"):
        Settings(data_dir=tmp_path, chain_tx_kept=2)
    with pytest.raises(ValueError, match="chain_states_kept"):
        Settings(data_dir=tmp_path, chain_states_kept=3)


def test_the_registry_keeps_few_states_and_sizes_its_dump_interval(tmp_path: Path) -> None:
    """The default keeps 4 states (a pinned read is at most one block old) and lets a large state be
    dumped less often than every 5 s, up to 300 s, never more than a quarter of the signature TTL."""
    config = embedded_anvil_config(Settings(data_dir=tmp_path))
    assert (config.states_kept, config.state_interval, config.state_interval_max) == (4, 5, 300)
    short_ttl = embedded_anvil_config(Settings(data_dir=tmp_path, signature_ttl=600))
    assert short_ttl.state_interval_max == 150
    with pytest.raises(ConfigurationError, match="EBL_CHAIN_STATE_INTERVAL_MAX"):
        Settings(data_dir=tmp_path, chain_state_interval=60, chain_state_interval_max=30)


def test_a_larger_state_is_dumped_less_often_within_the_bounds(tmp_path: Path) -> None:
    """No state yet: the shortest interval; a state of a few MiB still dumps at the shortest; the
    interval grows with the file (a dump rewrites all of it) and stops at the longest."""
    state = tmp_path / "state.json"
    assert state_interval_for(state, 5, 300) == 5
    sizes = {}
    for mib in (4, 200, 800, 4096):
        with state.open("wb") as f:
            f.truncate(mib * 2**20)  # sparse: only the size matters
        sizes[mib] = state_interval_for(state, 5, 300)
    assert sizes[4] == 5
    assert 5 < sizes[200] < sizes[800] < 300
    assert sizes[4096] == 300


def test_a_read_older_than_the_kept_states_is_refused_by_name(node: AnvilProcess) -> None:
    """``titleOf`` at a block whose state the node forgot raises ``StateNotKeptError`` (a typed chain
    error naming the block), not a generic failure."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    for nonce in range(2 * KEPT + 2):
        w3.eth.wait_for_transaction_receipt(_send(w3, nonce), timeout=30)
    old = w3.eth.block_number - 2 * KEPT
    with pytest.raises(StateNotKeptError) as refused:
        TitleReader(w3, w3.eth.accounts[1]).title_of(1, old)
    assert refused.value.block == old
