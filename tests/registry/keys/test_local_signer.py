"""LocalSigner: signatures, transactions, key hygiene, the HSM assembly helper."""

from __future__ import annotations

import copy
import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_keys.backends import get_backend
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import KeyManagementError, RegistryError, SigningError
from registry.keys import LocalSigner, Signer, recover_signer
from registry.keys._signer import signature_from_rs
from registry.keys.signatures import typed_data_digest
from registry.keys.typed_data import SECP256K1_HALF_N, SECP256K1_N

SHIPPER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
SHIPPER_ADDRESS = Account.from_key(SHIPPER_KEY).address
DIGEST = bytes.fromhex("aa" * 32)

digests = st.binary(min_size=32, max_size=32)
private_keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))


def key_renderings(key: bytes) -> list[str]:
    """Every textual form of a private key that would count as a leak."""
    return [key.hex(), "0x" + key.hex(), key.hex().upper(), str(int.from_bytes(key, "big")), repr(key)]


def eip1559_tx(**overrides: Any) -> dict[str, Any]:
    """A minimal EIP-1559 transaction dict for chain 31337."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": 31337,
        "nonce": 0,
        "to": "0x" + "22" * 20,
        "value": 0,
        "data": "0x",
        "gas": 100_000,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    tx.update(overrides)
    return tx


@pytest.fixture
def shipper() -> LocalSigner:
    """The shipper's signer over a well-known dev key."""
    return LocalSigner(SHIPPER_KEY)


def test_shipper_signature_recovers_to_shipper_address(shipper: LocalSigner) -> None:
    """A digest signed by the shipper recovers to the shipper's address."""
    assert shipper.address == SHIPPER_ADDRESS
    assert isinstance(shipper, Signer)
    assert recover_signer(DIGEST, shipper.sign_digest(DIGEST)) == SHIPPER_ADDRESS


@settings(max_examples=50, deadline=None)
@given(key=private_keys, digest=digests)
def test_signatures_are_65_bytes_low_s_with_v_27_or_28(key: bytes, digest: bytes) -> None:
    """For any key and digest the signature is r||s||v, low-s, v in {27, 28}, and recovers to the key."""
    signer = LocalSigner(key)
    signature = signer.sign_digest(digest)
    assert len(signature) == 65
    assert 0 < int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N
    assert signature[64] in (27, 28)
    assert recover_signer(digest, signature) == signer.address


def test_signing_is_deterministic(shipper: LocalSigner) -> None:
    """RFC 6979 nonces: the same digest always yields the same signature."""
    assert shipper.sign_digest(DIGEST) == shipper.sign_digest(bytes.fromhex(DIGEST.hex()))


def test_signature_matches_eth_account_reference(shipper: LocalSigner) -> None:
    """sign_digest is byte-identical to eth_account's unsafe_sign_hash."""
    assert shipper.sign_digest(DIGEST) == bytes(Account.unsafe_sign_hash(DIGEST, SHIPPER_KEY).signature)


def test_coincurve_backend_is_active() -> None:
    """eth_keys signs through coincurve (libsecp256k1), not the pure-Python backend."""
    assert type(get_backend()).__name__ == "CoinCurveECCBackend"


@pytest.mark.parametrize("bad_digest", [b"", b"\x00" * 31, b"\x00" * 33, "aa" * 32])
def test_digest_of_wrong_length_raises_signing_error(shipper: LocalSigner, bad_digest: Any) -> None:
    """Anything but 32 bytes is refused with SigningError before reaching the backend."""
    with pytest.raises(SigningError, match="32 bytes"):
        shipper.sign_digest(bad_digest)


def test_sign_typed_data_signs_the_eip712_digest(shipper: LocalSigner) -> None:
    """sign_typed_data equals sign_digest over the typed payload's EIP-712 digest."""
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Ping": [{"name": "n", "type": "uint256"}],
        },
        "primaryType": "Ping",
        "domain": {"name": "test"},
        "message": {"n": 1},
    }
    assert shipper.sign_typed_data(typed) == shipper.sign_digest(typed_data_digest(typed))


def test_sign_typed_data_rejects_malformed_payload(shipper: LocalSigner) -> None:
    """A payload that is not EIP-712 typed data raises SigningError."""
    with pytest.raises(SigningError, match="typed data"):
        shipper.sign_typed_data({"primaryType": "Nope"})


def test_carrier_signed_transaction_recovers_sender(shipper: LocalSigner) -> None:
    """A transaction signed by the signer is raw bytes whose sender is the signer."""
    raw = shipper.sign_transaction(eip1559_tx())
    assert isinstance(raw, bytes)
    assert raw[0] == 2
    assert Account.recover_transaction(raw) == shipper.address


def test_malformed_transaction_raises_signing_error_without_traceback(shipper: LocalSigner) -> None:
    """A bad transaction raises SigningError naming the problem, with no chained eth_account traceback."""
    with pytest.raises(SigningError) as excinfo:
        shipper.sign_transaction(eip1559_tx(gas="lots"))
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None
    assert "transaction signing failed" in str(excinfo.value)


def test_private_key_never_in_repr_or_errors(shipper: LocalSigner, caplog: pytest.LogCaptureFixture) -> None:
    """repr, str, format, logs and every error message of a signer are free of the private key."""
    caplog.set_level(logging.DEBUG)
    texts = [repr(shipper), str(shipper), f"{shipper}", f"{shipper!r}", repr([shipper])]
    failures: list[BaseException] = []
    calls: list[Callable[[], object]] = [
        lambda: shipper.sign_digest(b"short"),
        lambda: shipper.sign_transaction(eip1559_tx(gas="lots")),
        lambda: shipper.sign_transaction(eip1559_tx(chainId=None)),
        lambda: shipper.sign_transaction({"from": "0x" + "33" * 20, **eip1559_tx()}),
        lambda: shipper.sign_typed_data({}),
        lambda: pickle.dumps(shipper),
    ]
    for call in calls:
        with pytest.raises((RegistryError, TypeError)) as excinfo:
            call()
        failures.append(excinfo.value)
    for exc in failures:
        texts += [str(exc), repr(exc), *map(str, exc.args)]
        assert exc.__cause__ is None or SHIPPER_KEY.hex() not in str(exc.__cause__)
    texts += [record.getMessage() for record in caplog.records]
    assert texts == [t for t in texts if not any(k in t for k in key_renderings(SHIPPER_KEY))]
    assert repr(shipper) == f"LocalSigner(address={SHIPPER_ADDRESS})"


def test_withheld_message_when_backend_error_quotes_the_key(shipper: LocalSigner) -> None:
    """An eth_account error whose message contains the key is reported by type only."""
    leaky = ValueError(f"bad key {SHIPPER_KEY.hex()}")
    described = shipper._describe(leaky)
    assert described == "ValueError (message withheld)"
    assert shipper._describe(ValueError("gas must be an int")) == "ValueError: gas must be an int"


@pytest.mark.parametrize("clone", [pickle.dumps, copy.copy, copy.deepcopy])
def test_signer_cannot_be_pickled_or_copied(shipper: LocalSigner, clone: Any) -> None:
    """Pickling or copying a signer (which would duplicate the key) raises TypeError."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        clone(shipper)


def test_signer_has_no_instance_dict(shipper: LocalSigner) -> None:
    """The key lives in a slot: vars() and attribute injection are unavailable."""
    assert not hasattr(shipper, "__dict__")
    with pytest.raises(AttributeError):
        shipper.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "bad_key",
    [b"", b"\x01" * 31, b"\x01" * 33, b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), SHIPPER_KEY.hex()],
)
def test_invalid_private_key_is_rejected_without_echoing_it(bad_key: Any) -> None:
    """Malformed keys raise KeyManagementError whose message does not contain the input."""
    with pytest.raises(KeyManagementError) as excinfo:
        LocalSigner(bad_key)
    message = str(excinfo.value)
    if bad_key:
        rendered = bad_key if isinstance(bad_key, str) else bad_key.hex()
        assert rendered not in message


@settings(max_examples=25, deadline=None)
@given(key=private_keys, digest=digests)
def test_hsm_signature_assembly_normalises_high_s(key: bytes, digest: bytes) -> None:
    """signature_from_rs turns a bare (r, high-s) pair, as a KMS returns it, into the low-s 65-byte form."""
    signer = LocalSigner(key)
    reference = signer.sign_digest(digest)
    r = int.from_bytes(reference[:32], "big")
    s = int.from_bytes(reference[32:64], "big")
    assert signature_from_rs(digest, r, s, signer.address) == reference
    assert signature_from_rs(digest, r, SECP256K1_N - s, signer.address) == reference


def test_hsm_signature_assembly_refuses_foreign_signature(shipper: LocalSigner) -> None:
    """An (r, s) pair from another key does not assemble for the shipper's address."""
    other = LocalSigner(b"\x01" * 32).sign_digest(DIGEST)
    r, s = int.from_bytes(other[:32], "big"), int.from_bytes(other[32:64], "big")
    with pytest.raises(SigningError, match="does not recover"):
        signature_from_rs(DIGEST, r, s, shipper.address)
    with pytest.raises(SigningError, match="out of range"):
        signature_from_rs(DIGEST, 0, s, shipper.address)
