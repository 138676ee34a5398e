"""The chain fence: which anvil process serves the kept chain, and which one the relayer leader has
recovered (the workers' writes pass only while they are the same)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from registry.chain.anvil_leftovers import pidfile_path, write_pidfile
from registry.chain_keeper import ChainFence


def test_writes_pass_only_for_the_chain_process_the_leader_vouched_for(tmp_path: Path) -> None:
    state = tmp_path / "chain" / "state.json"
    state.parent.mkdir()
    fence = ChainFence(state)
    assert fence.current() is None and not fence.holds(), "no chain yet"

    write_pidfile(pidfile_path(state), os.getpid(), 8545, state)
    first = fence.current()
    assert first is not None and first[0] == os.getpid()
    assert not fence.holds(), "served, but the leader has not recovered it yet"
    fence.vouch(first)
    assert fence.holds()

    # the supervisor's keeper restarts the chain: another process serves it
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_pidfile(pidfile_path(state), other.pid, 8545, state)
        assert fence.current() != first
        assert not fence.holds(), "restarted: refused until the leader has recovered the new process"
        fence.vouch(fence.current())
        assert fence.holds()
    finally:
        other.kill()
        other.wait()


def test_another_leaders_word_for_an_earlier_run_does_not_carry_over(tmp_path: Path) -> None:
    """A vouch left by a previous run names a process that no longer serves the chain."""
    state = tmp_path / "state.json"
    fence = ChainFence(state)
    fence.vouch((os.getpid(), 1.0))  # same pid, another start time: another process
    write_pidfile(pidfile_path(state), os.getpid(), 8545, state)
    assert not fence.holds()
    fence.vouch(None)  # nothing readable to vouch for: the record stays
    assert not fence.holds()
