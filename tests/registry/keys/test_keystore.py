"""Encrypted keystore: persistence, passphrases, file modes, revocation, public export."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from registry.errors import (
    KeyManagementError,
    KeystoreError,
    KeystoreLockedError,
    UnknownKeyError,
)
from registry.keys import (
    KeyInfo,
    KeyRevokedError,
    KeyStore,
    LocalSigner,
    PassphraseSource,
    recover_signer,
)
from registry.keys._keystore import DEVELOPMENT_KDF_N, PRODUCTION_KDF_N

CARRIER = "maersk"
BANK_IDENTITY = "0x" + "b4" * 20
SHIPPER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
DIGEST = bytes(range(32))
_GOOD = to_checksum_address("0x" + "ab" * 20)
BAD_CHECKSUM = _GOOD[:2] + _GOOD[2:].swapcase()


def mode_of(path: Path) -> int:
    """Permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


# --- creating and restarting -----------------------------------------------------------------


def test_carrier_creates_key_listed_as_active(keystore: KeyStore) -> None:
    """A carrier's new key is listed for the carrier as active, with its label."""
    info = keystore.create_key(CARRIER, label="ops-2025")
    assert keystore.list_keys(CARRIER) == [info]
    assert info.status == "active" and info.is_active
    assert info.label == "ops-2025"
    assert info.org == CARRIER
    assert info.revoked_at is None


def test_carrier_key_survives_restart(
    keystore_dir: Path, passphrase: PassphraseSource, keystore: KeyStore
) -> None:
    """A key created by one process is unlocked by a fresh KeyStore and signs as the same address."""
    info = keystore.create_key(CARRIER)
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    assert reopened.list_keys(CARRIER) == [info]
    signer = reopened.signer(info.address)
    assert signer.address == info.address
    signature = signer.sign_digest(DIGEST)
    assert recover_signer(DIGEST, signature) == info.address


def test_carrier_keys_list_oldest_first(keystore: KeyStore) -> None:
    """A carrier rotating keys sees them in creation order."""
    first = keystore.create_key(CARRIER, label="first")
    second = keystore.create_key(CARRIER, label="second")
    assert [k.address for k in keystore.list_keys(CARRIER)] == [first.address, second.address]


def test_keys_are_separated_per_organisation(keystore: KeyStore) -> None:
    """A bank's keys are not listed under the carrier, and vice versa."""
    carrier_key = keystore.create_key(CARRIER)
    bank_key = keystore.create_key(BANK_IDENTITY)
    assert keystore.list_keys(CARRIER) == [carrier_key]
    assert keystore.list_keys(BANK_IDENTITY) == [bank_key]
    assert keystore.list_keys("unknown-org") == []


def test_org_identity_address_is_normalised_to_checksum_directory(keystore: KeyStore) -> None:
    """A bank identified by its address gets one directory whatever case the address is given in."""
    info = keystore.create_key(BANK_IDENTITY.lower())
    assert info.org == to_checksum_address(BANK_IDENTITY)
    assert (keystore.directory / info.org / f"{info.address}.json").is_file()
    assert keystore.list_keys(BANK_IDENTITY.upper().replace("0X", "0x")) == [info]


@pytest.mark.parametrize(
    "org",
    ["", "../escape", "a/b", ".hidden", "x" * 65, "0x" + "ab" * 32, SHIPPER_KEY.hex(), BAD_CHECKSUM],
)
def test_invalid_organisation_name_is_refused(keystore: KeyStore, org: str) -> None:
    """Path-traversal, hidden, over-long, key-shaped or bad-checksum organisation names are refused."""
    with pytest.raises(KeystoreError) as excinfo:
        keystore.create_key(org)
    if len(org) > 10:
        assert org not in str(excinfo.value)
    assert not any(p.name.startswith(".") or p.name == "escape" for p in keystore.directory.parent.iterdir())


def test_shipper_imported_key_round_trips_address(keystore: KeyStore) -> None:
    """A shipper's dev key imported from bytes unlocks to the address eth_account derives."""
    info = keystore.import_private_key("shipper", SHIPPER_KEY, label="dev")
    assert info.address == Account.from_key(SHIPPER_KEY).address
    assert keystore.signer(info.address).address == info.address


def test_importing_same_key_twice_is_refused(keystore: KeyStore) -> None:
    """The same key cannot be stored twice, not even under another organisation."""
    keystore.import_private_key("shipper", SHIPPER_KEY)
    with pytest.raises(KeystoreError, match="already stored"):
        keystore.import_private_key("consignee", SHIPPER_KEY)


@pytest.mark.parametrize("bad_key", [b"", b"\x01" * 31, b"\x00" * 32, b"\xff" * 32])
def test_malformed_private_key_import_is_refused(keystore: KeyStore, bad_key: bytes) -> None:
    """Wrong-length, zero and out-of-range keys are refused and nothing is written."""
    with pytest.raises(KeyManagementError):
        keystore.import_private_key("shipper", bad_key)
    assert keystore.list_keys("shipper") == []


def test_keystore_files_are_standard_v3_scrypt(keystore: KeyStore, passphrase_text: str) -> None:
    """Keystore files are Ethereum keystore v3 with scrypt at the configured N, readable by eth_account."""
    info = keystore.import_private_key(CARRIER, SHIPPER_KEY)
    keyfile = json.loads((keystore.directory / CARRIER / f"{info.address}.json").read_text())
    assert keyfile["version"] == 3
    assert keyfile["crypto"]["kdf"] == "scrypt"
    assert keyfile["crypto"]["kdfparams"]["n"] == DEVELOPMENT_KDF_N
    assert bytes(Account.decrypt(keyfile, passphrase_text)) == SHIPPER_KEY


def test_production_scrypt_cost_is_the_default(keystore_dir: Path, passphrase: PassphraseSource) -> None:
    """Without kdf_n a keystore uses the production scrypt cost 2**18."""
    assert PRODUCTION_KDF_N == 2**18
    assert KeyStore(keystore_dir, passphrase).kdf_n == PRODUCTION_KDF_N


@pytest.mark.parametrize("kdf_n", [2**10, 2**14 + 1, 2**21, 0, True])
def test_weak_or_invalid_scrypt_cost_is_refused(
    keystore_dir: Path, passphrase: PassphraseSource, kdf_n: int
) -> None:
    """scrypt N below 2**14, above 2**20 or not a power of two is refused."""
    with pytest.raises(ValueError, match="kdf_n"):
        KeyStore(keystore_dir, passphrase, kdf_n=kdf_n)


# --- file system hygiene ---------------------------------------------------------------------


def test_keystore_files_are_0600(keystore: KeyStore) -> None:
    """Keystore and sidecar files are 0600 and directories 0700, whatever the umask."""
    old_umask = os.umask(0o022)
    try:
        info = keystore.create_key(CARRIER)
        keystore.mark_revoked(info.address)
    finally:
        os.umask(old_umask)
    org_dir = keystore.directory / CARRIER
    assert mode_of(keystore.directory) == 0o700
    assert mode_of(org_dir) == 0o700
    assert mode_of(org_dir / f"{info.address}.json") == 0o600
    assert mode_of(org_dir / f"{info.address}.meta.json") == 0o600


def test_no_temp_files_are_left_behind(keystore: KeyStore) -> None:
    """Atomic writes leave exactly the keystore file and its sidecar, no temp files."""
    info = keystore.create_key(CARRIER)
    keystore.mark_revoked(info.address)
    names = sorted(p.name for p in (keystore.directory / CARRIER).iterdir())
    assert names == [f"{info.address}.json", f"{info.address}.meta.json"]


def test_keystore_root_that_is_a_file_is_refused(tmp_path: Path, passphrase: PassphraseSource) -> None:
    """Pointing the keystore at a regular file raises KeystoreError."""
    clash = tmp_path / "not-a-dir"
    clash.write_text("x")
    with pytest.raises(KeystoreError, match="not a directory"):
        KeyStore(clash, passphrase, kdf_n=DEVELOPMENT_KDF_N)


# --- passphrases -----------------------------------------------------------------------------


def test_wrong_passphrase_raises_locked_error(
    keystore: KeyStore, keystore_dir: Path, make_secret: Callable[..., Path], passphrase: PassphraseSource
) -> None:
    """A keystore reopened with the wrong passphrase refuses to unlock with KeystoreLockedError."""
    info = keystore.create_key(CARRIER)
    wrong = PassphraseSource.from_file(make_secret("wrong.pass", "not the passphrase"))
    reopened = KeyStore(keystore_dir, wrong, kdf_n=DEVELOPMENT_KDF_N)
    with pytest.raises(KeystoreLockedError) as excinfo:
        reopened.signer(info.address)
    assert "not the passphrase" not in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None


def test_env_passphrase_unlocks_carrier_key(
    keystore: KeyStore,
    keystore_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    passphrase_text: str,
    passphrase: PassphraseSource,
) -> None:
    """The same passphrase supplied through an environment variable unlocks the key."""
    info = keystore.create_key(CARRIER)
    monkeypatch.setenv("EBL_KEYSTORE_passphrase_text", passphrase_text)
    reopened = KeyStore(
        keystore_dir, PassphraseSource.from_env("EBL_KEYSTORE_passphrase_text"), kdf_n=DEVELOPMENT_KDF_N
    )
    assert reopened.signer(info.address).address == info.address


def test_missing_env_passphrase_raises_locked_error(
    keystore_dir: Path, monkeypatch: pytest.MonkeyPatch, passphrase: PassphraseSource
) -> None:
    """An unset passphrase variable makes key creation fail with KeystoreLockedError."""
    monkeypatch.delenv("EBL_TEST_UNSET_passphrase_text", raising=False)
    store = KeyStore(
        keystore_dir, PassphraseSource.from_env("EBL_TEST_UNSET_passphrase_text"), kdf_n=DEVELOPMENT_KDF_N
    )
    with pytest.raises(KeystoreLockedError, match="EBL_TEST_UNSET_passphrase_text"):
        store.create_key(CARRIER)
    assert store.list_keys(CARRIER) == []


def test_missing_secret_file_raises_locked_error(
    tmp_path: Path, keystore_dir: Path, passphrase: PassphraseSource
) -> None:
    """A passphrase file that does not exist raises KeystoreLockedError."""
    store = KeyStore(
        keystore_dir, PassphraseSource.from_file(tmp_path / "absent.pass"), kdf_n=DEVELOPMENT_KDF_N
    )
    with pytest.raises(KeystoreLockedError, match="does not exist"):
        store.create_key(CARRIER)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_world_readable_secret_file_is_refused(
    make_secret: Callable[..., Path],
    keystore_dir: Path,
    mode: int,
    passphrase_text: str,
    passphrase: PassphraseSource,
) -> None:
    """A passphrase file readable or writable by group or others is refused with KeystoreError."""
    source = PassphraseSource.from_file(make_secret("loose.pass", passphrase_text, mode))
    store = KeyStore(keystore_dir, source, kdf_n=DEVELOPMENT_KDF_N)
    with pytest.raises(KeystoreError, match="group or others") as excinfo:
        store.create_key(CARRIER)
    assert passphrase_text not in str(excinfo.value)


def test_read_only_owner_secret_file_is_accepted(make_secret: Callable[..., Path]) -> None:
    """A 0400 secret file (Kubernetes defaultMode 0400) is accepted; one trailing newline is dropped."""
    source = PassphraseSource.from_file(make_secret("ro.pass", "s3cret\n", 0o400))
    assert source.read() == "s3cret"


def test_empty_secret_file_raises_locked_error(
    make_secret: Callable[..., Path], passphrase: PassphraseSource
) -> None:
    """An empty passphrase file counts as a missing passphrase."""
    with pytest.raises(KeystoreLockedError, match="empty"):
        PassphraseSource.from_file(make_secret("empty.pass", "\n")).read()


def test_passphrase_source_repr_shows_location_not_value(
    secret_file: Path, passphrase_text: str, passphrase: PassphraseSource
) -> None:
    """The repr of a passphrase source names the file, never the passphrase."""
    source = PassphraseSource.from_file(secret_file)
    assert str(secret_file) in repr(source)
    assert passphrase_text not in repr(source)


# --- unlocking -------------------------------------------------------------------------------


def test_signer_is_unlocked_once_and_cached(
    keystore: KeyStore, keystore_dir: Path, secret_file: Path, passphrase: PassphraseSource
) -> None:
    """After the first unlock the signer is served from memory, even once the secret is gone."""
    info = keystore.import_private_key(CARRIER, SHIPPER_KEY)
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    first = reopened.signer(info.address)
    secret_file.unlink()
    assert reopened.signer(info.address.lower()) is first


def test_unknown_key_raises_unknown_key_error(keystore: KeyStore) -> None:
    """Asking for a key that is not stored raises UnknownKeyError."""
    keystore.create_key(CARRIER)
    with pytest.raises(UnknownKeyError):
        keystore.signer("0x" + "00" * 19 + "01")


def test_malformed_address_raises_unknown_key_error_without_echo(keystore: KeyStore) -> None:
    """A non-address (e.g. a private key passed by mistake) is refused and not echoed."""
    with pytest.raises(UnknownKeyError) as excinfo:
        keystore.signer(SHIPPER_KEY.hex())
    assert SHIPPER_KEY.hex() not in str(excinfo.value)


def test_corrupt_keystore_file_raises_keystore_error(
    keystore: KeyStore, keystore_dir: Path, passphrase: PassphraseSource
) -> None:
    """A truncated keystore file raises KeystoreError, not a JSON error."""
    info = keystore.create_key(CARRIER)
    path = keystore_dir / CARRIER / f"{info.address}.json"
    path.write_text(path.read_text()[:50])
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    with pytest.raises(KeystoreError, match="not valid JSON"):
        reopened.signer(info.address)


def test_tampered_ciphertext_is_refused(
    keystore: KeyStore, keystore_dir: Path, passphrase: PassphraseSource
) -> None:
    """Altered ciphertext fails the MAC check, indistinguishable from a wrong passphrase."""
    info = keystore.create_key(CARRIER)
    path = keystore_dir / CARRIER / f"{info.address}.json"
    keyfile = json.loads(path.read_text())
    ciphertext = keyfile["crypto"]["ciphertext"]
    keyfile["crypto"]["ciphertext"] = ("0" if ciphertext[0] != "0" else "1") + ciphertext[1:]
    path.write_text(json.dumps(keyfile))
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    with pytest.raises(KeystoreLockedError):
        reopened.signer(info.address)


def test_keystore_file_swapped_under_another_name_is_detected(
    keystore: KeyStore, keystore_dir: Path, passphrase: PassphraseSource
) -> None:
    """A keystore file renamed to another address is refused instead of signing as the wrong key."""
    real = keystore.create_key(CARRIER)
    decoy = keystore.create_key(CARRIER)
    org_dir = keystore_dir / CARRIER
    os.replace(org_dir / f"{real.address}.json", org_dir / f"{decoy.address}.json")
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    with pytest.raises(KeystoreError, match="another address"):
        reopened.signer(decoy.address)


def test_keystore_file_without_sidecar_is_listed_active(keystore: KeyStore, keystore_dir: Path) -> None:
    """A keystore file copied in without a sidecar is listed as an active key."""
    info = keystore.import_private_key(CARRIER, SHIPPER_KEY)
    (keystore_dir / CARRIER / f"{info.address}.meta.json").unlink()
    [listed] = keystore.list_keys(CARRIER)
    assert listed.address == info.address and listed.status == "active" and listed.label is None


def test_corrupt_sidecar_raises_keystore_error(keystore: KeyStore, keystore_dir: Path) -> None:
    """A sidecar with an unknown status raises KeystoreError."""
    info = keystore.create_key(CARRIER)
    meta_path = keystore_dir / CARRIER / f"{info.address}.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["status"] = "suspended"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(KeystoreError, match="metadata"):
        keystore.list_keys(CARRIER)


# --- revocation ------------------------------------------------------------------------------


def test_revoked_key_keeps_file_and_is_listed_revoked(keystore: KeyStore, keystore_dir: Path) -> None:
    """Revoking a carrier key keeps its encrypted file and flags it revoked in the sidecar."""
    info = keystore.create_key(CARRIER)
    revoked = keystore.mark_revoked(info.address)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert (keystore_dir / CARRIER / f"{info.address}.json").is_file()
    meta = json.loads((keystore_dir / CARRIER / f"{info.address}.meta.json").read_text())
    assert meta["format"] == "ebl-registry/key-meta/v1"
    assert meta["status"] == "revoked"
    assert keystore.list_keys(CARRIER) == [revoked]


def test_revocation_is_idempotent(keystore: KeyStore) -> None:
    """Revoking twice keeps the first revocation time."""
    info = keystore.create_key(CARRIER)
    first = keystore.mark_revoked(info.address)
    assert keystore.mark_revoked(info.address) == first


def test_revocation_survives_restart(
    keystore: KeyStore, keystore_dir: Path, passphrase: PassphraseSource
) -> None:
    """A fresh KeyStore still sees the carrier's revoked key as revoked."""
    info = keystore.create_key(CARRIER)
    revoked = keystore.mark_revoked(info.address)
    reopened = KeyStore(keystore_dir, passphrase, kdf_n=DEVELOPMENT_KDF_N)
    assert reopened.list_keys(CARRIER) == [revoked]
    assert reopened.key_info(info.address) == revoked


def test_revoked_key_refuses_signer_unless_allowed(keystore: KeyStore) -> None:
    """A revoked key's cached signer is dropped; it is only handed out with allow_revoked."""
    info = keystore.create_key(CARRIER)
    keystore.signer(info.address)
    keystore.mark_revoked(info.address)
    with pytest.raises(KeyRevokedError):
        keystore.signer(info.address)
    assert keystore.signer(info.address, allow_revoked=True).address == info.address


def test_revoking_unknown_key_raises_unknown_key_error(keystore: KeyStore) -> None:
    """Revoking a key that is not stored raises UnknownKeyError."""
    with pytest.raises(UnknownKeyError):
        keystore.mark_revoked("0x" + "00" * 19 + "02")


# --- public export ---------------------------------------------------------------------------


def test_export_public_lists_addresses_and_revocations(keystore: KeyStore) -> None:
    """The public export of a bank lists every key with its status and timestamps."""
    old = keystore.create_key(BANK_IDENTITY, label="old")
    new = keystore.create_key(BANK_IDENTITY, label="new")
    revoked = keystore.mark_revoked(old.address)
    exported = keystore.export_public(BANK_IDENTITY)
    assert exported["org"] == old.org
    assert exported["keys"] == [revoked.to_public_dict(), new.to_public_dict()]
    assert exported["keys"][0]["status"] == "revoked"
    assert exported["keys"][0]["revoked_at"] == revoked.revoked_at.isoformat()  # type: ignore[union-attr]
    json.dumps(exported)


def test_export_public_contains_no_secrets(
    keystore: KeyStore, passphrase_text: str, passphrase: PassphraseSource
) -> None:
    """The public export contains neither the key, the passphrase nor any keystore crypto field."""
    keystore.import_private_key(CARRIER, SHIPPER_KEY)
    text = json.dumps(keystore.export_public(CARRIER))
    assert SHIPPER_KEY.hex() not in text.lower()
    assert passphrase_text not in text
    for field in ("crypto", "ciphertext", "mac", "salt", "kdf"):
        assert field not in text


def test_keystore_repr_names_no_secret(
    keystore: KeyStore, passphrase_text: str, passphrase: PassphraseSource
) -> None:
    """The keystore repr shows directory, passphrase location and scrypt cost only."""
    info = keystore.import_private_key(CARRIER, SHIPPER_KEY)
    signer = keystore.signer(info.address)
    for text in (repr(keystore), str(keystore), repr(signer), str(signer), repr(info)):
        assert SHIPPER_KEY.hex() not in text.lower()
        assert passphrase_text not in text


def test_key_info_is_frozen(keystore: KeyStore) -> None:
    """KeyInfo records cannot be altered after the fact."""
    info: KeyInfo = keystore.create_key(CARRIER)
    with pytest.raises(AttributeError):
        info.status = "revoked"  # type: ignore[misc]


def test_created_signer_is_a_local_signer_usable_without_unlock(
    keystore: KeyStore, secret_file: Path
) -> None:
    """A freshly created key signs straight away (cached at creation)."""
    info = keystore.create_key(CARRIER)
    secret_file.unlink()
    signer = keystore.signer(info.address)
    assert isinstance(signer, LocalSigner)
    assert recover_signer(DIGEST, signer.sign_digest(DIGEST)) == info.address


def test_private_key_never_in_keystore_errors_or_logs(
    keystore: KeyStore,
    keystore_dir: Path,
    make_secret: Callable[..., Path],
    passphrase_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Keystore reprs, logs and every error raised around a shipper's key never show the key or passphrase."""
    caplog.set_level(logging.DEBUG)
    info = keystore.import_private_key("shipper", SHIPPER_KEY)
    wrong = KeyStore(
        keystore_dir,
        PassphraseSource.from_file(make_secret("wrong.pass", "wrong")),
        kdf_n=DEVELOPMENT_KDF_N,
    )
    calls: list[Callable[[], object]] = [
        lambda: keystore.import_private_key("shipper", SHIPPER_KEY),
        lambda: keystore.import_private_key("shipper", SHIPPER_KEY[:31]),
        lambda: keystore.import_private_key(SHIPPER_KEY.hex(), b"\x01" * 32),
        lambda: keystore.signer(SHIPPER_KEY.hex()),
        lambda: wrong.signer(info.address),
    ]
    texts = [repr(keystore), str(keystore), repr(wrong), repr(keystore.signer(info.address))]
    for call in calls:
        with pytest.raises(KeyManagementError) as excinfo:
            call()
        texts += [str(excinfo.value), repr(excinfo.value)]
    keystore.mark_revoked(info.address)
    with pytest.raises(KeyRevokedError) as revoked:
        keystore.signer(info.address)
    texts += [str(revoked.value), *(r.getMessage() for r in caplog.records)]
    as_int = str(int.from_bytes(SHIPPER_KEY, "big"))
    leaks = [SHIPPER_KEY.hex(), SHIPPER_KEY.hex().upper(), as_int, passphrase_text]
    assert [t for t in texts if any(leak in t for leak in leaks)] == []


def test_keystore_file_not_named_by_checksum_address_is_ignored(
    keystore: KeyStore, keystore_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A keystore file named with a lower-case address is skipped with a warning, not half-listed."""
    info = keystore.import_private_key(CARRIER, SHIPPER_KEY)
    org_dir = keystore_dir / CARRIER
    os.replace(org_dir / f"{info.address}.json", org_dir / f"{info.address.lower()}.json")
    with caplog.at_level(logging.WARNING):
        assert keystore.list_keys(CARRIER) == []
    assert "checksummed address" in caplog.text
