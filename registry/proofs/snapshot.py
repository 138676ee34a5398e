"""Read one eBL's title at one block with everything needed to prove it offline.

Three JSON-RPC round trips, all pinned to the same block hash (EIP-1898): the header
(``eth_getBlockByHash``), the record word (``eth_getStorageAt``, which says which organisation slots to
prove), then ``eth_getProof`` of every title slot. The result is checked here as a verifier would
check it (header hash, account and storage proofs), so nothing unprovable is ever signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain.rpc import rpc
from registry.errors import ChainError
from registry.proofs.errors import TrieProofError
from registry.proofs.headers import Header
from registry.proofs.layout import ProvenTitle, RecordWord, record_slots, title_slots
from registry.proofs.mpt import verify_account, verify_storage

__all__ = ["TitleSnapshot", "prove_title", "read_snapshot"]


@dataclass(frozen=True, slots=True)
class TitleSnapshot:
    """An eBL's title at one block: the header, the ``eth_getProof`` result and the title it proves."""

    header: Header
    proof: dict[str, Any]
    title: ProvenTitle


def prove_title(header: Header, registry: str, ebl_id: int, proof: Mapping[str, Any]) -> ProvenTitle:
    """The title ``proof`` proves for ``ebl_id`` in ``registry``'s storage under ``header``'s state root.

    The proof must be of ``registry``'s account and prove exactly the slots :func:`title_slots` names
    for the record it proves (no slot missing, none extra).

    Raises:
        TrieProofError: a proof does not verify (reason ``account_proof`` / ``storage_proof``).
        ProofError: (reason ``storage_proof``) the slots proven are not the title's, or the record
            decodes to values the contract never writes.
    """
    said = str(proof.get("address", ""))
    if said.lower() != registry.lower():
        raise TrieProofError(
            f"the proof is of account {said}, not of the registry {registry}", "account_proof"
        )
    account = verify_account(header.state_root, proof)
    entries = proof.get("storageProof")
    if not isinstance(entries, list):
        raise TrieProofError("the proof has no storageProof list", "storage_proof")
    values: dict[int, int] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise TrieProofError("a storageProof entry is not an object", "storage_proof")
        slot = verify_storage(account.storage_root, entry)
        if slot.slot in values:
            raise TrieProofError(f"slot {hex(slot.slot)} is proven twice", "storage_proof")
        values[slot.slot] = slot.value
    record_slot = record_slots(ebl_id)["record"]
    if record_slot not in values:
        raise TrieProofError("the proof lacks the title record's slot", "storage_proof")
    expected = set(title_slots(ebl_id, RecordWord.decode(values[record_slot])).values())
    if set(values) != expected:
        missing, extra = len(expected - set(values)), len(set(values) - expected)
        raise TrieProofError(
            f"the proven slots are not the title's ({missing} missing, {extra} not the title's)",
            "storage_proof",
        )
    try:
        return ProvenTitle.from_slots(ebl_id, values)
    except ValueError as exc:
        raise TrieProofError(f"the proven record does not decode: {exc}", "storage_proof") from None


def _block(w3: Web3, block_hash: str) -> Header:
    block = rpc(w3, "eth_getBlockByHash", [block_hash, False])
    if not block:
        raise ChainError(f"block {block_hash} is not known to the node")
    return Header.from_node(block)


def read_snapshot(w3: Web3, registry: str, ebl_id: int, block_hash: str) -> TitleSnapshot | None:
    """The title of ``ebl_id`` at block ``block_hash``, proven; None when no such eBL exists there.

    Raises:
        ChainError: the node failed or does not know the block.
        ProofError: what the node returned does not prove itself (a node bug, or a reorg mid-read).
    """
    address = to_checksum_address(registry)
    header = _block(w3, block_hash)
    at = {"blockHash": header.hash}
    slots = record_slots(ebl_id)
    word = int(str(rpc(w3, "eth_getStorageAt", [address, hex(slots["record"]), at])), 16)
    record = RecordWord.decode(word)
    if record.status == 0:
        return None
    slots_needed = dict.fromkeys(title_slots(ebl_id, record).values())  # holder and endorsee may be one
    keys = ["0x" + slot.to_bytes(32, "big").hex() for slot in slots_needed]
    proof = dict(rpc(w3, "eth_getProof", [address, keys, at]))
    return TitleSnapshot(header, proof, prove_title(header, address, ebl_id, proof))
