"""The embedded chain survives the crashes of its owner and its own: leftover anvils, torn state dumps."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from web3 import Web3

from registry.chain import anvil as anvil_module
from registry.chain import anvil_leftovers
from registry.chain.anvil import AnvilConfig, AnvilProcess, anvils_serving
from registry.errors import ToolchainError

pytestmark = pytest.mark.anvil_only(
    "tests the embedded anvil process itself: its state dumps, pidfiles, crashes"
)


def _config(tmp_path: Path) -> AnvilConfig:
    return AnvilConfig(block_time=0.2, state_path=tmp_path / "chain" / "state.json")


@pytest.fixture
def started() -> Iterator[list[AnvilProcess]]:
    """Anvils a test starts; each is stopped (by its own pid) afterwards."""
    nodes: list[AnvilProcess] = []
    yield nodes
    for node in nodes:
        node.stop()


def _start(nodes: list[AnvilProcess], config: AnvilConfig, **kw: int) -> AnvilProcess:
    node = AnvilProcess(AnvilConfig(**{**config.__dict__, **kw}))
    nodes.append(node)
    return node.start()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_leftover_anvil_on_the_same_state_is_stopped_and_its_state_kept(tmp_path: Path, started) -> None:
    """The registry process was killed and its anvil lives on: the next start stops that anvil (it
    dumps its state on SIGTERM) and starts a new one on the same port with every block."""
    config = _config(tmp_path)
    orphan = _start(started, config)
    w3 = Web3(Web3.HTTPProvider(orphan.url))
    for _ in range(5):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    head = w3.eth.block_number
    assert json.loads(orphan.pidfile.read_text())["pid"] == orphan.pid  # type: ignore[union-attr]

    successor = _start(started, config, port=orphan.port)

    assert orphan.pid is not None and not _alive(orphan.pid)
    assert successor.port == orphan.port and successor.pid != orphan.pid
    assert Web3(Web3.HTTPProvider(successor.url)).eth.block_number >= head
    assert json.loads(successor.pidfile.read_text())["pid"] == successor.pid  # type: ignore[union-attr]


def test_an_anvil_missing_from_the_pidfile_is_found_by_its_state_file(tmp_path: Path, started) -> None:
    """The owner died right after spawning anvil, before it could record the pid: the next start
    still finds that anvil by its (resolved) state file and stops it, instead of losing its port to it."""
    config = _config(tmp_path)
    orphan = _start(started, config)
    assert orphan.pid in anvils_serving(config.state_path)  # type: ignore[arg-type]
    orphan.pidfile.unlink()  # type: ignore[union-attr]

    successor = _start(started, config, port=orphan.port)

    assert orphan.pid is not None and not _alive(orphan.pid)
    assert anvils_serving(config.state_path) == [successor.pid]  # type: ignore[arg-type]


def test_a_port_held_by_another_process_is_refused(tmp_path: Path, started, monkeypatch) -> None:
    """Something else listens on the port: a clear error, not an anvil that dies at once while the
    other process answers its health check."""
    monkeypatch.setattr(anvil_module, "PORT_WAIT", 0.3)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        with pytest.raises(ToolchainError, match="in use"):
            _start(started, _config(tmp_path), port=squatter.getsockname()[1])


def test_a_pidfile_naming_another_process_never_gets_it_killed(tmp_path: Path, started) -> None:
    """The recorded pid was reused by an unrelated process: it is left alone."""
    config = _config(tmp_path)
    assert config.state_path is not None
    config.state_path.parent.mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        (config.state_path.parent / "anvil.pid").write_text(json.dumps({"pid": bystander.pid}))
        _start(started, config)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_another_folders_anvil_on_the_same_relative_path_is_left_alone(tmp_path: Path, started, monkeypatch):
    """Two registries, each started from its own folder with the default ``data/chain/state.json``:
    starting one never stops the other's anvil (their command lines name the same relative path)."""
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    (theirs / "data" / "chain").mkdir(parents=True)
    ours.mkdir()
    argv = [str(anvil_module.anvil_binary()), "--port", str(anvil_module.free_port()), "--silent"]
    other = subprocess.Popen([*argv, "--state", "data/chain/state.json"], cwd=theirs, start_new_session=True)
    try:
        assert anvils_serving(theirs / "data" / "chain" / "state.json") == [other.pid]
        monkeypatch.chdir(ours)
        mine = _start(started, AnvilConfig(block_time=0.2, state_path=Path("data/chain/state.json")))

        assert other.poll() is None, "the other folder's anvil was stopped"
        assert mine.config.state_path == (ours / "data" / "chain" / "state.json").resolve()
        assert anvils_serving(Path("data/chain/state.json")) == [mine.pid]
        assert json.loads(mine.pidfile.read_text())["createTime"] > 0  # type: ignore[union-attr]
    finally:
        other.terminate()
        other.wait(timeout=10)


def test_a_pidfile_is_believed_only_for_the_process_it_recorded(tmp_path: Path) -> None:
    """The pidfile records the pid with its start time: a process with the same pid but another start
    time (a recycled pid) is not the one recorded."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        pidfile = tmp_path / "anvil.pid"
        started_at = psutil.Process(bystander.pid).create_time()
        pidfile.write_text(json.dumps({"pid": bystander.pid, "createTime": started_at}))
        recorded = anvil_leftovers.recorded_anvil(pidfile)
        assert recorded is not None and recorded.pid == bystander.pid
        pidfile.write_text(json.dumps({"pid": bystander.pid, "createTime": started_at - 5}))
        assert anvil_leftovers.recorded_anvil(pidfile) is None
        pidfile.write_text(json.dumps({"pid": bystander.pid}))  # an older version's pidfile
        assert anvil_leftovers.recorded_anvil(pidfile) is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_killed_anvil_restarts_on_its_port_from_its_state(tmp_path: Path, started) -> None:
    """kill -9: the exit is visible, and restart() brings the persisted blocks back on the same port."""
    node = _start(started, _config(tmp_path))
    w3 = Web3(Web3.HTTPProvider(node.url))
    for _ in range(5):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    persisted = w3.eth.block_number
    assert node.wait_persisted()  # holds every block mined before the call
    port, pid = node.port, node.pid
    assert pid is not None and node.exit_code is None
    os.kill(pid, signal.SIGKILL)
    node._proc.wait(timeout=10)  # type: ignore[union-attr]
    assert node.exit_code == -signal.SIGKILL

    node.restart()
    assert (node.port, node.exit_code) == (port, None) and node.pid != pid
    assert w3.eth.block_number >= persisted
    assert node.loaded_state_time is not None


def test_a_state_dump_torn_by_a_crash_falls_back_to_the_backup(tmp_path: Path, started) -> None:
    """anvil writes its dump in place; killed mid-write it leaves a file it cannot load. The start
    puts the last backup (one that parsed) in its place and keeps the torn file aside."""
    config = _config(tmp_path)
    assert config.state_path is not None
    node = _start(started, config)
    w3 = Web3(Web3.HTTPProvider(node.url))
    for _ in range(5):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert node.wait_persisted()  # dumped and backed up
    backed_up = json.loads(node.backup_path.read_bytes())  # type: ignore[union-attr]
    node.kill()
    torn = config.state_path.read_bytes()[:100]
    config.state_path.write_bytes(torn)

    again = _start(started, config, port=node.port)

    assert Web3(Web3.HTTPProvider(again.url)).eth.block_number >= int(str(backed_up["best_block_number"]), 0)
    assert [p.read_bytes() for p in config.state_path.parent.glob("state.json.corrupt-*")] == [torn]


def test_a_torn_state_dump_without_a_backup_refuses_to_start(tmp_path: Path, started) -> None:
    """Starting an empty chain in its place would silently lose every eBL: refuse, keep the file."""
    config = _config(tmp_path)
    assert config.state_path is not None
    config.state_path.parent.mkdir(parents=True)
    config.state_path.write_text('{"block": {"number": "0x')
    with pytest.raises(ToolchainError, match="does not parse"):
        _start(started, config)
    assert len(list(config.state_path.parent.glob("state.json.corrupt-*"))) == 1


def test_only_a_complete_dump_counts_as_one(tmp_path: Path) -> None:
    """A dump torn anywhere is refused, by its ends or (another layout) by parsing; a whole one passes."""
    from registry.chain.anvil_state import complete_dump as _complete_dump

    whole = b'{"block":{"number":"0x1"},"accounts":{},"blocks":[{"a":"}"}],"historical_states":null}'
    path = tmp_path / "state.json"
    for cut in range(1, len(whole)):
        path.write_bytes(whole[:cut])
        assert not _complete_dump(path), whole[:cut]
    path.write_bytes(whole + b"\n")
    assert _complete_dump(path)
    path.write_bytes(b'{"other": "layout"}')
    assert _complete_dump(path)
    path.write_bytes(b'{"other": "lay')
    assert not _complete_dump(path)
