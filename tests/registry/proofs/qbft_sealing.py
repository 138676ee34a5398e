"""Re-seal headers as a Besu QBFT network would have, from the specification (Besu cannot run here).

A header keeps every field the embedded chain gave it (so its ``transactionsRoot`` and ``receiptsRoot``,
and every proof against them, stay valid) except two: ``extraData`` becomes the QBFT list ``[vanity,
validators, vote, round, seals]``, each seal a recoverable secp256k1 signature (coincurve) of the
commit-seal digest by a test validator key, and ``parentHash`` names the re-sealed parent's QBFT hash.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain import qbft
from registry.chain.qbft import QbftExtraData, Vote
from registry.proofs.headers import Header

NAMES = ("Alba", "Brno", "Cork", "Doha")
KEYS = {n: coincurve.PrivateKey(keccak(f"qbft validator {n}".encode())) for n in (*NAMES, "Elst")}


def address(name: str) -> str:
    """The validator's address: the last 20 bytes of keccak256 of its uncompressed public key."""
    public = KEYS[name].public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak(public)[-20:])


VALIDATORS = tuple(address(n) for n in NAMES)


def seal(digest: bytes, name: str) -> bytes:
    """A commit seal: ``r ‖ s ‖ recovery id`` over the digest, as Besu's ``SECPSignature`` writes it."""
    return bytes(KEYS[name].sign_recoverable(digest, hasher=None))


@dataclass(frozen=True)
class Sealing:
    """How one header is sealed (the defaults: the four validators, three of them sealing, round 0)."""

    signers: Sequence[str] = ("Alba", "Brno", "Cork")
    round: int = 0
    validators: Sequence[str] = VALIDATORS
    vote: Vote | None = None
    seal_round: int | None = None
    """The round the seals were made for, if not the header's (a replayed seal)."""


def sealed_fields(header: dict[str, Any], how: Sealing, parent_hash: str | None) -> dict[str, Any]:
    """The header (its ``to_json`` form) re-sealed: ``extraData`` QBFT's, ``parentHash`` given, and
    its ``hash`` the QBFT block hash."""
    fields = dict(header["fields"])
    if parent_hash is not None:
        fields["parentHash"] = parent_hash
    extra = QbftExtraData(validators=tuple(how.validators), vote=how.vote, round=how.round)
    signed_extra = QbftExtraData(
        validators=extra.validators,
        vote=how.vote,
        round=how.round if how.seal_round is None else how.seal_round,
    )
    fields["extraData"] = "0x" + signed_extra.encode().hex()
    digest = qbft.commit_seal_digest(_bytes(fields))
    seals = tuple(seal(digest, n) for n in how.signers)
    fields["extraData"] = (
        "0x"
        + QbftExtraData(validators=extra.validators, vote=how.vote, round=how.round, seals=seals)
        .encode()
        .hex()
    )
    block_hash = "0x" + qbft.block_hash(_bytes(fields)).hex()
    return {"hash": block_hash, "fields": fields}


def _bytes(fields: dict[str, Any]) -> list[bytes]:
    return Header(tuple(fields.items()), "0x", qbft=True).byte_fields()


def reseal_bundle(
    bundle: dict[str, Any], sealing: dict[int, Sealing] | None = None, *, drop_head: bool = True
) -> dict[str, Any]:
    """The bundle as a QBFT chain would have produced it: every header re-sealed (``sealing`` by index,
    the default for the rest), parent links on the QBFT hashes, each action's ``blockHash`` renamed;
    the registry's signed head removed (``drop_head``)."""
    out = copy.deepcopy(bundle)
    renamed: dict[str, str] = {}
    parent: str | None = None
    for i, header in enumerate(out["headers"]):
        resealed = sealed_fields(header, (sealing or {}).get(i, Sealing()), parent)
        renamed[header["hash"]] = resealed["hash"]
        out["headers"][i] = resealed
        parent = resealed["hash"]
    for action in out["actions"]:
        action["blockHash"] = renamed[action["blockHash"]]
    if drop_head:
        out.pop("head", None)
    return out
