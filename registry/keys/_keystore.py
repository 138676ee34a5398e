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

import contextlib
import json
import logging
import os
import re
import secrets
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.errors import (
    KeyRevokedError,
    KeystoreError,
    KeystoreLockedError,
    UnknownKeyError,
)
from registry.keys._local import LocalSigner
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

META_FORMAT = "ebl-registry/key-meta/v1"

KeyStatus = Literal["active", "revoked"]
"""Local standing of a key: ``active`` or ``revoked`` (flagged by :meth:`KeyStore.mark_revoked`)."""

_KEYFILE = re.compile(r"^(0x[0-9a-fA-F]{40})\.json$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LOOKS_LIKE_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


# --- passphrases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PassphraseSource:
    """Where a keystore passphrase is read from: a secret file or an environment variable.

    There is deliberately no way to pass a literal passphrase. Build one with
    :meth:`from_file` or :meth:`from_env`; the value is read on every :meth:`read` and never
    stored, so ``repr`` shows only the path or variable name.

    Attributes:
        kind: ``"file"`` or ``"env"``.
        location: the secret file path or the environment variable name.
    """

    kind: Literal["file", "env"]
    location: str

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PassphraseSource:
        """Read the passphrase from a secret file (e.g. a Docker or Kubernetes secret).

        The file must be a regular file not readable or writable by group or others
        (``chmod 600`` / Kubernetes ``defaultMode: 0400``). One trailing newline is ignored.

        Args:
            path: path of the secret file.

        Returns:
            The source.
        """
        return cls("file", os.fspath(path))

    @classmethod
    def from_env(cls, name: str) -> PassphraseSource:
        """Read the passphrase from an environment variable.

        Args:
            name: the variable name, e.g. ``"EBL_KEYSTORE_PASSPHRASE"``.

        Returns:
            The source.
        """
        if not name:
            raise ValueError("environment variable name must not be empty")
        return cls("env", name)

    def read(self) -> str:
        """Read the passphrase now.

        Returns:
            The passphrase (non-empty).

        Raises:
            KeystoreLockedError: the file or variable is missing or empty.
            KeystoreError: the file is group/world accessible, not a regular file, unreadable or
                not UTF-8.
        """
        if self.kind == "env":
            value = os.environ.get(self.location)
            if not value:
                raise KeystoreLockedError(f"passphrase environment variable {self.location} is not set")
            return value
        return _read_secret_file(Path(self.location))


def _read_secret_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise KeystoreLockedError(f"passphrase file {path} does not exist") from None
    except OSError as exc:
        raise KeystoreError(f"cannot open passphrase file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeystoreError(f"passphrase file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeystoreError(
                f"passphrase file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod 600 it"
            )
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeystoreError(f"passphrase file {path} is not UTF-8") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise KeystoreLockedError(f"passphrase file {path} is empty")
    return text


# --- key records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one stored key (no secrets).

    Attributes:
        address: the key's checksummed address.
        org: the organisation directory the key belongs to.
        created_at: when the key was created or imported (UTC).
        status: ``"active"`` or ``"revoked"``.
        label: optional operator label.
        revoked_at: when the key was flagged revoked (UTC), else ``None``.
    """

    address: ChecksumAddress
    org: str
    created_at: datetime
    status: KeyStatus
    label: str | None = None
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True unless the key was flagged revoked."""
        return self.status == "active"

    def to_public_dict(self) -> dict[str, Any]:
        """JSON-ready public record: address, status, label, created_at, revoked_at."""
        return {
            "address": self.address,
            "status": self.status,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


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
        _make_private_dir(self._root)

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
            _make_private_dir(org_dir)
            created_at = datetime.now(UTC)
            _write_json_atomic(org_dir / f"{address}.json", keyfile)
            info = KeyInfo(address=address, org=org, created_at=created_at, status="active", label=label)
            _write_json_atomic(org_dir / f"{address}.meta.json", _meta_dict(info))
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
            infos.append(self._info(org, path))
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
        return self._info(*located)

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
            info = self._info(*located)
            if not info.is_active and not allow_revoked:
                raise KeyRevokedError(f"key {checksum} is revoked")
            signer = self._unlock(located[1], checksum)
            if info.is_active:
                self._signers[checksum] = signer
        log.info("unlocked key %s of organisation %s", checksum, info.org)
        return signer

    def _unlock(self, path: Path, address: ChecksumAddress) -> LocalSigner:
        keyfile = _read_json(path)
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
            info = self._info(org, path)
            if info.is_active:
                info = KeyInfo(
                    address=info.address,
                    org=info.org,
                    created_at=info.created_at,
                    status="revoked",
                    label=info.label,
                    revoked_at=datetime.now(UTC),
                )
                _write_json_atomic(_meta_path(path), _meta_dict(info))
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

    def _info(self, org: str, path: Path) -> KeyInfo:
        address = to_checksum_address(path.name.removesuffix(".json"))
        meta_path = _meta_path(path)
        if not meta_path.exists():
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            return KeyInfo(address=address, org=org, created_at=mtime, status="active")
        meta = _read_json(meta_path)
        try:
            status = meta["status"]
            if meta.get("format") != META_FORMAT or status not in ("active", "revoked"):
                raise ValueError("unknown format or status")
            if to_checksum_address(meta["address"]) != address:
                raise ValueError("address does not match file name")
            label = meta.get("label")
            if label is not None and not isinstance(label, str):
                raise ValueError("label is not a string")
            revoked_at = meta.get("revoked_at")
            return KeyInfo(
                address=address,
                org=org,
                created_at=datetime.fromisoformat(meta["created_at"]),
                status=status,
                label=label,
                revoked_at=datetime.fromisoformat(revoked_at) if revoked_at else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeystoreError(f"key metadata {meta_path.name} is invalid: {exc}") from None


def _meta_path(keyfile: Path) -> Path:
    return keyfile.with_name(keyfile.name.removesuffix(".json") + ".meta.json")


def _meta_dict(info: KeyInfo) -> dict[str, Any]:
    return {"format": META_FORMAT, "org": info.org, **info.to_public_dict()}


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


def _make_private_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise KeystoreError(f"{path} exists and is not a directory") from None
        return
    except OSError as exc:
        raise KeystoreError(f"cannot create keystore directory {path}: {exc.strerror}") from None
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise KeystoreError(f"{path} does not exist") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise KeystoreError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise KeystoreError(f"{path} does not hold a JSON object")
    return data


def _write_json_atomic(path: Path, obj: dict[str, Any]) -> None:
    """Write JSON to ``path`` atomically with mode 0600."""
    data = json.dumps(obj, indent=2, sort_keys=True).encode() + b"\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise KeystoreError(f"cannot write {path}: {exc.strerror}") from None
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
