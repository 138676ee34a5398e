"""Audit bundles: one JSON file holding everything an auditor needs to re-derive an eBL's chain of custody
offline (checked by :func:`registry.proofs.audit.verify_bundle`).

The bundle (``type`` :data:`BUNDLE_TYPE`):

* ``eblId``, ``chainId``, ``registry``; ``document``: the issued document (its hash is on chain);
* ``actions``: every action from the index (never a log scan), issuance first, each with where the chain
  put it (``blockNumber``, ``blockHash``, ``txHash``, ``txIndex`` and ``receiptLogIndex``, the log's
  position in its receipt), the raw signed transaction and its proof against the block's
  ``transactionsRoot``, the EIP-2718 receipt and its proof against the block's ``receiptsRoot``, and the
  acting organisation and key as the event states them, and ``keyProof``: the ``eth_getProof`` of the
  key's and the organisation's membership records at that block (:mod:`registry.proofs.key_proofs`);
* ``headers``: every block header from the first action's block to the head, oldest first, so that the
  parent hashes link each older header to the newest;
* ``head``: a compact JWS by the registry's attestation key (the keyring of title attestations, JWKS at
  ``/.well-known/jwks.json``) over ``{type: "ebl-bundle-head/1", chainId, registry, eblId, number,
  hash, actionCount}`` of the newest header: the trust root on the embedded chain. ``actionCount`` is
  the registry's word that the list is complete (``seq`` runs 0, 1, 2..., so a dropped action shows
  anyway; a dropped last one shows only through this count, signed but not proven on chain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain.rpc import rpc
from registry.errors import ChainError
from registry.proofs.headers import Header
from registry.proofs.key_proofs import read_key_proof
from registry.proofs.keyring import AttestationKeys
from registry.proofs.raw_transactions import raw_transaction
from registry.proofs.receipts import encode_receipt, indexed_trie_proof
from registry.store.queries import EventRecord

__all__ = ["BUNDLE_TYPE", "HEAD_TYPE", "build_bundle"]

BUNDLE_TYPE = "ebl-audit-bundle/2"
"""Format 2 added each action's ``keyProof``; a format-1 file is refused by name (fetch it again)."""
HEAD_TYPE = "ebl-bundle-head/1"


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if not isinstance(value, str) else value.lower()


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    return rpc(w3, method, params)


def _block_receipts(w3: Web3, block: Mapping[str, Any]) -> list[Any]:
    """Every receipt of ``block``, in order: one ``eth_getBlockReceipts``, or one
    ``eth_getTransactionReceipt`` per transaction on a node without that method (the Hardhat node)."""
    try:
        receipts = rpc(w3, "eth_getBlockReceipts", [block["hash"]])
    except ChainError:
        receipts = None
    if receipts is None:
        receipts = [rpc(w3, "eth_getTransactionReceipt", [h]) for h in block["transactions"]]
    return list(receipts)


def _action(w3: Web3, registry: str, event: EventRecord, blocks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    receipt = _rpc(w3, "eth_getTransactionReceipt", event.tx_hash)
    block_hash = receipt["blockHash"].lower()
    if block_hash not in blocks:
        block = _rpc(w3, "eth_getBlockByHash", block_hash, False)
        receipts = _block_receipts(w3, block)
        raws = [raw_transaction(w3, h) for h in block["transactions"]]
        blocks[block_hash] = {"block": block, "receipts": receipts, "raws": raws}
    cached = blocks[block_hash]
    index = int(receipt["transactionIndex"], 16)
    _, _, receipt_nodes = indexed_trie_proof([encode_receipt(r) for r in cached["receipts"]], index)
    raws = cached["raws"]
    _, _, tx_nodes = indexed_trie_proof(raws, index)
    in_receipt = [int(lg["logIndex"], 16) for lg in receipt["logs"]].index(event.log_index)
    return {
        "seq": event.seq,
        "action": event.action.dcsa_code,
        "actor": event.actor,
        "counterparty": event.counterparty,
        "actorKey": event.actor_key,
        "blockNumber": event.block_number,
        "blockHash": block_hash,
        "txHash": event.tx_hash.lower(),
        "txIndex": index,
        "receiptLogIndex": in_receipt,
        "rawTransaction": "0x" + raws[index].hex(),
        "transactionProof": [_hex(n) for n in tx_nodes],
        "receipt": "0x" + encode_receipt(receipt).hex(),
        "receiptProof": [_hex(n) for n in receipt_nodes],
        "keyProof": None
        if event.actor is None
        else read_key_proof(w3, registry, event.actor_key, event.actor, block_hash),
    }


def build_bundle(
    w3: Web3,
    *,
    registry: str,
    chain_id: int,
    ebl_id: int,
    events: Sequence[EventRecord],
    document: Mapping[str, Any],
    keys: AttestationKeys,
    head_hash: str,
) -> dict[str, Any]:
    """The audit bundle of one eBL: ``events`` (its index history), proven up to the block ``head_hash``
    (or up to the newest action's block, if the index has seen a later block than that head).

    Raises:
        HeaderError: the node served a header that does not hash to its block hash.
    """
    blocks: dict[str, dict[str, Any]] = {}
    actions = [_action(w3, registry, e, blocks) for e in events]
    head = Header.from_node(_rpc(w3, "eth_getBlockByHash", head_hash, False))
    newest = max(actions, key=lambda a: a["blockNumber"], default=None)
    if newest is not None and newest["blockNumber"] > head.number:  # indexed past the anchored head
        head = Header.from_node(_rpc(w3, "eth_getBlockByHash", newest["blockHash"], False))
    first = min((a["blockNumber"] for a in actions), default=head.number)
    headers = [
        Header.from_node(_rpc(w3, "eth_getBlockByNumber", hex(n), False)).to_json()
        for n in range(first, head.number)
    ] + [head.to_json()]
    registry = to_checksum_address(registry)
    signed = keys.signer.sign(
        {
            "type": HEAD_TYPE,
            "chainId": chain_id,
            "registry": registry,
            "eblId": str(ebl_id),
            "number": head.number,
            "hash": head.hash,
            "actionCount": len(actions),
        }
    )
    return {
        "type": BUNDLE_TYPE,
        "eblId": str(ebl_id),
        "chainId": chain_id,
        "registry": registry,
        "document": dict(document),
        "actions": actions,
        "headers": headers,
        "head": signed,
    }
