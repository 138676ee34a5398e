"""What one relayed batch transaction carries: signed entries, their calldata, their gas, their outcome.

The contract has two batch entry points, ``executeBatch(SignedAction[])`` and
``issueBatch(SignedIssuance[])``; a batch holds entries of one kind. Its calldata is encoded with the
codecs :mod:`registry.chain.abi` builds once from the artifact's ABI (web3's ``build_transaction``
auto-fill costs milliseconds per call). Its gas is bounded per entry, and a batch is capped so that
bound fits in a block. In a mined batch a failing entry is skipped by the contract with
``BatchEntryFailed(index, ...)``; :func:`entry_failures` decodes those into the exception tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_typing import ChecksumAddress

from registry.chain.abi import BATCH_ENTRY_FAILED, EXECUTE_BATCH, ISSUE_BATCH
from registry.chain.errors import decode_revert
from registry.errors import ContractRevertError, TransactionFailedError
from registry.keys import IssuanceMessage, TitleActionMessage

__all__ = [
    "TRANSACTION_GAS_CAP",
    "EntryResult",
    "SignedEntry",
    "encode_batch",
    "entries_fitting",
    "entry_failures",
]

# Gas bounds per entry: the worst case (first nonce word, first balance slot) plus the self-call.
GAS_BASE = 60_000
GAS_PER_ACTION = 150_000
GAS_PER_ISSUANCE = 190_000
BLOCK_GAS_SHARE = 0.9
"""A batch asks for at most this share of the block gas limit."""
TRANSACTION_GAS_CAP = 2**24
"""Most gas one transaction may ask for from the Osaka hardfork on (EIP-7825), whatever the block gas
limit: geth, Besu and the Hardhat node refuse a transaction above it (anvil enforces it only when asked)."""


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


def encode_batch(entries: Sequence[SignedEntry]) -> tuple[bytes, int]:
    """Calldata and gas bound of one batch transaction (all entries of one kind)."""
    tuples = [e.as_tuple() for e in entries]
    if entries[0].kind == "issuance":
        return ISSUE_BATCH.encode(tuples), GAS_BASE + GAS_PER_ISSUANCE * len(entries)
    return EXECUTE_BATCH.encode(tuples), GAS_BASE + GAS_PER_ACTION * len(entries)


def entries_fitting(block_gas_limit: int, kind: Literal["action", "issuance"], max_batch: int) -> int:
    """Most entries of one kind in one transaction: ``max_batch``, or fewer if their gas bound would not
    fit in a block of ``block_gas_limit`` or would ask for more than :data:`TRANSACTION_GAS_CAP`."""
    per_entry = GAS_PER_ISSUANCE if kind == "issuance" else GAS_PER_ACTION
    budget = min(block_gas_limit * BLOCK_GAS_SHARE, TRANSACTION_GAS_CAP)
    fits = int((budget - GAS_BASE) // per_entry)
    return max(1, min(max_batch, fits))


def entry_failures(
    logs: Sequence[Mapping[str, Any]], registry_address: str
) -> dict[int, ContractRevertError | TransactionFailedError]:
    """The entries the registry skipped in a mined batch, by index, each with its decoded revert
    (``logs`` as :func:`registry.chain.relayer_receipts.receipt_fields` gives them)."""
    failures: dict[int, ContractRevertError | TransactionFailedError] = {}
    for entry_log in logs:
        topics = entry_log["topics"]
        if str(entry_log["address"]).lower() != registry_address.lower():
            continue
        if topics and bytes(topics[0]) == BATCH_ENTRY_FAILED.topic:
            index = int.from_bytes(bytes(topics[1]), "big")
            _, reason = BATCH_ENTRY_FAILED.decode_data(bytes(entry_log["data"]))
            failures[index] = decode_revert(reason)
    return failures
