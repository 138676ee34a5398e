"""Keys: keystores, passphrases, signers and signatures."""

from __future__ import annotations

from registry.errors.base import RegistryError

__all__ = [
    "InvalidSignatureError",
    "KeyManagementError",
    "KeyRevokedError",
    "KeystoreError",
    "KeystoreLockedError",
    "SigningError",
    "UnknownKeyError",
]


class KeyManagementError(RegistryError):
    """Raised when a signing key cannot be created, loaded, rotated or used."""

    code = "key_error"


class KeystoreError(KeyManagementError):
    """Raised when a keystore file is missing, unreadable or corrupt."""

    code = "keystore_error"


class KeystoreLockedError(KeyManagementError):
    """Raised when a keystore cannot be unlocked (wrong or missing passphrase)."""

    code = "keystore_locked"


class UnknownKeyError(KeyManagementError):
    """Raised when no key with the given address or name is known."""

    code = "unknown_key"


class KeyRevokedError(KeyManagementError):
    """Raised when a signer is requested for a key flagged revoked."""

    code = "key_revoked"


class InvalidSignatureError(KeyManagementError):
    """Raised when a signature is malformed, malleable or not made by the expected key.

    Attributes:
        reason: short machine-readable cause: ``length``, ``v``, ``r``, ``s``, ``recovery``,
            ``typed_data`` or ``mismatch``.
    """

    code = "invalid_signature"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class SigningError(KeyManagementError):
    """Raised when a signer backend refuses or fails to sign."""

    code = "signing_error"
