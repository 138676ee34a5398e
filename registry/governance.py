"""Governance transactions through a journal, like title actions: simulate → journal → send → finish,
and recovered on restart.

Onboarding, suspension and reinstatement are plain transactions from the governance key. Each is first
simulated (``eth_call``: a revert is refused with its decoded error and nothing is written), then signed
and recorded in the governance journal (:mod:`registry.store.governance`) before it is sent, and marked
final when its receipt is in. An acknowledged governance action therefore survives a crash of the
gateway before its receipt, and an embedded chain restored from a state dump older than its block:
:meth:`GovernanceSender.recover` resends the very signed transaction, whose nonce makes sure it
executes at most once. It runs before the title journal's recovery, at start-up and after every outage
or rollback (:class:`registry.watchdog.ChainWatchdog`), so a carrier's lost onboarding is back on chain
before the issuances it made are resubmitted.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from registry.chain.deploy import Deployment
from registry.chain.errors import decode_revert
from registry.chain.fees import FeePolicy
from registry.chain.rpc import receipt_on_chain, rpc
from registry.errors import ChainError, LedgerUnavailableError, TransactionFailedError
from registry.keys import Signer
from registry.store.archive import ChainArchive, archived_receipt
from registry.store.governance import GovernanceRecord, SqlGovernanceJournal
from registry.store.sender_lock import SenderLock
from registry.title.gate import WriteGate

__all__ = ["GOVERNANCE_GAS", "GovernanceSender"]

log = logging.getLogger(__name__)

GOVERNANCE_GAS = 500_000
"""Gas of one governance transaction (registering an organisation uses about a third of it)."""
RECEIPT_TIMEOUT = 120.0
"""Seconds a governance action waits for its receipt."""


class GovernanceSender:
    """Sends the governance key's transactions, one at a time, through the governance journal.

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment (its address and chain id).
        governance: signer holding ``DEFAULT_ADMIN_ROLE``.
        journal: the governance journal; None sends without one (tools that run no gateway).
        gas_price: a fixed legacy gas price (wei); None follows the node.
        archive: the registry's chain archive, asked for a transaction whose receipt the node no
            longer serves (pruned), so that recovery does not take it for lost.
        gate: the title service's write gate: while the chain is recovered (what it lost resent) no new
            governance action is simulated against it either (refused 503, retry).
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        governance: Signer,
        journal: SqlGovernanceJournal | None,
        *,
        gas_price: int | None = None,
        archive: ChainArchive | None = None,
        gate: WriteGate | None = None,
    ) -> None:
        self._w3 = w3
        self._archive = archive
        self._gate = gate
        self._deployment = deployment
        self._governance = governance
        self._journal = journal
        # governance sends rarely: ask the node each time (unless the ledger fixes the price: QBFT's 0)
        self._fees = FeePolicy(w3, gas_price=gas_price, refresh=0.0)
        # one at a time, in this process and (on PostgreSQL) across the gateway's workers: nonces in
        # journal order, never one nonce signed twice
        self._lock = SenderLock(journal.engine if journal is not None else None, governance.address)

    @property
    def sender(self) -> ChecksumAddress:
        """The governance account."""
        return self._governance.address

    def send(self, data: bytes, purpose: str) -> int:
        """Simulate, journal, send and wait for one governance transaction; returns its block.

        Raises:
            LedgerUnavailableError: the write gate is closed (the chain is being recovered), or the node
                did not answer the send (the transaction stays journaled for the recovery to resend).
            ContractRevertError: the simulation reverted (nothing was signed or journalled).
            TransactionFailedError: the transaction was mined and reverted.
            ChainError: the node refused it.
        """
        with self._gate.passage() if self._gate is not None else nullcontext():
            return self._send(data, purpose)

    def _send(self, data: bytes, purpose: str) -> int:
        call = {"from": self.sender, "to": self._deployment.address, "data": data}
        try:
            self._w3.eth.call(call)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            raise decode_revert(getattr(exc, "data", None)) from None
        with self._lock.held():
            nonce = self._w3.eth.get_transaction_count(self.sender, "pending")
            raw = self._governance.sign_transaction(
                {
                    "to": self._deployment.address,
                    "data": data,
                    "gas": GOVERNANCE_GAS,
                    **self._fees.fields(),
                    "nonce": nonce,
                    "chainId": self._deployment.chain_id,
                    "value": 0,
                }
            )
            tx_hash = "0x" + keccak(raw).hex()
            if self._journal is not None:
                self._journal.record(tx_hash, self.sender, nonce, raw, purpose)
            try:
                self._w3.eth.send_raw_transaction(raw)
            except Web3RPCError as exc:  # the node answered and refused it: it never executes
                self._finish(tx_hash, "failed", error=f"the node refused it: {exc}")
                raise ChainError(f"governance transaction refused: {exc}") from None
            except Exception as exc:
                # No answer (the chain died mid-send): it may be in the pool of the node. Marked failed,
                # a later governance transaction signed with the next nonce could never be mined on a
                # restored chain that lacks it (the multi-worker crash harness, seed 1873574198). It
                # stays journaled; the recovery resends it, and its nonce executes it at most once.
                raise LedgerUnavailableError(f"the ledger did not answer; retry shortly ({exc})") from None
            receipt = self._w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)  # type: ignore[arg-type]
        block = int(receipt["blockNumber"])
        if receipt["status"] != 1:
            self._finish(tx_hash, "failed", block=block, error="reverted")
            raise TransactionFailedError(f"governance transaction {tx_hash} failed")
        self._finish(tx_hash, "final", block=block)
        return block

    def recover(self, *, recheck_final_since: datetime | None = None) -> int:
        """Resend, in nonce order, every journalled governance transaction the chain does not hold: those
        whose receipt was never recorded and, with ``recheck_final_since``, those final since then whose
        block the chain lost. Returns how many were resent; waits for their receipts.

        One whose nonce the chain has spent on another transaction can never execute: it is marked
        failed.
        """
        if self._journal is None:
            return 0
        with self._lock.held():
            rows = list(self._journal.unfinished())
            if recheck_final_since is not None:
                rows += self._journal.final_since(recheck_final_since)
            rows = sorted(
                {r.tx_hash: r for r in rows if r.sender == self.sender}.values(), key=lambda r: r.nonce
            )
            if not rows:
                return 0
            head = int(rpc(self._w3, "eth_blockNumber", []), 16)
            spent = self._w3.eth.get_transaction_count(self.sender, "latest")
            resent: list[GovernanceRecord] = []
            for row in rows:
                receipt = rpc(self._w3, "eth_getTransactionReceipt", [row.tx_hash]) or archived_receipt(
                    self._archive, row.tx_hash
                )
                if receipt and receipt_on_chain(self._w3, receipt, head):
                    status = "final" if int(receipt["status"], 16) == 1 else "failed"
                    self._finish(row.tx_hash, status, block=int(receipt["blockNumber"], 16))
                    continue
                if row.nonce < spent:
                    self._finish(row.tx_hash, "failed", error="its nonce was spent by another transaction")
                    continue
                try:
                    self._w3.eth.send_raw_transaction(row.raw)
                except Exception as exc:  # e.g. already known to the node: its receipt tells
                    log.info("resending governance transaction %s: %s", row.tx_hash, exc)
                self._journal.mark(row.tx_hash, "submitted", error="resent: the chain did not hold it")
                resent.append(row)
            for row in resent:
                self._await_resent(row)
        if resent:
            log.warning("resent %d journalled governance transactions", len(resent))
        return len(resent)

    def _await_resent(self, row: GovernanceRecord) -> None:
        try:
            receipt = self._w3.eth.wait_for_transaction_receipt(row.tx_hash, timeout=RECEIPT_TIMEOUT)  # type: ignore[arg-type]
        except Exception as exc:  # stays submitted: the next recovery tries again
            log.error("governance transaction %s not mined after resending: %s", row.tx_hash, exc)
            return
        status = "final" if receipt["status"] == 1 else "failed"
        self._finish(row.tx_hash, status, block=int(receipt["blockNumber"]))

    def _finish(
        self, tx_hash: str, status: Any, *, block: int | None = None, error: str | None = None
    ) -> None:
        if self._journal is not None:
            self._journal.mark(tx_hash, status, block_number=block, error=error)
