"""The PINT response codes and the causes of a refused signature.

:class:`ResponseCode` is exactly the set ``EnvelopeTransferFinishedResponse.responseCode`` enumerates in
``EBL_PINT_v3.0.0.yaml`` (it has no ``BETR``). Each code carries the HTTP status the YAML pairs it with.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ResponseCode", "SignatureCause"]


class ResponseCode(StrEnum):
    """``EnvelopeTransferFinishedResponse.responseCode``, as the YAML spells it."""

    RECE = "RECE"
    """Received: the envelope transfer is accepted (HTTP 200)."""
    DUPE = "DUPE"
    """Duplicated envelope: accepted before; the earlier acceptance stands (HTTP 200)."""
    BSIG = "BSIG"
    """Bad signature: a JWS of the envelope did not verify, or its key is not trusted (HTTP 422)."""
    BENV = "BENV"
    """Bad envelope: the envelope cannot be accepted, now or later (HTTP 422)."""
    INCD = "INCD"
    """Inconclusive document: an additional document's checksum or size is wrong (HTTP 409; not a
    refusal of the transfer, and never an answer to the start of one)."""
    MDOC = "MDOC"
    """Missing document: additional documents are still to be sent (HTTP 409; not a refusal)."""
    DISE = "DISE"
    """Disputed envelope: it contradicts the chain the receiver knows; risk of double spending
    (HTTP 409)."""

    @property
    def http_status(self) -> int:
        """The HTTP status the YAML pairs this code with."""
        return _HTTP_STATUS[self]

    @property
    def accepted(self) -> bool:
        """True for the codes that accept the transfer (``RECE``, ``DUPE``)."""
        return self in (ResponseCode.RECE, ResponseCode.DUPE)


_HTTP_STATUS = {
    ResponseCode.RECE: 200,
    ResponseCode.DUPE: 200,
    ResponseCode.BSIG: 422,
    ResponseCode.BENV: 422,
    ResponseCode.INCD: 409,
    ResponseCode.MDOC: 409,
    ResponseCode.DISE: 409,
}


class SignatureCause(StrEnum):
    """Why a JWS was refused (every cause answers ``BSIG``; the cause says which one)."""

    UNKNOWN_KEY_ID = "UNKNOWN_KEY_ID"
    """No trusted platform has a key with the JWS header's ``kid`` (or the header has none)."""
    UNTRUSTED_CERTIFICATE = "UNTRUSTED_CERTIFICATE"
    """The key's X.509 chain does not lead to a configured trust anchor, or is not the key's."""
    EXPIRED_CERTIFICATE = "EXPIRED_CERTIFICATE"
    """A certificate of the key's chain is outside its validity period now."""
    REVOKED_CERTIFICATE = "REVOKED_CERTIFICATE"
    """A certificate of the key's chain is on a configured CRL of its issuer."""
    BAD_SIGNATURE = "BAD_SIGNATURE"
    """The signature does not verify with the key (or the JWS cannot be decoded)."""
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    """The ``alg`` is not one of EdDSA (Ed25519), ES256, RS256, PS256, or does not fit the key."""
