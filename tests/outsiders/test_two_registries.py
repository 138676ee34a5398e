"""Two registries side by side on one machine, each started as `make run` starts it (from its own folder,
with the default relative data folder), and `ebl` commands in direct mode run from other folders.

The defect: the leftover-anvil cleanup matched the relative path ``data/chain/state.json`` against
every process's command line, so an `ebl` command in direct mode run from another folder stopped the
running gateway's chain, and the gateway and the command then stopped each other's chains.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from registry.chain.build import project_root
from tests.support.gateway_process import GatewayProcess

EBL = str(Path(sys.executable).with_name("ebl"))


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two gateways, each run from its own folder with ``EBL_DATA_DIR=data``; stopped by pid."""
    root = tmp_path_factory.mktemp("side-by-side")
    first = GatewayProcess(root / "first", relative_data_dir=True)
    second = GatewayProcess(root / "second", relative_data_dir=True)
    try:
        for gateway in (first, second):
            gateway.root.mkdir()
            gateway.start()
        yield first, second
    finally:
        for gateway in (first, second):
            gateway.close()


def _chain(gateway: GatewayProcess) -> tuple[int, float]:
    """The gateway's running anvil: its pid and start time (a restarted chain has another)."""
    pid = gateway.anvil_pid()
    assert pid is not None, f"no anvil recorded in {gateway.data_dir}"
    return pid, psutil.Process(pid).create_time()


def _ebl(cwd: Path, *args: str, data_dir: str | None = "data") -> subprocess.CompletedProcess[str]:
    """``ebl`` in a subprocess, in direct mode unless ``--gateway`` is given, from ``cwd``."""
    env = {**os.environ, "EBL_KEYSTORE_KDF_N": "16384", "EBL_CHAIN_BLOCK_TIME": "0.5"}
    env.pop("EBL_DATA_DIR", None)
    if data_dir is not None:
        env["EBL_DATA_DIR"] = data_dir
    return subprocess.run(
        [EBL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def test_an_ebl_command_run_from_another_folder_leaves_both_gateways_chains_running(
    registries: tuple[GatewayProcess, GatewayProcess], tmp_path: Path
) -> None:
    """A newcomer runs ``ebl`` in direct mode from a third folder (its own ``data/``, relative): it
    starts, uses and stops its own chain; neither gateway's chain is stopped."""
    first, second = registries
    before = [_chain(first), _chain(second)]

    for _ in range(2):  # twice: each start used to stop the chains the previous one left running
        made = _ebl(tmp_path, "credential", "newcomer", "--role", "governance", "--json")
        assert made.returncode == 0, made.stdout + made.stderr

    assert (tmp_path / "data" / "chain" / "state.json").exists()
    assert [_chain(first), _chain(second)] == before
    assert first.ready() and second.ready()


def test_an_ebl_command_on_a_gateways_data_folder_is_refused_and_names_the_gateway(
    registries: tuple[GatewayProcess, GatewayProcess], tmp_path: Path
) -> None:
    """Direct mode on the folder a gateway serves, by every spelling of the path: refused with the
    gateway's pid and URL, exit code 1, and the gateway's chain keeps running."""
    first, second = registries
    before = [_chain(first), _chain(second)]
    assert first.proc is not None

    relative_from_parent = os.path.relpath(first.data_dir, first.root.parent)
    for cwd, data_dir in (
        (first.root, "data"),  # from the gateway's own folder, as a newcomer would
        (first.root.parent, relative_from_parent),  # a relative path from elsewhere
        (tmp_path, str(first.data_dir)),  # the absolute path
    ):
        refused = _ebl(cwd, "credential", "intruder", "--role", "governance", data_dir=data_dir)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        message = " ".join((refused.stdout + refused.stderr).split())  # rich wraps long lines
        assert "[registry_in_use]" in message and "Traceback" not in message
        assert f"in use by the gateway pid {first.proc.pid}" in message
        assert f"use --gateway {first.url} or stop it" in message

    assert [_chain(first), _chain(second)] == before
    assert first.ready() and second.ready()

    # The way out the refusal names works: the same folder through the gateway.
    assert first.credentials is not None
    carrier = first.credentials["carrier"]["org"]
    shown = _ebl(
        tmp_path,
        "--gateway",
        first.url,
        "--token",
        first.credentials["governance"]["token"],
        "org",
        "show",
        carrier,
        "--json",
        data_dir=None,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert carrier in shown.stdout


def test_a_second_gateway_on_a_served_data_folder_is_refused(
    registries: tuple[GatewayProcess, GatewayProcess],
) -> None:
    first, second = registries
    before = [_chain(first), _chain(second)]
    assert first.proc is not None
    env = {**os.environ, "EBL_DATA_DIR": "data", "EBL_PORT": "0", "PYTHONPATH": str(project_root())}
    refused = subprocess.run(
        [sys.executable, "-m", "scripts.serve"],
        cwd=first.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert refused.returncode != 0
    assert f"[registry_in_use] the registry in {first.data_dir.resolve()} is in use by the gateway pid " in (
        refused.stderr
    )
    assert [_chain(first), _chain(second)] == before and first.ready()


def test_the_anvil_of_a_killed_gateway_is_still_stopped_on_its_next_start(
    registries: tuple[GatewayProcess, GatewayProcess],
) -> None:
    """kill -9 of one gateway orphans its anvil; starting that gateway again stops the orphan (and only
    it) and serves on a new chain process from the same state; the other gateway is untouched."""
    first, second = registries
    untouched = _chain(first)
    orphan_pid, orphan_started = _chain(second)

    second.kill_gateway()
    orphan = psutil.Process(orphan_pid)
    assert orphan.create_time() == orphan_started and orphan.status() != psutil.STATUS_ZOMBIE

    second.start()

    assert not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE
    assert _chain(second)[0] != orphan_pid
    assert _chain(first) == untouched
    assert first.ready() and second.ready()


def test_stopping_a_gateway_stops_only_its_own_chain(
    registries: tuple[GatewayProcess, GatewayProcess],
) -> None:
    """SIGTERM, as Ctrl-C on `make run`: the gateway exits 0 with its chain stopped; the other runs on."""
    first, second = registries
    untouched = _chain(first)
    pid, _ = _chain(second)
    assert second.stop() == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _chain(first) == untouched and first.ready()
