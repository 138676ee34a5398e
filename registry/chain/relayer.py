"""The relayer: signed title operations gathered into batch transactions, tracked to finality.

Anyone may submit signed actions; the contract checks every signature, so the relayer is not
trusted with title — it only pays for and orders transactions. One relayer account has one
:class:`NonceManager`; transactions are built and ABI-encoded here (web3's ``build_transaction``
auto-fill costs milliseconds per call), signed by a :class:`~registry.keys.Signer`, sent raw, and
watched until their receipt is ``confirmations`` blocks deep (0 on anvil and Besu QBFT, whose blocks
are final when mined).

Receipts are collected per block, not per transaction (:mod:`registry.chain.relayer_receipts`): while
anything is in flight the watcher asks ``eth_blockNumber`` every ``poll_interval`` and, when the head
moved, fetches each new block's receipts with one ``eth_getBlockReceipts``. Batches
(:mod:`registry.chain.relayer_batch`) are capped by the chain's block gas limit, by EIP-7825's
2**24 gas per transaction and by ``max_batch``, so a large batch never asks for more gas than a block
holds or an Osaka node accepts. Listeners
(:meth:`Relayer.on_resolved`) see every resolved transaction's entries together, before their futures
resolve, so a journal can record a whole batch in one write.

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
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Literal

from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.deploy import Deployment
from registry.chain.fees import FeePolicy
from registry.chain.relayer_batch import (
    EntryResult,
    SignedEntry,
    encode_batch,
    entries_fitting,
    entry_failures,
)
from registry.chain.relayer_receipts import InFlight, ReceiptScanner
from registry.chain.rpc import hex_int, rpc
from registry.errors import ChainError, TransactionFailedError
from registry.keys import Signer

__all__ = ["EntryResult", "NonceManager", "Relayer", "ResolveListener", "SignedEntry"]

log = logging.getLogger(__name__)


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


ResolveListener = Callable[[Sequence[tuple["Future[EntryResult]", "EntryResult"]]], None]
"""Called with every entry of one resolved transaction (future, result), before the futures resolve."""


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
        gas_price: fixed legacy gas price (wei); None follows the node (see :mod:`registry.chain.fees`).
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
        self._fees = FeePolicy(w3, gas_price=gas_price)
        self._queue: queue.Queue[tuple[SignedEntry, Future[EntryResult]] | None] = queue.Queue()
        self._inflight: dict[str, InFlight] = {}
        self._inflight_lock = threading.Lock()
        # Entries accepted by submit() and not yet in a sent transaction; reset() fails them. The send
        # lock makes "still unsent? then sign and send" one step that reset() cannot cut in half.
        self._unsent: set[Future[EntryResult]] = set()
        self._unsent_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listeners: list[ResolveListener] = []
        self._receipts = ReceiptScanner(w3)
        self._block_gas_limit: int | None = None

    def on_resolved(self, listener: ResolveListener) -> None:
        """Call ``listener`` with all entries of each resolved transaction, before their futures resolve
        (a listener that raises is logged; the futures resolve regardless)."""
        self._listeners.append(listener)

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
    def address(self) -> ChecksumAddress:
        """The relayer account, which sends (and pays for) every relayed transaction."""
        return ChecksumAddress(self._sender.address)

    @property
    def pending(self) -> int:
        """Entries sent and not yet final."""
        with self._inflight_lock:
            return sum(len(f.entries) for f in self._inflight.values())

    # -------------------------------------------------------------- chain restart (crash recovery)

    def reset(self, reason: str) -> int:
        """The chain restarted or rolled back: forget every in-flight transaction, drop every entry not
        yet sent, and re-read the nonce.

        Each in-flight entry's future fails with a plain :class:`ChainError` (nothing is known about
        it: it may or may not have executed); the title service leaves such operations to its
        recovery, which checks the entry's nonce on chain before resubmitting. Entries still queued
        fail the same way, before this returns, and are never sent: sent after the restart they would
        run ahead of the older operations the recovery resubmits. Returns the entries dropped.
        """
        with self._send_lock:
            with self._inflight_lock:
                flights = list(self._inflight.values())
                self._inflight.clear()
            with self._unsent_lock:
                unsent = list(self._unsent)
                self._unsent.clear()
            self._nonces.resync()
            self._fees.forget()
            self._receipts.forget()
        dropped = 0
        for future in unsent:
            if not future.done():
                future.set_exception(ChainError(f"{reason}: entry dropped before it was sent"))
                dropped += 1
        for flight in flights:
            for _, future in flight.entries:
                if not future.done():
                    future.set_exception(ChainError(f"{reason}: transaction {flight.tx_hash} dropped"))
                    dropped += 1
        return dropped

    # -------------------------------------------------------------- submission

    def submit(self, entry: SignedEntry) -> Future[EntryResult]:
        """Queue one signed entry; the future resolves when its transaction is final."""
        if not self._threads:
            raise ChainError("relayer is not running: call start() first")
        future: Future[EntryResult] = Future()
        with self._unsent_lock:
            self._unsent.add(future)
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
                cap = self.entries_per_transaction(kind)
                for i in range(0, len(part), cap):
                    self._send_batch(part[i : i + cap])

    def entries_per_transaction(self, kind: Literal["action", "issuance"]) -> int:
        """Most entries of one kind in one transaction: ``max_batch``, or fewer if their gas bound would
        not fit in a block (the block gas limit is read from the node once)."""
        if self._block_gas_limit is None:
            try:
                block = self._w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), ["latest", False])
                self._block_gas_limit = hex_int(block["result"]["gasLimit"])
            except Exception:  # no answer now: use max_batch, ask again next time
                return self.max_batch
        return entries_fitting(self._block_gas_limit, kind, self.max_batch)

    def encode_batch(self, entries: Sequence[SignedEntry]) -> tuple[bytes, int]:
        """Calldata and gas bound of one batch transaction (all entries of one kind)."""
        return encode_batch(entries)

    def _send_batch(self, pairs: list[tuple[SignedEntry, Future[EntryResult]]]) -> None:
        with self._send_lock:
            with self._unsent_lock:
                pairs = [(e, f) for e, f in pairs if f in self._unsent]  # the rest were dropped by reset()
                self._unsent.difference_update(f for _, f in pairs)
            if pairs:
                self._sign_and_send(pairs)

    def _sign_and_send(self, pairs: list[tuple[SignedEntry, Future[EntryResult]]]) -> None:
        try:
            data, gas = self.encode_batch([e for e, _ in pairs])
            nonce = self._nonces.next()
            raw = self._sender.sign_transaction(
                {
                    "to": self._deployment.address,
                    "data": data,
                    "gas": gas,
                    **self._fees.fields(),
                    "nonce": nonce,
                    "chainId": self._deployment.chain_id,
                    "value": 0,
                }
            )
            tx_hash = "0x" + keccak(raw).hex()
            flight = InFlight(nonce, raw, tx_hash, pairs, time.monotonic())
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
            if not self._inflight:
                continue
            try:
                # The head first, then the flights: a transaction sent after the head was read can only
                # be mined above it, so the next round's scan finds it.
                head = hex_int(rpc(self._w3, "eth_blockNumber", []))
                with self._inflight_lock:
                    flights = list(self._inflight.values())
                self._receipts.collect(flights, head)
                for flight in flights:
                    self._check(flight, head)
            except Exception:  # a node hiccup: keep watching, resubmission covers lost transactions
                log.exception("relayer: receipt polling failed")

    def _check(self, flight: InFlight, head: int) -> None:
        if flight.receipt is None:
            if time.monotonic() - flight.sent_at > self.resubmit_after and not self._receipts.lookup(flight):
                self._resubmit(flight)
            return
        assert flight.mined_block is not None
        if head - flight.mined_block < self.confirmations:
            return
        with self._inflight_lock:
            if self._inflight.pop(flight.tx_hash, None) is None:
                return  # dropped meanwhile (reset): its futures are already settled
        self._resolve(flight)

    def _resubmit(self, flight: InFlight) -> None:
        with self._send_lock:
            with self._inflight_lock:
                if flight.tx_hash not in self._inflight:
                    return  # dropped by reset(): never send it to the restarted chain
            flight.attempts += 1
            flight.sent_at = time.monotonic()
            log.warning(
                "relayer: no receipt for %s, resubmitting (attempt %d)", flight.tx_hash, flight.attempts
            )
            try:
                self._w3.eth.send_raw_transaction(flight.raw)
            except Exception as exc:  # "already known" / "nonce too low": the receipt will tell
                log.info("relayer: resubmission of %s answered %s", flight.tx_hash, exc)

    def _resolve(self, flight: InFlight) -> None:
        receipt = flight.receipt or {}
        block = int(receipt.get("blockNumber", 0))
        if receipt.get("status") != 1:
            error = TransactionFailedError(f"batch transaction {flight.tx_hash} reverted as a whole")
            self._settle(
                [(future, EntryResult(flight.tx_hash, block, error)) for _, future in flight.entries]
            )
            return
        failures = entry_failures(receipt.get("logs", []), self._deployment.address)
        self._settle(
            [
                (future, EntryResult(flight.tx_hash, block, failures.get(index)))
                for index, (_, future) in enumerate(flight.entries)
            ]
        )

    def _settle(self, results: Sequence[tuple[Future[EntryResult], EntryResult]]) -> None:
        for listener in self._listeners:
            try:
                listener(results)
            except Exception:  # the futures still resolve; their own callbacks record them
                log.exception("relayer: resolve listener failed")
        for future, result in results:
            if not future.done():
                future.set_result(result)
