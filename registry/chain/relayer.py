"""The relayer: signed title operations gathered into batch transactions, tracked to finality.

Anyone may submit signed actions; the contract checks every signature, so the relayer is not
trusted with title — it only pays for and orders transactions. One relayer account has one
:class:`NonceManager`; transactions are built and ABI-encoded here (web3's ``build_transaction``
auto-fill costs milliseconds per call), signed by a :class:`~registry.keys.Signer`, sent raw, and
watched until their receipt is ``confirmations`` blocks deep (0 on anvil and Besu QBFT, whose blocks
are final when mined).

In a batch a failing entry is skipped by the contract with ``BatchEntryFailed(index, ...)``; its
revert data is decoded into the exception tree and only its future fails. A transaction that is not
mined within ``resubmit_after`` seconds is sent again unchanged (same nonce), so a node restart or a
dropped transaction never executes an operation twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from eth_abi.abi import decode, encode
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from registry.chain.deploy import Deployment
from registry.chain.errors import decode_revert
from registry.errors import ChainError, ContractRevertError, TransactionFailedError
from registry.keys import IssuanceMessage, Signer, TitleActionMessage

__all__ = ["EntryResult", "NonceManager", "Relayer", "SignedEntry"]

log = logging.getLogger(__name__)

_ACTION_TUPLE = "((uint8,uint256,address,bytes32,uint256,uint256),address,bytes)[]"
_ISSUANCE_TUPLE = "((bytes32,bytes32,address,address,uint8,uint256,uint256),address,bytes)[]"
_EXECUTE_BATCH = keccak(text=f"executeBatch({_ACTION_TUPLE})")[:4]
_ISSUE_BATCH = keccak(text=f"issueBatch({_ISSUANCE_TUPLE})")[:4]
_BATCH_ENTRY_FAILED = keccak(text="BatchEntryFailed(uint256,address,uint256,bytes)")

# Gas bounds per entry: the worst case (first nonce word, first balance slot) plus the self-call.
_GAS_BASE = 60_000
_GAS_PER_ACTION = 150_000
_GAS_PER_ISSUANCE = 190_000


@dataclass(frozen=True)
class SignedEntry:
    """One signed operation as the contract's batch entry points take it."""

    message: TitleActionMessage | IssuanceMessage
    signer: ChecksumAddress
    signature: bytes

    @property
    def kind(self) -> Literal["action", "issuance"]:
        """Which batch entry point carries it."""
        return "issuance" if isinstance(self.message, IssuanceMessage) else "action"

    def as_tuple(self) -> tuple[Any, ...]:
        """ABI tuple ``(struct, signer, signature)``."""
        return (self.message.as_contract_tuple(), self.signer, self.signature)


@dataclass(frozen=True)
class EntryResult:
    """What became of one entry: final and applied, or final and refused."""

    tx_hash: str
    block_number: int
    error: ContractRevertError | TransactionFailedError | None = None

    @property
    def ok(self) -> bool:
        """True when the entry took effect on chain."""
        return self.error is None


class NonceManager:
    """Hands out consecutive nonces for one sending account without a round trip per transaction."""

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        self._w3, self._address = w3, address
        self._lock = threading.Lock()
        self._next: int | None = None

    def next(self) -> int:
        """The next nonce to use (read from the node's pending count once, then counted locally)."""
        with self._lock:
            if self._next is None:
                self._next = self._w3.eth.get_transaction_count(self._address, "pending")
            nonce = self._next
            self._next += 1
            return nonce

    def resync(self) -> None:
        """Forget the local count; the next call reads the node's pending count again."""
        with self._lock:
            self._next = None


@dataclass
class _InFlight:
    nonce: int
    raw: bytes
    tx_hash: str
    entries: list[tuple[SignedEntry, Future[EntryResult]]]
    sent_at: float
    attempts: int = 1
    mined_block: int | None = None
    receipt: dict[str, Any] | None = field(default=None, repr=False)


class Relayer:
    """Batches signed entries into transactions from one relayer account and resolves a future per entry.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        w3: connection to any EVM JSON-RPC node.
        deployment: where the registry is.
        sender: the relayer account's signer (pays gas; needs no role in the registry).
        max_batch: most entries per transaction.
        max_delay: seconds to wait for more entries before sending a partial batch.
        confirmations: blocks a receipt must be buried under before an entry is final.
        resubmit_after: seconds without a receipt before the same raw transaction is sent again.
        gas_price: fixed gas price (wei); None asks the node every 30 s.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        sender: Signer,
        *,
        max_batch: int = 400,
        max_delay: float = 0.05,
        confirmations: int = 0,
        resubmit_after: float = 30.0,
        poll_interval: float = 0.05,
        gas_price: int | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._w3 = w3
        self._deployment = deployment
        self._sender = sender
        self._nonces = NonceManager(w3, sender.address)
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.confirmations = confirmations
        self.resubmit_after = resubmit_after
        self.poll_interval = poll_interval
        self._fixed_gas_price = gas_price
        self._gas_price: tuple[int, float] | None = None
        self._queue: queue.Queue[tuple[SignedEntry, Future[EntryResult]] | None] = queue.Queue()
        self._inflight: dict[str, _InFlight] = {}
        self._inflight_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -------------------------------------------------------------- lifecycle

    def start(self) -> Relayer:
        """Start the batching and receipt-watching threads."""
        if self._threads:
            return self
        self._stop.clear()
        for target, name in ((self._batch_loop, "relayer-batch"), (self._watch_loop, "relayer-watch")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Send what is queued, wait up to ``timeout`` for in-flight receipts, then stop."""
        deadline = time.monotonic() + timeout
        while (not self._queue.empty() or self.pending) and time.monotonic() < deadline:
            time.sleep(self.poll_interval)
        self._stop.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> Relayer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pending(self) -> int:
        """Entries sent and not yet final."""
        with self._inflight_lock:
            return sum(len(f.entries) for f in self._inflight.values())

    # -------------------------------------------------------------- submission

    def submit(self, entry: SignedEntry) -> Future[EntryResult]:
        """Queue one signed entry; the future resolves when its transaction is final."""
        if not self._threads:
            raise ChainError("relayer is not running: call start() first")
        future: Future[EntryResult] = Future()
        self._queue.put((entry, future))
        return future

    def submit_many(self, entries: Iterable[SignedEntry]) -> list[Future[EntryResult]]:
        """Queue many entries at once (they keep their order within a batch)."""
        return [self.submit(e) for e in entries]

    # -------------------------------------------------------------- batching

    def _batch_loop(self) -> None:
        while not self._stop.is_set():
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_delay
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=max(remaining, 0))
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is None:
                    self._stop.set()
                    break
                batch.append(item)
            for kind in ("issuance", "action"):
                part = [pair for pair in batch if pair[0].kind == kind]
                if part:
                    self._send_batch(part)

    def _gas_price_now(self) -> int:
        if self._fixed_gas_price is not None:
            return self._fixed_gas_price
        now = time.monotonic()
        if self._gas_price is None or now - self._gas_price[1] > 30:
            self._gas_price = (int(self._w3.eth.gas_price * 2), now)
        return self._gas_price[0]

    def encode_batch(self, entries: Sequence[SignedEntry]) -> tuple[bytes, int]:
        """Calldata and gas bound of one batch transaction (all entries of one kind)."""
        kind = entries[0].kind
        tuples = [e.as_tuple() for e in entries]
        if kind == "issuance":
            data = _ISSUE_BATCH + encode([_ISSUANCE_TUPLE], [tuples])
            gas = _GAS_BASE + _GAS_PER_ISSUANCE * len(entries)
        else:
            data = _EXECUTE_BATCH + encode([_ACTION_TUPLE], [tuples])
            gas = _GAS_BASE + _GAS_PER_ACTION * len(entries)
        return data, gas

    def _send_batch(self, pairs: list[tuple[SignedEntry, Future[EntryResult]]]) -> None:
        try:
            data, gas = self.encode_batch([e for e, _ in pairs])
            nonce = self._nonces.next()
            raw = self._sender.sign_transaction(
                {
                    "to": self._deployment.address,
                    "data": data,
                    "gas": gas,
                    "gasPrice": self._gas_price_now(),
                    "nonce": nonce,
                    "chainId": self._deployment.chain_id,
                    "value": 0,
                }
            )
            tx_hash = "0x" + keccak(raw).hex()
            flight = _InFlight(nonce, raw, tx_hash, pairs, time.monotonic())
            with self._inflight_lock:
                self._inflight[tx_hash] = flight
            self._w3.eth.send_raw_transaction(raw)
        except Exception as exc:  # the node refused the transaction: every entry fails, none executed
            self._nonces.resync()
            with self._inflight_lock:
                for key in [k for k, f in self._inflight.items() if f.entries is pairs]:
                    del self._inflight[key]
            error = exc if isinstance(exc, ChainError) else ChainError(f"sending batch failed: {exc}")
            for _, future in pairs:
                if not future.done():
                    future.set_exception(error)

    # -------------------------------------------------------------- receipts

    def _watch_loop(self) -> None:
        while not (self._stop.is_set() and not self._inflight):
            time.sleep(self.poll_interval)
            with self._inflight_lock:
                flights = list(self._inflight.values())
            if not flights:
                continue
            try:
                head = self._w3.eth.block_number
                for flight in flights:
                    self._check(flight, head)
            except Exception:  # a node hiccup: keep watching, resubmission covers lost transactions
                log.exception("relayer: receipt polling failed")

    def _check(self, flight: _InFlight, head: int) -> None:
        if flight.receipt is None:
            try:
                receipt = self._w3.eth.get_transaction_receipt(HexBytes(flight.tx_hash))
            except TransactionNotFound:
                if time.monotonic() - flight.sent_at > self.resubmit_after:
                    self._resubmit(flight)
                return
            flight.receipt = dict(receipt)
            flight.mined_block = int(receipt["blockNumber"])
        assert flight.mined_block is not None
        if head - flight.mined_block < self.confirmations:
            return
        with self._inflight_lock:
            self._inflight.pop(flight.tx_hash, None)
        self._resolve(flight)

    def _resubmit(self, flight: _InFlight) -> None:
        flight.attempts += 1
        flight.sent_at = time.monotonic()
        log.warning("relayer: no receipt for %s, resubmitting (attempt %d)", flight.tx_hash, flight.attempts)
        try:
            self._w3.eth.send_raw_transaction(flight.raw)
        except Exception as exc:  # "already known" / "nonce too low": the receipt will tell
            log.info("relayer: resubmission of %s answered %s", flight.tx_hash, exc)

    def _resolve(self, flight: _InFlight) -> None:
        receipt = flight.receipt or {}
        block = int(receipt.get("blockNumber", 0))
        if receipt.get("status") != 1:
            error = TransactionFailedError(f"batch transaction {flight.tx_hash} reverted as a whole")
            for _, future in flight.entries:
                future.set_result(EntryResult(flight.tx_hash, block, error))
            return
        failures: dict[int, ContractRevertError | TransactionFailedError] = {}
        for entry_log in receipt.get("logs", []):
            topics = entry_log["topics"]
            if str(entry_log["address"]).lower() != self._deployment.address.lower():
                continue
            if topics and bytes(topics[0]) == _BATCH_ENTRY_FAILED:
                index = int.from_bytes(bytes(topics[1]), "big")
                _, reason = decode(["uint256", "bytes"], bytes(entry_log["data"]))
                failures[index] = decode_revert(reason)
        for index, (_, future) in enumerate(flight.entries):
            future.set_result(EntryResult(flight.tx_hash, block, failures.get(index)))
