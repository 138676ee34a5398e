"""Signed title attestations: "at block N, at time T, this eBL was in this state", with the proof.

An attestation is a compact JWS (EdDSA or ES256, signed by the registry's attestation key,
:mod:`registry.proofs.keyring`) over the RFC 8785 form of a JSON payload:

* ``type`` (:data:`ATTESTATION_TYPE`), ``issuedAt`` (Unix seconds, when the registry signed);
* ``eblId`` (decimal) and ``eblIdHex``; ``documentHash``; ``presentedHash`` and ``documentMatches``
  when a document was presented (else null);
* ``status``, ``kind``, ``blankEndorsed``, ``amended``, ``predecessor``, ``successor`` in DCSA words;
* ``holder``, ``endorsee``, ``carrier``: ``{address, legalName, lei}`` (names and LEIs are the
  registry's records, signed but not on chain; the addresses are proven);
* ``chainId`` and ``registry`` (the TitleRegistry address);
* ``block``: ``{number, hash, timestamp}``;
* ``header``: the block header (:class:`~registry.proofs.headers.Header` JSON form);
* ``proof``: ``eth_getProof`` of the registry's account and every title slot at that block.

Everything is read at ONE block: the chain head the title service anchors reads at, then header,
record and proof by that block's hash (:func:`~registry.proofs.snapshot.read_snapshot`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain.views import ChainHead
from registry.errors import NotFoundError
from registry.proofs.keyring import AttestationKeys
from registry.proofs.layout import ProvenTitle
from registry.proofs.snapshot import TitleSnapshot, read_snapshot
from registry.types import ebl_id_hex

__all__ = ["ATTESTATION_TYPE", "Attestation", "Attester", "PartyProfile", "attestation_payload"]

ATTESTATION_TYPE = "ebl-title-attestation/1"
"""The payload's ``type``: what the JWS says and the version of its shape."""


@dataclass(frozen=True, slots=True)
class PartyProfile:
    """What the registry knows of an organisation off chain: its legal name and LEI."""

    legal_name: str | None = None
    lei: str | None = None

    @classmethod
    def of(cls, legal_name: str | None, identifier: str | None) -> PartyProfile:
        """A profile from the onboarding record: ``identifier`` ``LEI:<20 characters>`` gives the LEI
        (any other kind of identifier gives none)."""
        lei = identifier[4:] if identifier and identifier.upper().startswith("LEI:") else None
        return cls(legal_name, lei)


Profiles = Callable[[set[str]], Mapping[str, PartyProfile]]
"""Looks up the profiles of a set of organisation addresses (those it has none of are left out)."""


@dataclass(frozen=True, slots=True)
class Attestation:
    """A signed attestation: the compact JWS and the payload it signs."""

    jws: str
    payload: dict[str, Any]
    kid: str
    alg: str


def _party(address: str | None, profiles: Mapping[str, PartyProfile]) -> dict[str, Any] | None:
    if address is None:
        return None
    profile = profiles.get(address, PartyProfile())
    return {"address": address, "legalName": profile.legal_name, "lei": profile.lei}


def attestation_payload(
    snapshot: TitleSnapshot,
    *,
    chain_id: int,
    registry: str,
    presented_hash: str | None,
    profiles: Mapping[str, PartyProfile],
    issued_at: int,
) -> dict[str, Any]:
    """The payload attesting ``snapshot``'s title (see the module docstring for the fields)."""
    t: ProvenTitle = snapshot.title
    header = snapshot.header
    presented = presented_hash.removeprefix("0x").lower() if presented_hash is not None else None
    return {
        "type": ATTESTATION_TYPE,
        "issuedAt": issued_at,
        "eblId": str(t.ebl_id),
        "eblIdHex": ebl_id_hex(t.ebl_id),
        "documentHash": t.document_hash,
        "presentedHash": presented,
        "documentMatches": None if presented is None else presented == t.document_hash,
        "status": t.status.name,
        "kind": t.kind.name,
        "blankEndorsed": t.blank_endorsed,
        "amended": t.amended,
        "predecessor": None if t.predecessor is None else str(t.predecessor),
        "successor": None if t.successor is None else str(t.successor),
        "holder": _party(t.holder, profiles),
        "endorsee": _party(t.endorsee, profiles),
        "carrier": _party(t.carrier, profiles),
        "chainId": chain_id,
        "registry": to_checksum_address(registry),
        "block": {"number": header.number, "hash": header.hash, "timestamp": header.timestamp},
        "header": header.to_json(),
        "proof": snapshot.proof,
    }


class Attester:
    """Signs title attestations for one deployment.

    Args:
        w3: the node.
        registry: the TitleRegistry address.
        chain_id: the chain's id.
        head: the chain head the title service anchors its reads at (so an attestation never names a
            block older than one a client was told an operation became final in).
        keys: the attestation key set.
    """

    def __init__(
        self, w3: Web3, registry: str, chain_id: int, head: ChainHead, keys: AttestationKeys
    ) -> None:
        self._w3, self._registry, self._chain_id = w3, to_checksum_address(registry), chain_id
        self._head, self.keys = head, keys

    def attest(
        self,
        ebl_id: int,
        *,
        presented_hash: str | None = None,
        profiles: Profiles | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Attestation:
        """Read the eBL's title at the current head, prove it, and sign the attestation.

        Raises:
            NotFoundError: no such eBL at that block.
            ChainError: the node failed.
            ProofError: the node's answer does not prove itself.
        """
        block = self._head.latest()
        snapshot = read_snapshot(self._w3, self._registry, int(ebl_id), block.hash)
        if snapshot is None:
            raise NotFoundError("eBL", ebl_id)
        t = snapshot.title
        wanted = {a for a in (t.holder, t.endorsee, t.carrier) if a}
        payload = attestation_payload(
            snapshot,
            chain_id=self._chain_id,
            registry=self._registry,
            presented_hash=presented_hash,
            profiles=profiles(wanted) if profiles is not None else {},
            issued_at=int(clock()),
        )
        signer = self.keys.signer
        return Attestation(signer.sign(payload), payload, signer.kid, signer.alg)
