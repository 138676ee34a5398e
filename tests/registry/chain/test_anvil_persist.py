"""The registry dumps its on-demand chain itself, never while a block is mined: whole dumps only, an
interval that follows the dump's cost, nothing written when idle, a last dump on stop, and a state that
is never ahead of its blocks however often anvil is killed."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from registry.chain import anvil_persist, anvil_state
from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.anvil_miner import node_call
from registry.chain.anvil_persist import next_wait, write_atomically

pytestmark = pytest.mark.anvil_only("tests the embedded anvil's state dumps")


@pytest.fixture
def nodes() -> Iterator[list[AnvilProcess]]:
    """Anvils a test starts; each is stopped (by its own pid) afterwards."""
    started: list[AnvilProcess] = []
    yield started
    for node in started:
        node.stop()


def _on_demand(tmp_path: Path, **kw: object) -> AnvilConfig:
    base: dict[str, object] = {
        "block_time": 0.1,
        "on_demand": True,
        "state_path": tmp_path / "chain" / "state.json",
        "state_interval": 1,
        "state_interval_max": 5,
    }
    return AnvilConfig(**{**base, **kw})  # type: ignore[arg-type]


def _start(nodes: list[AnvilProcess], config: AnvilConfig) -> AnvilProcess:
    node = AnvilProcess(config)
    nodes.append(node)
    return node.start()


def _sender(url: str) -> str:
    return str(node_call(url, "eth_accounts", timeout=10)[0])


def _send(url: str, sender: str) -> None:
    tx = {"from": sender, "to": "0x" + "11" * 20, "value": "0x1"}
    node_call(url, "eth_sendTransaction", [tx], timeout=10)


def _wait_mined(url: str, sender: str) -> int:
    """Until the pool is empty; the sender's nonce (transactions mined)."""
    deadline = time.monotonic() + 30
    while int(node_call(url, "txpool_status", timeout=10)["pending"], 16):
        assert time.monotonic() < deadline, "the miner did not mine the pool"
        time.sleep(0.05)
    return int(node_call(url, "eth_getTransactionCount", [sender, "latest"], timeout=10), 16)


def _sent_in_blocks(url: str, sender: str) -> int:
    """Transactions from ``sender`` in the chain's blocks (what the auditor's history can show)."""
    head = int(node_call(url, "eth_blockNumber", timeout=10), 16)
    count = 0
    for number in range(head + 1):
        block = node_call(url, "eth_getBlockByNumber", [hex(number), True], timeout=10)
        count += sum(1 for tx in block["transactions"] if tx["from"].lower() == sender.lower())
    return count


def test_the_persister_writes_a_whole_dump_that_anvil_loads(tmp_path: Path, nodes) -> None:
    """On demand, anvil dumps nothing itself: the registry's dump is whole JSON in anvil's layout, and a
    new anvil loaded from it has every block mined before it."""
    node = _start(nodes, _on_demand(tmp_path))
    sender = _sender(node.url)
    for _ in range(3):
        _send(node.url, sender)
    mined = _wait_mined(node.url, sender)
    assert node.wait_persisted()
    state = node.config.state_path
    assert state is not None and anvil_state.complete_dump(state)
    assert json.loads(state.read_bytes())["best_block_number"]
    assert node.backup_current()
    node.kill()

    again = _start(nodes, _on_demand(tmp_path, port=node.port))
    assert int(node_call(again.url, "eth_getTransactionCount", [sender, "latest"], timeout=10), 16) == mined
    assert _sent_in_blocks(again.url, sender) == mined


def test_a_failed_write_leaves_the_previous_dump_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dump goes to a temporary file that replaces the state file only once written and synced: a
    write that fails half way leaves the old dump, and no temporary file behind."""
    state = tmp_path / "state.json"
    write_atomically(state, [b'{"block":1}'])

    def disk_full(fd: int) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(anvil_persist.os, "fsync", disk_full)
    with pytest.raises(OSError, match="no space"):
        write_atomically(state, [b'{"block":2, ', b'"torn'])
    assert state.read_bytes() == b'{"block":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_wait_between_dumps_is_a_hundred_times_the_last_dump_within_its_bounds() -> None:
    assert next_wait(0.01, 5, 300) == 5
    assert next_wait(0.5, 5, 300) == 50
    assert next_wait(6.0, 5, 300) == 300


def test_the_wait_follows_the_cost_of_the_dump(
    tmp_path: Path, nodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dump made to look dear (the factor raised a millionfold) pushes the wait to its longest; the
    chain is not restarted for it."""
    node = _start(nodes, _on_demand(tmp_path, state_interval_max=40))
    pid = node.pid
    assert node.state_interval == 1
    monkeypatch.setattr(anvil_persist, "COST_FACTOR", 1e6)
    assert node.wait_persisted()
    assert node.state_interval == 40 and node.pid == pid


def test_an_idle_chain_is_not_dumped_again(tmp_path: Path, nodes) -> None:
    """Nothing mined since the last dump: the round writes nothing (the file keeps its time)."""
    node = _start(nodes, _on_demand(tmp_path, state_interval=60, state_interval_max=60))
    persister = node.persister
    assert persister is not None and state_file(node).exists() is False
    assert persister.dump() is True  # the first one after start, even with nothing mined
    before = anvil_state.mtime_ns(state_file(node))
    assert persister.dump() is False
    assert anvil_state.mtime_ns(state_file(node)) == before
    _send(node.url, _sender(node.url))
    _wait_mined(node.url, _sender(node.url))
    assert persister.dump() is True


def test_a_graceful_stop_dumps_every_mined_block(tmp_path: Path, nodes) -> None:
    """stop() dumps once more after mining has stopped, so the next start has the last block."""
    node = _start(nodes, _on_demand(tmp_path, state_interval=60, state_interval_max=60))
    sender = _sender(node.url)
    for _ in range(4):
        _send(node.url, sender)
    mined = _wait_mined(node.url, sender)
    head = node_call(node.url, "eth_blockNumber", timeout=10)
    node.stop()

    again = _start(nodes, _on_demand(tmp_path, port=node.port))
    assert node_call(again.url, "eth_blockNumber", timeout=10) == head
    assert _sent_in_blocks(again.url, sender) == mined


def test_a_dump_torn_after_the_fact_still_comes_back_from_the_backup(tmp_path: Path, nodes) -> None:
    """The crash harness truncates the state file: the start loads the last backed-up dump instead."""
    node = _start(nodes, _on_demand(tmp_path))
    sender = _sender(node.url)
    _send(node.url, sender)
    mined = _wait_mined(node.url, sender)
    assert node.wait_persisted()
    node.kill()
    state = state_file(node)
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])

    again = _start(nodes, _on_demand(tmp_path, port=node.port))
    assert _sent_in_blocks(again.url, sender) == mined
    assert len(list(state.parent.glob("state.json.corrupt-*"))) == 1


def test_a_leftover_anvil_of_a_first_start_is_found_by_its_pidfile(tmp_path: Path, nodes) -> None:
    """Before its first dump the registry's anvil names no state file on its command line (there is
    none to load yet): when its owner dies, the next start still stops it, found by the pidfile's pid
    and start time, and takes its port."""
    config = _on_demand(tmp_path, state_interval=60, state_interval_max=60)
    orphan = _start(nodes, config)
    assert orphan.pid is not None and not state_file(orphan).exists()
    assert orphan.miner is not None and orphan.persister is not None
    orphan.miner.stop()  # its owner is gone: nothing mines or dumps it any more
    orphan.persister.stop(final=False)

    successor = _start(nodes, replace_port(config, orphan.port))

    assert not psutil.pid_exists(orphan.pid) or psutil.Process(orphan.pid).status() == psutil.STATUS_ZOMBIE
    assert successor.port == orphan.port and successor.pid != orphan.pid


def test_kill_9_under_continuous_mining_never_restores_a_state_ahead_of_its_blocks(
    tmp_path: Path, nodes
) -> None:
    """The defect of anvil's own dumps: a block mined while anvil dumped was in the dumped state (its
    nonce used) but not in the dumped blocks. Here transactions flow and blocks are mined all the time,
    the registry dumps every second, and anvil is killed at random moments, five times: every restored
    chain holds, in its blocks, exactly the transactions its state counts as sent."""
    config = _on_demand(tmp_path, state_interval_max=1)
    node = _start(nodes, config)
    sender = _sender(node.url)
    rng = random.Random(3911322561)
    for round_ in range(5):
        halt = threading.Event()

        def flow(url: str = node.url, halt: threading.Event = halt) -> None:
            while not halt.is_set():
                try:
                    _send(url, sender)
                except (OSError, ValueError):
                    return  # anvil was killed
                time.sleep(0.005)

        sending = threading.Thread(target=flow, daemon=True)
        sending.start()
        time.sleep(1.5 + rng.random() * 2.5)  # at least one dump, then a random moment
        assert node.pid is not None and node.persister is not None and node.persister.dumps >= 1
        os.kill(node.pid, signal.SIGKILL)
        halt.set()
        sending.join(timeout=15)
        node.kill()
        node = _start(nodes, replace_port(config, node.port))
        nonce = int(node_call(node.url, "eth_getTransactionCount", [sender, "latest"], timeout=10), 16)
        assert _sent_in_blocks(node.url, sender) == nonce, f"round {round_}: state ahead of blocks"
        assert nonce > 0


def state_file(node: AnvilProcess) -> Path:
    assert node.config.state_path is not None
    return node.config.state_path


def replace_port(config: AnvilConfig, port: int) -> AnvilConfig:
    return AnvilConfig(**{**config.__dict__, "port": port})
