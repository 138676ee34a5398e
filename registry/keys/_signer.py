"""The :class:`Signer` interface every key backend implements.

The registry never touches key material outside a signer: services ask a :class:`Signer` for a
65-byte signature over an EIP-712 digest, or for a raw signed transaction, and only ever see the
signer's address.

Plugging in an HSM or a cloud KMS
---------------------------------
Subclass :class:`Signer` and implement three members:

* :attr:`Signer.address` -- derive it once from the backend's public key (uncompressed secp256k1
  point -> keccak256 -> last 20 bytes) and cache it;
* :meth:`Signer.sign_digest` -- ask the backend to sign the 32-byte digest *as is* (no further
  hashing: AWS KMS ``MessageType=DIGEST``, PKCS#11 ``CKM_ECDSA``, GCP ``digest.sha256`` field
  used as a raw 32-byte container). Backends return DER or bare ``(r, s)`` without a recovery id;
  decode DER with ``cryptography.hazmat.primitives.asymmetric.utils.decode_dss_signature`` and
  pass ``(r, s)`` to :func:`signature_from_rs`, which folds ``s`` into the lower half order (the
  contract, like OpenZeppelin's ``ECDSA``, refuses high-s) and finds ``v`` by trial recovery;
* :meth:`Signer.sign_transaction` -- for typed (EIP-1559) transactions: build
  ``unsigned = serializable_unsigned_transaction_from_dict(tx)``, sign ``unsigned.hash()`` with
  :meth:`sign_digest`, split into ``r, s, v`` and return
  ``encode_transaction(unsigned, (v - 27, r, s))`` (both from
  ``eth_account._utils.legacy_transactions``, a private module: pin eth-account). This yields
  exactly the bytes ``eth_account.Account.sign_transaction`` produces.

:meth:`Signer.sign_typed_data` has a default built on :meth:`sign_digest`, and ``__repr__`` shows
only the address; backends should keep both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.errors import InvalidSignatureError, SigningError
from registry.keys.signatures import recover_signer, typed_data_digest
from registry.keys.typed_data import SECP256K1_HALF_N, SECP256K1_N

__all__ = ["Signer", "signature_from_rs"]


class Signer(ABC):
    """A secp256k1 key that signs EIP-712 digests and transactions for one address.

    Implementations must be thread-safe and must never expose key material through ``repr``,
    ``str``, logs, exceptions or pickling.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def address(self) -> ChecksumAddress:
        """The checksummed address of the key."""

    @abstractmethod
    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a 32-byte EIP-712 digest as is (no further hashing).

        Args:
            digest: the 32-byte digest, e.g. from :meth:`TitleActionMessage.digest`.

        Returns:
            65 bytes ``r ‖ s ‖ v`` with ``s`` in the lower half order and ``v`` in {27, 28}.

        Raises:
            SigningError: the digest is malformed or the backend failed.
        """

    def sign_typed_data(self, typed: Mapping[str, Any]) -> bytes:
        """Sign a full ``eth_signTypedData_v4`` payload.

        Args:
            typed: dict with ``types``, ``primaryType``, ``domain`` and ``message``.

        Returns:
            65 bytes ``r ‖ s ‖ v``, as :meth:`sign_digest`.

        Raises:
            SigningError: the payload is not valid typed data, or signing failed.
        """
        try:
            digest = typed_data_digest(typed)
        except ValueError as exc:
            raise SigningError(str(exc)) from None
        return self.sign_digest(digest)

    @abstractmethod
    def sign_transaction(self, tx: Mapping[str, Any]) -> bytes:
        """Sign a transaction dict (legacy or typed, as accepted by ``eth_account``).

        Args:
            tx: the transaction fields, including ``nonce``, gas fields and ``chainId``.

        Returns:
            The raw signed transaction, ready for ``eth_sendRawTransaction``.

        Raises:
            SigningError: the transaction is malformed or the backend failed.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address})"


def signature_from_rs(digest: bytes, r: int, s: int, address: str) -> bytes:
    """Assemble the 65-byte ``r ‖ s ‖ v`` form from a bare ECDSA ``(r, s)`` pair.

    For HSM / KMS backends, which return signatures without a recovery id and may return
    high-s values.

    Args:
        digest: the 32-byte digest that was signed.
        r: the signature ``r``.
        s: the signature ``s`` (either half order).
        address: the signing key's address.

    Returns:
        The low-s signature with the ``v`` (27 or 28) that recovers to ``address``.

    Raises:
        SigningError: ``(r, s)`` is out of range or does not recover to ``address``.
    """
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise SigningError("signature (r, s) is out of range")
    if s > SECP256K1_HALF_N:
        s = SECP256K1_N - s
    expected = to_checksum_address(address)
    body = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    for v in (27, 28):
        candidate = body + bytes([v])
        try:
            if recover_signer(digest, candidate) == expected:
                return candidate
        except InvalidSignatureError:
            continue
    raise SigningError(f"signature does not recover to {expected}")
