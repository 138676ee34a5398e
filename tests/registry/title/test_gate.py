"""The write gate: closed while the runtime recovers what the chain lost, it refuses new writes and
waits for the writes already past it."""

from __future__ import annotations

import threading
import time

import pytest

from registry.errors import ChainError, LedgerUnavailableError
from registry.title.gate import WriteGate


def test_a_closed_gate_refuses_writes_with_a_retryable_ledger_error():
    gate = WriteGate()
    assert gate.close("the ledger is recovering; retry shortly") is True
    assert not gate.is_open
    with pytest.raises(LedgerUnavailableError, match="recovering") as refused, gate.passage():
        pass
    assert isinstance(refused.value, ChainError) and refused.value.code == "ledger_unavailable"
    gate.open()
    with gate.passage():
        assert gate.is_open


def test_closing_waits_for_the_writes_already_past_the_gate():
    """A carrier's issuance is being simulated when the chain dies: the watchdog's close() returns only
    after that write has handed its entry to the relayer."""
    gate = WriteGate()
    inside, release, finished = threading.Event(), threading.Event(), []

    def issuance_in_flight() -> None:
        with gate.passage():
            inside.set()
            release.wait(5)
            finished.append(time.monotonic())

    writer = threading.Thread(target=issuance_in_flight)
    writer.start()
    assert inside.wait(5)
    threading.Timer(0.3, release.set).start()
    assert gate.close("restarting") is True
    closed_at = time.monotonic()
    writer.join(5)
    assert finished and finished[0] <= closed_at


def test_closing_gives_up_on_a_stuck_write_after_its_timeout():
    gate = WriteGate()
    release = threading.Event()
    entered = threading.Event()

    def stuck() -> None:
        with gate.passage():
            entered.set()
            release.wait(5)

    writer = threading.Thread(target=stuck)
    writer.start()
    assert entered.wait(5)
    assert gate.close("restarting", timeout=0.2) is False
    assert not gate.is_open  # closed regardless: new writes are refused
    release.set()
    writer.join(5)


class _NoFlag:
    """A shared flag that is never raised (the leader is not recovering)."""

    def raise_flag(self) -> None: ...

    def lower_flag(self) -> None: ...

    def raised(self) -> bool:
        return False


@pytest.mark.parametrize("leading", [True, False])
def test_an_open_gate_refuses_writes_while_the_chain_process_is_not_the_one_the_leader_recovered(
    leading: bool,
) -> None:
    """The supervisor restarted the chain before the leader's watchdog probed it: the leader's writes and
    every other worker's are refused (503, retry) until the leader has recovered the new process."""
    recovered = [False]
    gate = WriteGate()
    gate.share(_NoFlag(), leading=leading, fence=lambda: recovered[0])
    assert gate.is_open
    with pytest.raises(LedgerUnavailableError, match="recovering"), gate.passage():
        pass
    recovered[0] = True
    with gate.passage():
        pass
