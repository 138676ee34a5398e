"""Encrypted on-disk keystore: Ethereum keystore v3 files, one directory per organisation.

Layout::

    <directory>/                          0700
        <org>/                            0700   org = checksummed identity address or a slug
            <address>.json                0600   keystore v3 (scrypt, aes-128-ctr), interoperable
            <address>.meta.json           0600   sidecar: label, created_at, status, revoked_at

Sidecar format (``"format": "ebl-registry/key-meta/v1"``)::

    {"address": "0xAbC...", "created_at": "2025-01-01T00:00:00.000000+00:00",
     "format": "ebl-registry/key-meta/v1", "label": "ops-2025" | null, "org": "maersk",
     "revoked_at": null | "<iso-8601>", "status": "active" | "revoked"}

A keystore file without a sidecar (e.g. copied in by hand) is listed as active, created at the
file's modification time. Revocation only flags the sidecar: the keystore file stays, so history
signed by the key can still be attributed and the key can be examined after an incident.

Every file is written atomically (``O_EXCL`` temp file created 0600, ``fsync``, ``os.replace``,
directory ``fsync``), so a crash leaves either the old or the new file, never a torn one.

scrypt cost
-----------
``kdf_n`` is the scrypt CPU/memory cost ``N`` (``r = 8``, ``p = 1``); memory is ``128 * r * N``
bytes and unlock time is linear in ``N``. :data:`PRODUCTION_KDF_N` (2**18, geth's "standard":
256 MiB and roughly 0.5 s per unlock here) is the default and what production keystores should
use -- an unlock happens once per process, so the cost only falls on an attacker guessing
passphrases offline. :data:`DEVELOPMENT_KDF_N` (2**14: 16 MiB, ~30 ms) keeps test suites and
local stacks fast; it is also the minimum accepted. ``N`` is recorded in each file, so changing
``kdf_n`` affects only keys written afterwards; files are always unlocked with their own ``N``.

Passphrases
-----------
Only ever read from a secret file or an environment variable (:class:`PassphraseSource`), at
the moment a key is created or unlocked; they are not cached.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.errors import (
    KeyRevokedError,
    KeystoreError,
    KeystoreLockedError,
    UnknownKeyError,
)
from registry.keys._files import make_private_dir, read_json, write_json_atomic
from registry.keys._local import LocalSigner
from registry.keys.key_info import KeyInfo, KeyStatus, meta_dict, meta_path, read_key_info
from registry.keys.passphrase import PassphraseSource
from registry.keys.typed_data import SECP256K1_N, is_valid_address

__all__ = [
    "DEVELOPMENT_KDF_N",
    "MAX_KDF_N",
    "PRODUCTION_KDF_N",
    "KeyInfo",
    "KeyRevokedError",
    "KeyStatus",
    "KeyStore",
    "PassphraseSource",
]

log = logging.getLogger(__name__)

PRODUCTION_KDF_N = 2**18
"""Default scrypt ``N`` for keystore files (256 MiB, ~0.5 s per unlock)."""

DEVELOPMENT_KDF_N = 2**14
"""scrypt ``N`` for tests and local development (16 MiB, ~30 ms); also the minimum accepted."""

MAX_KDF_N = 2**20
"""Largest scrypt ``N`` accepted (1 GiB per unlock)."""


_KEYFILE = re.compile(r"^(0x[0-9a-fA-F]{40})\.json$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LOOKS_LIKE_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


# --- the keystore ----------------------------------------------------------------------------


class KeyStore:
    """Encrypted keystore directory holding the signing keys of one or more organisations.

    Thread-safe. Unlocked signers are cached in memory, so each key pays the scrypt cost once
    per process.

    Args:
        directory: root directory; created with mode 0700 if missing.
        passphrase: where the (single) keystore passphrase comes from.
        kdf_n: scrypt ``N`` for newly written keys, a power of two in
            [:data:`DEVELOPMENT_KDF_N`, :data:`MAX_KDF_N`]; default :data:`PRODUCTION_KDF_N`.

    Raises:
        KeystoreError: the directory cannot be created or is not a directory.
        ValueError: ``kdf_n`` is not an accepted value.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        passphrase: PassphraseSource,
        *,
        kdf_n: int = PRODUCTION_KDF_N,
    ) -> None:
        if (
            isinstance(kdf_n, bool)
            or not isinstance(kdf_n, int)
            or kdf_n & (kdf_n - 1)
            or not DEVELOPMENT_KDF_N <= kdf_n <= MAX_KDF_N
        ):
            raise ValueError(
                f"kdf_n must be a power of two between {DEVELOPMENT_KDF_N} and {MAX_KDF_N}, got {kdf_n!r}"
            )
        self._root = Path(directory)
        self._passphrase = passphrase
        self._kdf_n = kdf_n
        self._lock = threading.RLock()
        self._signers: dict[ChecksumAddress, LocalSigner] = {}
        make_private_dir(self._root)

    @property
    def directory(self) -> Path:
        """The root directory."""
        return self._root

    @property
    def kdf_n(self) -> int:
        """scrypt ``N`` used for newly written keys."""
        return self._kdf_n

    def __repr__(self) -> str:
        return (
            f"KeyStore(directory={str(self._root)!r}, passphrase={self._passphrase!r}, kdf_n={self._kdf_n})"
        )

    # --- creating ------------------------------------------------------------------------

    def create_key(self, org: str, *, label: str | None = None) -> KeyInfo:
        """Generate a new random key for an organisation and store it encrypted.

        The new key's signer is cached, so no unlock is needed to use it.

        Args:
            org: the organisation's identity address or slug.
            label: optional operator label (at most 200 characters).

        Returns:
            The new key's record.

        Raises:
            KeystoreError: the organisation name is invalid or the files cannot be written.
            KeystoreLockedError: the passphrase is missing.
        """
        while True:
            candidate = secrets.token_bytes(32)
            if 0 < int.from_bytes(candidate, "big") < SECP256K1_N:
                break
        return self._store(org, LocalSigner(candidate), candidate, label)

    def import_private_key(self, org: str, private_key: bytes, *, label: str | None = None) -> KeyInfo:
        """Store an existing private key (for tests and development bootstrapping).

        Args:
            org: the organisation's identity address or slug.
            private_key: the 32-byte private key.
            label: optional operator label (at most 200 characters).

        Returns:
            The imported key's record.

        Raises:
            KeyManagementError: the key is malformed (the message never includes it).
            KeystoreError: the key is already stored, the organisation name is invalid, or the
                files cannot be written.
            KeystoreLockedError: the passphrase is missing.
        """
        signer = LocalSigner(private_key)
        return self._store(org, signer, bytes(private_key), label)

    def _store(self, org: str, signer: LocalSigner, private_key: bytes, label: str | None) -> KeyInfo:
        org = _normalise_org(org)
        if label is not None and (not isinstance(label, str) or len(label) > 200):
            raise ValueError("label must be a string of at most 200 characters")
        address = signer.address
        with self._lock:
            if self._locate(address) is not None:
                raise KeystoreError(f"key {address} is already stored")
            keyfile = self._encrypt(private_key)
            org_dir = self._root / org
            make_private_dir(org_dir)
            created_at = datetime.now(UTC)
            write_json_atomic(org_dir / f"{address}.json", keyfile)
            info = KeyInfo(address=address, org=org, created_at=created_at, status="active", label=label)
            write_json_atomic(org_dir / f"{address}.meta.json", meta_dict(info))
            self._signers[address] = signer
        log.info("stored key %s for organisation %s", address, org)
        return info

    def _encrypt(self, private_key: bytes) -> dict[str, Any]:
        passphrase = self._passphrase.read()
        try:
            keyfile = Account.encrypt(private_key, passphrase, kdf="scrypt", iterations=self._kdf_n)
        except Exception as exc:
            failure = type(exc).__name__
        else:
            return keyfile
        raise KeystoreError(f"keystore encryption failed ({failure})")

    # --- reading -------------------------------------------------------------------------

    def list_keys(self, org: str) -> list[KeyInfo]:
        """The keys stored for an organisation, oldest first.

        Args:
            org: the organisation's identity address or slug.

        Returns:
            One record per key, active and revoked; empty for an unknown organisation.

        Raises:
            KeystoreError: the organisation name is invalid or a sidecar is corrupt.
        """
        org = _normalise_org(org)
        org_dir = self._root / org
        if not org_dir.is_dir():
            return []
        infos = []
        for path in org_dir.iterdir():
            match = _KEYFILE.match(path.name)
            if not match or not path.is_file():
                continue
            if to_checksum_address(match.group(1)) != match.group(1):
                log.warning("ignoring %s: keystore files must be named <checksummed address>.json", path)
                continue
            infos.append(read_key_info(org, path))
        return sorted(infos, key=lambda i: (i.created_at, i.address))

    def key_info(self, address: str) -> KeyInfo:
        """The record of one key, whichever organisation holds it.

        Args:
            address: the key address.

        Returns:
            The key's record.

        Raises:
            UnknownKeyError: no such key is stored.
        """
        located = self._locate(_normalise_address(address))
        if located is None:
            raise UnknownKeyError(f"no key {_normalise_address(address)} in the keystore")
        return read_key_info(*located)

    def export_public(self, org: str) -> dict[str, Any]:
        """The public key list of an organisation, for registration and audit (no secrets).

        Args:
            org: the organisation's identity address or slug.

        Returns:
            ``{"org": org, "keys": [{"address", "status", "label", "created_at",
            "revoked_at"}, ...]}``, JSON-ready.
        """
        org = _normalise_org(org)
        return {"org": org, "keys": [info.to_public_dict() for info in self.list_keys(org)]}

    def signer(self, address: str, *, allow_revoked: bool = False) -> LocalSigner:
        """The signer for a stored key, unlocking it on first use and caching it.

        Args:
            address: the key address (any case).
            allow_revoked: return a signer even if the key is flagged revoked (forensics only;
                such signers are not cached).

        Returns:
            The unlocked signer.

        Raises:
            UnknownKeyError: no such key is stored (or ``address`` is not an address).
            KeyRevokedError: the key is flagged revoked and ``allow_revoked`` is false.
            KeystoreLockedError: the passphrase is missing or wrong.
            KeystoreError: the keystore file is corrupt or does not hold the key its name says.
        """
        checksum = _normalise_address(address)
        with self._lock:
            cached = self._signers.get(checksum)
            if cached is not None:
                return cached
            located = self._locate(checksum)
            if located is None:
                raise UnknownKeyError(f"no key {checksum} in the keystore")
            info = read_key_info(*located)
            if not info.is_active and not allow_revoked:
                raise KeyRevokedError(f"key {checksum} is revoked")
            signer = self._unlock(located[1], checksum)
            if info.is_active:
                self._signers[checksum] = signer
        log.info("unlocked key %s of organisation %s", checksum, info.org)
        return signer

    def _unlock(self, path: Path, address: ChecksumAddress) -> LocalSigner:
        keyfile = read_json(path)
        crypto = keyfile.get("crypto")
        if keyfile.get("version") != 3 or not isinstance(crypto, dict):
            raise KeystoreError(f"{path.name} is not an Ethereum keystore v3 file")
        passphrase = self._passphrase.read()
        outcome = "corrupt"
        try:
            private_key = bytes(Account.decrypt(keyfile, passphrase))
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                outcome = "locked"
        except Exception:
            pass
        else:
            signer = LocalSigner(private_key)
            if signer.address != address:
                raise KeystoreError(f"{path.name} holds the key of another address")
            return signer
        # raised outside the handlers: the chained frames would hold the passphrase and key
        if outcome == "locked":
            raise KeystoreLockedError(f"wrong passphrase for {path.name}")
        raise KeystoreError(f"{path.name} is corrupt or uses an unsupported keystore format")

    # --- revoking ------------------------------------------------------------------------

    def mark_revoked(self, address: str) -> KeyInfo:
        """Flag a key revoked in its sidecar; the encrypted keystore file is kept.

        This is the local record only; revoking the key on chain (``REVOKE_KEY``) is the title
        service's job. Idempotent: a second call keeps the first ``revoked_at``. The cached
        signer is dropped, so :meth:`signer` refuses the key from now on.

        Args:
            address: the key address.

        Returns:
            The updated record.

        Raises:
            UnknownKeyError: no such key is stored.
        """
        checksum = _normalise_address(address)
        with self._lock:
            located = self._locate(checksum)
            if located is None:
                raise UnknownKeyError(f"no key {checksum} in the keystore")
            org, path = located
            info = read_key_info(org, path)
            if info.is_active:
                info = KeyInfo(
                    address=info.address,
                    org=info.org,
                    created_at=info.created_at,
                    status="revoked",
                    label=info.label,
                    revoked_at=datetime.now(UTC),
                )
                write_json_atomic(meta_path(path), meta_dict(info))
                log.info("flagged key %s of organisation %s revoked", checksum, org)
            self._signers.pop(checksum, None)
        return info

    # --- internals -----------------------------------------------------------------------

    def _locate(self, address: ChecksumAddress) -> tuple[str, Path] | None:
        """(org, keystore path) of a stored key, or None."""
        try:
            org_dirs = [d for d in self._root.iterdir() if d.is_dir()]
        except OSError as exc:
            raise KeystoreError(f"cannot list keystore directory {self._root}: {exc.strerror}") from None
        for org_dir in sorted(org_dirs):
            path = org_dir / f"{address}.json"
            if path.is_file():
                return org_dir.name, path
        return None


def _normalise_org(org: str) -> str:
    if isinstance(org, str):
        if org.startswith("0x") and len(org) == 42:
            if is_valid_address(org):
                return to_checksum_address(org)
        elif _SLUG.match(org) and not _LOOKS_LIKE_KEY.match(org):
            return org
    # the value is not echoed: a caller mixing up arguments could pass key material here
    raise KeystoreError(
        "organisation must be a checksummed identity address or a slug of letters, digits, '.', "
        "'_' and '-' (at most 64 characters, not starting with '.')"
    )


def _normalise_address(address: str) -> ChecksumAddress:
    if is_valid_address(address):
        return to_checksum_address(address)
    raise UnknownKeyError("not a valid key address")  # value not echoed, see _normalise_org
