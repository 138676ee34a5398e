"""Which EVM the chain-layer tests run on: anvil (the default) or, with ``EBL_TEST_LEDGER=hardhat``
(``make test-hardhat``), the Hardhat node (EDR), an independent EVM implementation. The registry must
run unchanged on any standard EVM JSON-RPC node; these tests show it on two.

Tests of the embedded anvil itself (its state dumps, its process killed and restarted by the runtime)
are marked ``@pytest.mark.anvil_only("why")`` and skipped on Hardhat with that reason
(``tests/conftest.py``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.anvil import AnvilConfig, AnvilProcess
from tests.support.hardhat_node import HardhatNode

__all__ = ["TestChain", "TestLedger", "dev_call", "ledger_kind", "new_chain", "on_hardhat", "test_ledger"]

TestLedger = Literal["anvil", "hardhat"]
TestChain = AnvilProcess | HardhatNode
"""A chain the tests start: anvil, or the Hardhat node with ``EBL_TEST_LEDGER=hardhat``."""


def test_ledger() -> TestLedger:
    """``EBL_TEST_LEDGER``: ``anvil`` (the default) or ``hardhat``."""
    value = os.environ.get("EBL_TEST_LEDGER", "").strip().lower() or "anvil"
    if value not in ("anvil", "hardhat"):
        raise ValueError(f"EBL_TEST_LEDGER={value!r}: use anvil or hardhat")
    return "hardhat" if value == "hardhat" else "anvil"


test_ledger.__test__ = False  # type: ignore[attr-defined]  # not a test, despite the name


def on_hardhat() -> bool:
    """True when the chain-layer tests run on the Hardhat node."""
    return test_ledger() == "hardhat"


def ledger_kind() -> Literal["embedded", "hardhat"]:
    """The registry's ``EBL_LEDGER`` for a runtime on the test chain (anvil's profile is ``embedded``)."""
    return "hardhat" if on_hardhat() else "embedded"


def new_chain() -> TestChain:
    """A new, not yet started, automining test chain of the session's kind."""
    return HardhatNode() if on_hardhat() else AnvilProcess(AnvilConfig())


def dev_call(w3: Web3, name: str, params: list[Any]) -> Any:
    """A development method both nodes have under their own prefix (``setNextBlockBaseFeePerGas``:
    ``anvil_…`` on anvil, ``hardhat_…`` on the Hardhat node); its result.

    Raises:
        AssertionError: the node answers an error.
    """
    prefix = "hardhat_" if on_hardhat() else "anvil_"
    reply = w3.provider.make_request(RPCEndpoint(prefix + name), params)
    assert "error" not in reply, reply
    return reply.get("result")
