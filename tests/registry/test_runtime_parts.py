"""A starting worker waits for the chain its supervisor keeps, rather than failing while it restarts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests

from registry import runtime_parts
from registry.errors import LedgerUnavailableError
from registry.runtime_parts import await_kept_chain


def _chain_down_for(probes: int) -> Any:
    """A web3 whose node refuses the first ``probes`` connections (the keeper is restarting it)."""
    calls = {"n": 0}

    def get_block_number() -> int:
        calls["n"] += 1
        if calls["n"] <= probes:
            raise requests.exceptions.ConnectionError("[Errno 111] Connection refused")
        return 7

    return SimpleNamespace(eth=SimpleNamespace(get_block_number=get_block_number)), calls


def test_a_worker_starting_during_a_chain_restart_waits_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_parts.time, "sleep", lambda _s: None)
    w3, calls = _chain_down_for(3)
    await_kept_chain(w3, timeout=5)
    assert calls["n"] == 4


def test_a_chain_that_never_answers_is_a_ledger_error_not_a_hang() -> None:
    w3, _ = _chain_down_for(10**9)
    with pytest.raises(LedgerUnavailableError, match="did not answer within 0 s"):
        await_kept_chain(w3, timeout=0.3)
