"""The JOSE settings of PINT: the four algorithms we sign and accept, and joserfc set up for them.

EdDSA (Ed25519), ES256, RS256 and PS256 only. joserfc warns on every use of ``EdDSA`` (RFC 9864
deprecates the polymorphic name in favour of ``Ed25519``); the DCSA peers send ``EdDSA``, so our
registry uses the same algorithm without the warning (the warning would be raised per JWS, and the
test suite turns warnings into errors).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from joserfc._rfc8037.jws_eddsa import EdDSAAlgorithm
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

__all__ = ["JWS_ALGORITHMS", "JWS_REGISTRY", "PublicKey", "b64url_decode", "decode_header", "key_fits_alg"]

JWS_ALGORITHMS = frozenset({"EdDSA", "ES256", "RS256", "PS256"})
"""The JWS ``alg`` values PINT accepts and signs with."""

PublicKey = RSAKey | ECKey | OKPKey


class _EdDSA(EdDSAAlgorithm):
    security_warning = ""  # falsy: joserfc warns only when it is set


class _Registry(JWSRegistry):
    algorithms = {**JWSRegistry.algorithms, "EdDSA": _EdDSA()}
    # a chain entry with many transactions, or an issuance manifest, stays far below this
    max_payload_length = 1_000_000
    max_header_length = 65_536  # room for an x5c chain of a few certificates


JWS_REGISTRY = _Registry(algorithms=sorted(JWS_ALGORITHMS))
"""The joserfc registry every PINT JWS is signed and verified with."""


def key_fits_alg(key: PublicKey, alg: str) -> bool:
    """True when ``key`` is of the kind ``alg`` signs with (RSA for RS256/PS256, P-256 for ES256,
    Ed25519 for EdDSA)."""
    if alg in ("RS256", "PS256"):
        return isinstance(key, RSAKey)
    if alg == "ES256":
        return isinstance(key, ECKey) and key.curve_name == "P-256"
    if alg == "EdDSA":
        return isinstance(key, OKPKey) and key.curve_name == "Ed25519"
    return False


def b64url_decode(segment: str) -> bytes:
    """Base64url without padding (RFC 7515 section 2), strictly: no padding, no other alphabet.

    Raises:
        ValueError: not base64url.
    """
    if "=" in segment or "+" in segment or "/" in segment:
        raise ValueError("not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64url: {exc}") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("not the canonical base64url of its bytes")
    return data


def decode_header(compact: str) -> dict[str, Any]:
    """The protected header of a compact JWS, not verified. Every segment must be the canonical
    base64url of its bytes: a lenient decoder reads a changed last character (unused low bits) as the
    same signature, and the JWS, a different string with a different checksum, would still verify.

    Raises:
        ValueError: not three canonical base64url segments, or a header that is not a JSON object.
    """
    parts = compact.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError("a compact JWS has three non-empty segments")
    b64url_decode(parts[1])
    b64url_decode(parts[2])
    header = json.loads(b64url_decode(parts[0]))
    if not isinstance(header, dict):
        raise ValueError("the JWS header is not a JSON object")
    return header
