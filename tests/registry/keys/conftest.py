"""Fixtures for the key-management tests: real keystores in tmp_path, fast scrypt."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from registry.keys import KeyStore, PassphraseSource
from registry.keys._keystore import DEVELOPMENT_KDF_N

PASSPHRASE = "correct horse battery staple"


def write_secret(path: Path, value: str, mode: int = 0o600) -> Path:
    """Write a passphrase secret file with the given mode (the test-only way to supply one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    os.chmod(path, mode)
    return path


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A 0600 secret file holding the keystore passphrase."""
    return write_secret(tmp_path / "keystore.pass", PASSPHRASE + "\n")


@pytest.fixture
def passphrase(secret_file: Path) -> PassphraseSource:
    """Passphrase source reading the secret file."""
    return PassphraseSource.from_file(secret_file)


@pytest.fixture
def keystore_dir(tmp_path: Path) -> Path:
    """Root directory of the keystore under test (not yet created)."""
    return tmp_path / "keys"


@pytest.fixture
def keystore(keystore_dir: Path, passphrase: PassphraseSource) -> KeyStore:
    """A keystore with development scrypt cost."""
    return KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)


@pytest.fixture
def make_secret(tmp_path: Path) -> Callable[..., Path]:
    """Factory writing further secret files: ``make_secret(name, value, mode=0o600)``."""

    def make(name: str, value: str, mode: int = 0o600) -> Path:
        return write_secret(tmp_path / name, value, mode)

    return make


@pytest.fixture
def passphrase_text() -> str:
    """The passphrase held by ``secret_file`` (for asserting it never leaks)."""
    return PASSPHRASE
