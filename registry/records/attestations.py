"""A title attestation as the gateway hands it out: the compact JWS and what it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field, computed_field

from registry.records.fields import EblIdField, EblIdHex, Record
from registry.types import ebl_id_hex

if TYPE_CHECKING:
    from registry.proofs.attestation import Attestation

__all__ = ["AttestationKeyOut", "AttestationOut"]


class AttestationOut(Record):
    """A signed title attestation: ``attestation`` is the compact JWS to file (verify it offline with
    ``ebl attest verify FILE --jwks JWKS_FILE``); the other fields repeat what it is about."""

    attestation: str = Field(description="the compact JWS (EdDSA or ES256) over the attestation payload")
    kid: str = Field(description="the signing key: its RFC 7638 thumbprint, in /.well-known/jwks.json")
    alg: str
    ebl_id: EblIdField
    status: str
    document_matches: bool | None
    block_number: int
    block_hash: str
    block_time: datetime

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)

    @classmethod
    def from_domain(cls, a: Attestation) -> AttestationOut:
        p: dict[str, Any] = a.payload
        return cls(
            attestation=a.jws,
            kid=a.kid,
            alg=a.alg,
            ebl_id=int(p["eblId"]),
            status=p["status"],
            document_matches=p["documentMatches"],
            block_number=p["block"]["number"],
            block_hash=p["block"]["hash"],
            block_time=datetime.fromtimestamp(p["block"]["timestamp"], UTC),
        )


class AttestationKeyOut(Record):
    """One attestation key: its ``kid``, algorithm, and whether it signs now or was retired."""

    kid: str
    alg: str
    active: bool
    retired: bool
