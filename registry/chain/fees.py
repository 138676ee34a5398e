"""Fee fields for the transactions the registry sends itself (relayer batches, governance).

A fee must never feed on itself. Nodes suggest a price (``eth_gasPrice``, ``eth_maxPriorityFeePerGas``)
from the tips recent transactions paid; on a permissioned chain most of those are ours, so paying
"twice the suggestion" as a safety margin doubles the next suggestion, and so on: measured on anvil,
the suggested price grew from 2 gwei to 6.6e19 wei in 35 rounds, until the relayer's account could not
pay for one batch. The margin belongs on the *base fee*, which the protocol sets and nobody's bid moves,
and which is only ever charged, never bid. So, as web3.py's ``build_transaction`` does, but computed
once per ``refresh`` seconds instead of on every transaction (the hot path builds transactions by hand):

* a chain with a base fee (London and later; Besu QBFT with a base fee too): a type-2 transaction with
  ``maxPriorityFeePerGas`` = the node's suggested tip and ``maxFeePerGas`` = 2 * base fee + tip, which
  survives six consecutive full blocks of base-fee growth while paying base fee + tip;
* a chain without one (a free-gas Besu network, pre-London): a legacy ``gasPrice`` of exactly the
  node's ``eth_gasPrice`` (0 on a free-gas network);
* a fixed ``gas_price`` (configured): a legacy ``gasPrice`` of that, always.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from web3 import Web3

from registry.chain.rpc import hex_int, rpc
from registry.errors import ChainError

__all__ = ["FeePolicy"]

BASE_FEE_HEADROOM = 2
"""maxFeePerGas covers the base fee growing by this factor (12.5 % per full block: six blocks)."""


class FeePolicy:
    """The fee fields of the next transaction, refreshed from the node at most every ``refresh`` s.

    Args:
        w3: the node.
        gas_price: a fixed legacy gas price (wei); None asks the node.
        refresh: seconds a fetched fee stays in use.
    """

    def __init__(self, w3: Web3, *, gas_price: int | None = None, refresh: float = 5.0) -> None:
        if gas_price is not None and gas_price < 0:
            raise ValueError("gas_price must not be negative")
        self._w3 = w3
        self._fixed = gas_price
        self.refresh = refresh
        self._cached: tuple[dict[str, int], float] | None = None
        self._lock = threading.Lock()

    def fields(self) -> dict[str, int]:
        """Fee fields to merge into a transaction dict (``gasPrice``, or ``type`` + the two 1559 caps).

        Raises:
            ChainError: the node did not answer.
        """
        if self._fixed is not None:
            return {"gasPrice": self._fixed}
        now = time.monotonic()
        with self._lock:
            if self._cached is None or now - self._cached[1] > self.refresh:
                self._cached = (self._fetch(), now)
            return dict(self._cached[0])

    def forget(self) -> None:
        """Ask the node again on the next transaction (e.g. after a node restart)."""
        with self._lock:
            self._cached = None

    def _rpc(self, method: str, params: list[Any]) -> Any:
        try:
            return rpc(self._w3, method, params)
        except OSError as exc:  # requests' errors are OSErrors: the node is down or unreachable
            raise ChainError(f"{method} failed: {exc}") from exc

    def _fetch(self) -> dict[str, int]:
        block = self._rpc("eth_getBlockByNumber", ["latest", False]) or {}
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": hex_int(self._rpc("eth_gasPrice", []))}
        try:
            tip = hex_int(self._rpc("eth_maxPriorityFeePerGas", []))
        except ChainError:  # a node without the method: the legacy suggestion's share above the base fee
            tip = max(hex_int(self._rpc("eth_gasPrice", [])) - hex_int(base_fee), 0)
        return {
            "type": 2,
            "maxFeePerGas": BASE_FEE_HEADROOM * hex_int(base_fee) + tip,
            "maxPriorityFeePerGas": tip,
        }
