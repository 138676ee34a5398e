"""In-process signer over a raw secp256k1 private key (eth_account, coincurve backend)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_typing import ChecksumAddress

from registry.errors import KeyManagementError, SigningError
from registry.keys._signer import Signer
from registry.keys.typed_data import SECP256K1_HALF_N, SECP256K1_N

__all__ = ["LocalSigner"]


class LocalSigner(Signer):
    """Signs with a private key held in process memory.

    Usually obtained from :meth:`registry.keys.KeyStore.signer`, which unlocks an encrypted
    keystore file. Signing goes through ``eth_account`` on the ``coincurve`` (libsecp256k1)
    backend: deterministic RFC 6979 nonces, low-s signatures, about 70 µs per signature.

    Key hygiene: the key lives in one private slot; ``repr``/``str`` show only the address;
    pickling and copying raise ``TypeError``; exceptions raised by the signing library are
    replaced by a :class:`~registry.errors.SigningError` carrying no chained traceback (whose
    frames would hold the key) and no message that contains the key. This is hygiene against
    accidental disclosure, not isolation: code in the same process can still read the key.
    Use an HSM-backed :class:`Signer` where that matters.

    Args:
        private_key: the 32-byte big-endian secp256k1 private key.

    Raises:
        KeyManagementError: the key is not 32 bytes or not in ``[1, n - 1]``; the message never
            includes the key.
    """

    __slots__ = ("_address", "_key")

    def __init__(self, private_key: bytes) -> None:
        if not isinstance(private_key, bytes | bytearray) or len(private_key) != 32:
            raise KeyManagementError("private key must be exactly 32 bytes")
        if not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
            raise KeyManagementError("private key is out of range for secp256k1")
        self._key = PrivateKey(bytes(private_key))
        self._address: ChecksumAddress = self._key.public_key.to_checksum_address()

    @property
    def address(self) -> ChecksumAddress:
        """The checksummed address of the key."""
        return self._address

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a 32-byte EIP-712 digest as is.

        Args:
            digest: the 32-byte digest.

        Returns:
            65 bytes ``r ‖ s ‖ v``, low-s, ``v`` in {27, 28}.

        Raises:
            SigningError: the digest is not 32 bytes, or the backend failed.
        """
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise SigningError("digest must be exactly 32 bytes")
        try:
            signed = Account.unsafe_sign_hash(bytes(digest), self._key)
        except Exception as exc:
            failure = self._describe(exc)
        else:
            r, s, v = int(signed.r), int(signed.s), int(signed.v)
            if s > SECP256K1_HALF_N:  # libsecp256k1 never does this; keep the contract's rule anyway
                s, v = SECP256K1_N - s, 55 - v
            return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
        # raised outside the handler: the chained traceback's frames would hold the key
        raise SigningError(f"local signing failed: {failure}")

    def sign_transaction(self, tx: Mapping[str, Any]) -> bytes:
        """Sign a transaction dict with ``eth_account.Account.sign_transaction``.

        Args:
            tx: the transaction fields (``to``, ``data``, ``nonce``, gas fields, ``chainId`` ...).

        Returns:
            The raw signed transaction bytes.

        Raises:
            SigningError: the transaction is malformed or signing failed; the message names the
                problem but never contains the key.
        """
        try:
            raw = bytes(Account.sign_transaction(dict(tx), self._key).raw_transaction)
        except Exception as exc:
            failure = self._describe(exc)
        else:
            return raw
        raise SigningError(f"transaction signing failed: {failure}")

    def __getstate__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} holds a private key and cannot be pickled or copied")

    def _describe(self, exc: BaseException) -> str:
        """The exception's type and message, or only its type if the message could reveal the key."""
        text = f"{type(exc).__name__}: {exc}"
        raw = self._key.to_bytes()
        lowered = text.lower()
        if raw.hex() in lowered or str(int.from_bytes(raw, "big")) in lowered or repr(raw) in text:
            return f"{type(exc).__name__} (message withheld)"
        return text
