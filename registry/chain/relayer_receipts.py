"""The relayer's receipt watch: which of the transactions in flight were mined, and where.

Receipts are collected per block, not per transaction: while anything is in flight the relayer asks
``eth_blockNumber`` every poll and, when the head moved, :class:`ReceiptScanner` fetches each new block's
receipts with one ``eth_getBlockReceipts`` (per-transaction ``eth_getTransactionReceipt`` only as a
fallback: the first round, a head that jumped or went back, a node without that method).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import RPCEndpoint

from registry.chain.relayer_batch import EntryResult, SignedEntry
from registry.chain.rpc import hex_bytes, hex_int, method_unsupported
from registry.errors import ChainError

__all__ = ["MAX_SCAN", "InFlight", "ReceiptScanner", "receipt_fields"]

log = logging.getLogger("registry.chain.relayer")

MAX_SCAN = 16
"""More new blocks than this since the last scan: look receipts up per transaction instead."""


def receipt_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a receipt the relayer reads, from raw JSON-RPC (hex strings) or web3 (ints, bytes)."""
    return {
        "status": hex_int(raw["status"]),
        "blockNumber": hex_int(raw["blockNumber"]),
        "logs": [
            {
                "address": str(lg["address"]),
                "topics": [hex_bytes(t) for t in lg["topics"]],
                "data": hex_bytes(lg["data"]),
            }
            for lg in raw.get("logs", [])
        ],
    }


@dataclass
class InFlight:
    """One sent batch transaction, until it is final."""

    nonce: int
    raw: bytes
    tx_hash: str
    entries: list[tuple[SignedEntry, Future[EntryResult]]]
    sent_at: float
    attempts: int = 1
    mined_block: int | None = None
    receipt: dict[str, Any] | None = field(default=None, repr=False)


class ReceiptScanner:
    """Attaches receipts to mined flights, one ``eth_getBlockReceipts`` per new block."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._scanned: int | None = None  # newest block whose receipts were collected
        self._block_receipts = True  # False once the node refuses eth_getBlockReceipts

    def forget(self) -> None:
        """Heights already scanned may hold new blocks now (a restarted chain): look receipts up afresh."""
        self._scanned = None

    def collect(self, flights: Sequence[InFlight], head: int) -> None:
        """Attach receipts to the flights that were mined up to ``head``.

        Raises:
            ChainError: the node failed to answer ``eth_getBlockReceipts`` (those blocks are scanned
                again next round).
        """
        waiting = {f.tx_hash: f for f in flights if f.receipt is None}
        scanned, self._scanned = self._scanned, head
        if not waiting or scanned == head:
            return
        if self._block_receipts and scanned is not None and 0 < head - scanned <= MAX_SCAN:
            for number in range(scanned + 1, head + 1):
                reply = self._w3.provider.make_request(RPCEndpoint("eth_getBlockReceipts"), [hex(number)])
                error = reply.get("error")
                if error is not None:
                    if not method_unsupported(error):
                        self._scanned = scanned  # scan these blocks again next round
                        raise ChainError(f"eth_getBlockReceipts failed: {error}")
                    log.info("relayer: the node has no eth_getBlockReceipts; receipts per transaction")
                    self._block_receipts = False
                    break
                for raw in reply.get("result") or []:
                    flight = waiting.pop(str(raw["transactionHash"]).lower(), None)
                    if flight is not None:
                        flight.receipt = receipt_fields(raw)
                        flight.mined_block = number
            else:
                return
        # First round, a jump or a rewound chain, or no block receipts: ask per transaction.
        for flight in waiting.values():
            self.lookup(flight)

    def lookup(self, flight: InFlight) -> bool:
        """This flight's receipt by transaction hash; False while it has none."""
        try:
            receipt = self._w3.eth.get_transaction_receipt(HexBytes(flight.tx_hash))
        except TransactionNotFound:
            return False
        flight.receipt = receipt_fields(receipt)
        flight.mined_block = flight.receipt["blockNumber"]
        return True
