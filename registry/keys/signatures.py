"""Recovering and checking the signer of EIP-712 typed data, under the contract's (OpenZeppelin's) rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from eth_keys.datatypes import Signature
from eth_typing import ChecksumAddress

from registry.errors import InvalidSignatureError
from registry.keys.solidity_values import checksum
from registry.keys.typed_data import SECP256K1_HALF_N, SECP256K1_N

__all__ = ["recover_signer", "typed_data_digest", "verify_typed_signature"]


def typed_data_digest(typed: Mapping[str, Any]) -> bytes:
    """The EIP-712 digest of any ``eth_signTypedData_v4`` payload, via ``eth_account``.

    This is the generic (slow, ~1 ms) path used for payloads received from outside; registry
    messages should use :meth:`TitleActionMessage.digest` / :meth:`IssuanceMessage.digest`.

    Args:
        typed: dict with ``types``, ``primaryType``, ``domain`` and ``message``.

    Returns:
        The 32-byte digest.

    Raises:
        ValueError: the payload is not valid EIP-712 typed data.
    """
    try:
        signable = encode_typed_data(full_message=dict(typed))
    except Exception as exc:
        raise ValueError(f"typed data cannot be encoded: {type(exc).__name__}: {exc}") from exc
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def recover_signer(digest: bytes, signature: bytes) -> ChecksumAddress:
    """The address whose key made ``signature`` over ``digest``, under OpenZeppelin's rules.

    Args:
        digest: the 32-byte EIP-712 digest.
        signature: 65 bytes ``r ‖ s ‖ v``.

    Returns:
        The checksummed signer address.

    Raises:
        InvalidSignatureError: wrong length, ``v`` not 27/28, ``r`` or ``s`` out of range
            (including high-s), or no public key recovers.
        ValueError: ``digest`` is not 32 bytes.
    """
    if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
        raise ValueError("digest must be exactly 32 bytes")
    if not isinstance(signature, bytes | bytearray) or len(signature) != 65:
        raise InvalidSignatureError("length", "signature must be exactly 65 bytes (r || s || v)")
    r = int.from_bytes(signature[0:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise InvalidSignatureError("v", f"signature v must be 27 or 28, got {v}")
    if not 0 < r < SECP256K1_N:
        raise InvalidSignatureError("r", "signature r is out of range")
    if not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignatureError("s", "signature s is zero or in the upper half order (malleable)")
    try:
        public_key = Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(bytes(digest))
    except Exception:
        pass
    else:
        return public_key.to_checksum_address()
    # raised outside the handler so no backend traceback is chained
    raise InvalidSignatureError("recovery", "no public key recovers from this signature")


def verify_typed_signature(typed: Mapping[str, Any], signature: bytes, expected_signer: str) -> None:
    """Check that ``signature`` over the typed data was made by ``expected_signer``.

    The gateway calls this before relaying a client-signed action, so that anything the contract
    would revert on (wrong key, malleable or malformed signature) is refused early.

    Args:
        typed: the ``eth_signTypedData_v4`` payload the client signed.
        signature: 65 bytes ``r ‖ s ‖ v``.
        expected_signer: the key address the signature must come from.

    Raises:
        InvalidSignatureError: the payload cannot be hashed, the signature is malformed or
            malleable, or it recovers to another address (``reason == "mismatch"``).
        ValueError: ``expected_signer`` is not an address.
    """
    expected = checksum(expected_signer, "expected_signer")
    try:
        digest = typed_data_digest(typed)
    except ValueError as exc:
        raise InvalidSignatureError("typed_data", str(exc)) from None
    recovered = recover_signer(digest, signature)
    if recovered != expected:
        raise InvalidSignatureError("mismatch", f"signature was made by {recovered}, not {expected}")
