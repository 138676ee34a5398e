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

Blocks, raw transactions, receipts and headers come from the registry's chain archive
(:class:`~registry.store.archive.ChainArchive`, verified when it took them), not from the node: a node
that pruned old blocks still yields a complete bundle, and one request reads a few database rows rather
than calling the node per action and per header. Only ``keyProof`` asks the node (``eth_getProof`` at
the action's block: ``null``, "not proven", when the node no longer holds that state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.errors import ArchiveGapError
from registry.proofs.key_proofs import read_key_proof
from registry.proofs.keyring import AttestationKeys
from registry.proofs.receipts import decode_receipt, indexed_trie_proof
from registry.store.archive import ArchivedBlock, ChainArchive
from registry.store.queries import EventRecord

__all__ = ["BUNDLE_TYPE", "HEAD_TYPE", "build_bundle"]

BUNDLE_TYPE = "ebl-audit-bundle/2"
"""Format 2 added each action's ``keyProof``; a format-1 file is refused by name (fetch it again)."""
HEAD_TYPE = "ebl-bundle-head/1"


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if not isinstance(value, str) else value.lower()


def _archived(archive: ChainArchive, number: int, blocks: dict[int, ArchivedBlock]) -> ArchivedBlock:
    if number not in blocks:
        block = archive.block(number)
        if block is None:
            raise ArchiveGapError(number, "the archive does not hold it")
        blocks[number] = block
    return blocks[number]


def _action(
    archive: ChainArchive, w3: Web3, registry: str, event: EventRecord, blocks: dict[int, ArchivedBlock]
) -> dict[str, Any]:
    block = _archived(archive, event.block_number, blocks)
    tx_hashes = block.tx_hashes
    if event.tx_hash.lower() not in tx_hashes:
        raise ArchiveGapError(event.block_number, f"the archived block lacks transaction {event.tx_hash}")
    index = tx_hashes.index(event.tx_hash.lower())
    _, _, receipt_nodes = indexed_trie_proof(block.receipts, index)
    _, _, tx_nodes = indexed_trie_proof(block.raws, index)
    before = sum(len(decode_receipt(r, f"receipt {i}").logs) for i, r in enumerate(block.receipts[:index]))
    return {
        "seq": event.seq,
        "action": event.action.dcsa_code,
        "actor": event.actor,
        "counterparty": event.counterparty,
        "actorKey": event.actor_key,
        "blockNumber": event.block_number,
        "blockHash": block.hash,
        "txHash": event.tx_hash.lower(),
        "txIndex": index,
        "receiptLogIndex": event.log_index - before,
        "rawTransaction": "0x" + block.raws[index].hex(),
        "transactionProof": [_hex(n) for n in tx_nodes],
        "receipt": "0x" + block.receipts[index].hex(),
        "receiptProof": [_hex(n) for n in receipt_nodes],
        "keyProof": None
        if event.actor is None
        else read_key_proof(w3, registry, event.actor_key, event.actor, block.hash),
    }


def build_bundle(
    w3: Web3,
    *,
    archive: ChainArchive,
    registry: str,
    chain_id: int,
    ebl_id: int,
    events: Sequence[EventRecord],
    document: Mapping[str, Any],
    keys: AttestationKeys,
    head_hash: str,
) -> dict[str, Any]:
    """The audit bundle of one eBL: ``events`` (its index history), proven up to the block ``head_hash``
    (or, when the archive does not hold that block yet or the index has seen a later block, up to the
    archive's newest block); blocks, receipts and headers from ``archive``, key proofs from ``w3``.

    Raises:
        ArchiveGapError: the archive lacks a block or transaction the bundle needs.
        HeaderError: an archived header does not hash to its block hash.
    """
    blocks: dict[int, ArchivedBlock] = {}
    actions = [_action(archive, w3, registry, e, blocks) for e in events]
    head = archive.header(block_hash=head_hash)
    newest = max((a["blockNumber"] for a in actions), default=-1)
    if head is None or newest > head.number:  # the head is not archived yet, or indexed past it
        tip = archive.tip()
        if tip is None:
            raise ArchiveGapError(archive.first_block, "the archive holds no block yet")
        head = archive.header(number=tip[0])
        assert head is not None
    first = min((a["blockNumber"] for a in actions), default=head.number)
    headers = [h.to_json() for h in archive.headers(first, head.number - 1)] + [head.to_json()]
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
