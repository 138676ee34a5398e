"""The acting key's standing at an action's block, proven from the registry's storage.

Every action is made by a key the contract resolves to its organisation (``Membership._actor``: an
active key of an active organisation). A bundle does not take the event's word for it: each action
carries ``keyProof``, an ``eth_getProof`` of two slots of the registry (which is also the membership
contract) against the **state root of the action's block**:

* ``_keys[actorKey]`` -- the packed ``KeyRecord``: the organisation (low 20 bytes) and the
  ``KeyStatus`` (byte 20: 1 active, 2 revoked);
* ``_orgs[actor]`` -- the packed ``Organisation``: its ``OrgStatus`` (byte 5: 1 active, 2 suspended).

The state root is the state *after* the block. A key's status only ever moves None → Active → Revoked
(a revoked key is never reused), so "registered to the actor and active after the block" means it was
the actor's key when it acted. A key revoked, or an organisation suspended, by the end of the block
may have been so after the action, within the same block: reported, not refused. A key registered to
another organisation, or never registered, is refused (``action_key``). What is not proven: the
organisation's other keys (a mapping cannot be listed), and the order of transactions within a block.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain.rpc import rpc
from registry.errors import ChainError
from registry.proofs.errors import ProofError, TrieProofError
from registry.proofs.headers import Header
from registry.proofs.layout import DECLARATION_SLOTS, mapping_slot
from registry.proofs.mpt import verify_account, verify_storage

log = logging.getLogger(__name__)

__all__ = ["key_slots", "prove_key", "read_key_proof"]

_ACTIVE, _REVOKED = 1, 2
_ORG_STATUS_BYTE = 5
_KEY_STATUS_BYTE = 20


def key_slots(actor_key: str, actor: str) -> dict[str, int]:
    """The slots of ``_keys[actor_key]`` and ``_orgs[actor]``."""
    return {
        "key": mapping_slot(int(actor_key, 16), DECLARATION_SLOTS["_keys"]),
        "org": mapping_slot(int(actor, 16), DECLARATION_SLOTS["_orgs"]),
    }


def read_key_proof(
    w3: Web3, registry: str, actor_key: str, actor: str, block_hash: str
) -> dict[str, Any] | None:
    """The ``eth_getProof`` of the two slots at ``block_hash`` (EIP-1898), for the bundle builder; None
    when the node no longer holds that block's state (the embedded chain keeps a bounded number of
    states, docs/ledger.md), and the verifier then says the key is not proven for that action."""
    keys = ["0x" + s.to_bytes(32, "big").hex() for s in key_slots(actor_key, actor).values()]
    at = {"blockHash": block_hash}
    try:
        return dict(rpc(w3, "eth_getProof", [to_checksum_address(registry), keys, at]))
    except ChainError as exc:
        log.info("no key proof at %s: %s", block_hash, exc)
        return None


def prove_key(
    header: Header, registry: str, actor: str, actor_key: str, proof: Any, where: str
) -> str | None:
    """Check ``proof`` against ``header``'s state root; None when the key was the actor's active key
    at the end of the block, else what is not proven (a revocation or suspension within the block).

    Raises:
        ProofError: ``account_proof`` / ``storage_proof`` when the proof does not verify or proves
            other slots; ``action_key`` when the key is not registered to the actor.
    """
    if proof is None:
        return (
            f"{where}: the acting key at block {header.number} is not proven (the node that built the "
            "bundle no longer held that block's state); its signature and the proven event still bind it"
        )
    if not isinstance(proof, Mapping) or str(proof.get("address", "")).lower() != registry.lower():
        raise TrieProofError(f"{where}: the key proof is not of the registry's account", "account_proof")
    account = verify_account(header.state_root, proof)
    entries = proof.get("storageProof")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise TrieProofError(f"{where}: the key proof has no storageProof list", "storage_proof")
    values = {}
    for entry in entries:
        slot = verify_storage(account.storage_root, entry)
        values[slot.slot] = slot.value
    slots = key_slots(actor_key, actor)
    if len(entries) != 2 or set(values) != set(slots.values()):
        raise TrieProofError(
            f"{where}: the key proof is not of the acting key and organisation", "storage_proof"
        )
    record = values[slots["key"]]
    owner = to_checksum_address((record & (2**160 - 1)).to_bytes(20, "big"))
    status = (record >> (8 * _KEY_STATUS_BYTE)) & 0xFF
    if status not in (_ACTIVE, _REVOKED) or owner != to_checksum_address(actor):
        raise ProofError(
            f"{where}: at block {header.number} the key {actor_key} is not a key of {actor}", "action_key"
        )
    org_status = (values[slots["org"]] >> (8 * _ORG_STATUS_BYTE)) & 0xFF
    if org_status == 0:
        raise ProofError(f"{where}: at block {header.number} {actor} is not a member", "action_key")
    if status == _REVOKED:
        return f"{where}: key {actor_key} revoked by the end of block {header.number} (maybe after acting)"
    if org_status != _ACTIVE:
        return f"{where}: {actor} suspended by the end of block {header.number} (maybe after acting)"
    return None
