"""On-demand mining for the embedded chain: a block at most every ``block_time``, and only when there is
something to put in it.

anvil 1.7.1 with ``--block-time`` of 2 s or less raises its in-memory history to 1,500 full state
snapshots, whatever ``--prune-history N`` says, and mines an empty block (one more snapshot) every
interval even when idle: memory grows with eBLs x blocks (``docs/ledger.md``). Started with
``--no-mining`` instead, anvil honours ``--prune-history N``, and this miner asks for a block
(``evm_mine``) when the pool holds transactions, no sooner than ``block_time`` after the previous one.
An idle registry mines nothing; a busy one gets the same block cadence as interval mining, and the
first transaction after a pause waits a quarter of a block time (:data:`GATHER_SHARE`) for its burst.

``trailing`` empty blocks follow the last busy one, for a development chain that asks for
confirmations (``EBL_CONFIRMATIONS``): a receipt needs that many blocks on top of it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from registry.background import DaemonLoop

__all__ = ["OnDemandMiner", "node_call"]

POLL_S = 0.05
"""Seconds between looks at the transaction pool."""
GATHER_SHARE = 0.25
"""After a pause, the first waiting transaction is mined this share of a block time after it was seen,
so the burst it begins (a relayer sends one transaction per 400 entries) shares its block."""


class OnDemandMiner(DaemonLoop):
    """Mines the anvil at ``url()`` on demand, on its own daemon thread (``anvil-miner``).

    Args:
        url: the node's JSON-RPC URL (a callable: the port is known once anvil has started).
        block_time: the least time between two blocks, in seconds.
        trailing: empty blocks mined after the last block that held transactions.
    """

    thread_name = "anvil-miner"

    def __init__(self, url: Callable[[], str], block_time: float, trailing: int = 0) -> None:
        super().__init__()
        self._url = url
        self.block_time = block_time
        self.trailing = trailing
        self.blocks = 0
        """Blocks this miner asked for (for benchmarks and tests)."""
        self.lock = threading.Lock()
        """Held around each ``evm_mine``: whoever holds it knows no block is being mined (the state
        persister, :mod:`registry.chain.anvil_persist`, dumps under it)."""

    def stop(self) -> None:
        self._halt_thread(timeout=5)

    def _run(self) -> None:
        last, owed, seen = float("-inf"), 0, None
        gather = self.block_time * GATHER_SHARE
        while not self._halt.wait(POLL_S):
            now = time.monotonic()
            if now - last < self.block_time:
                continue
            try:
                status = self._call("txpool_status")
                pending = int(str(status.get("pending", "0x0")), 16) if isinstance(status, dict) else 0
                if pending == 0 and owed == 0:
                    seen = None
                    continue
                seen = seen if seen is not None else now
                if pending and now - seen < gather:
                    continue  # the first transaction after a pause: let the rest of its burst arrive
                started = time.monotonic()
                with self.lock:
                    self.blocks += 1  # before the call: one that fails may still have mined
                    self._call("evm_mine")
            except (OSError, ValueError):  # URLError is an OSError
                continue  # the node is down (the watchdog restarts it) or busy: try again next round
            last, seen = started, None  # the cadence counts from the block's start, not its end
            owed = self.trailing if pending else owed - 1

    def _call(self, method: str) -> Any:
        return node_call(self._url(), method, timeout=30)


def node_call(url: str, method: str, params: list[Any] | None = None, *, timeout: float) -> Any:
    """One JSON-RPC call to the embedded node at ``url`` with no web3 in between (its process is being
    started, probed or mined here, before or beside any web3 connection); the reply's ``result``.

    Raises:
        OSError: the node did not answer (``urllib.error.URLError`` is one).
        ValueError: it answered with an error, or not JSON.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise ValueError(f"{method}: {reply['error']}")
    return reply.get("result")
