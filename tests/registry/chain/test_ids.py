"""Tests for registry.chain.ids: tdrHash and eblId derived exactly as TitleRegistry.sol derives them."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from registry.chain.ids import ebl_id, tdr_hash
from tests.registry.documents.support import (
    CARRIER,
)


def test_tdr_hash_is_keccak256_of_the_utf8_reference() -> None:
    """tdr_hash is keccak256 over the UTF-8 bytes (checked against the published keccak256('abc'))."""
    assert tdr_hash("abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert tdr_hash("HHLÆ1") == keccak("HHLÆ1".encode())
    assert len(tdr_hash("62CD536BA8D34C469AFD")) == 32


def test_tdr_hash_rejects_an_empty_reference() -> None:
    """An empty reference has no meaning and is refused."""
    with pytest.raises(ValueError):
        tdr_hash("")


def test_ebl_id_is_keccak256_of_the_abi_encoded_carrier_and_tdr_hash() -> None:
    """ebl_id equals uint256(keccak256(abi.encode(address, bytes32))) encoded by hand here."""
    digest = tdr_hash("62CD536BA8D34C469AFD")
    encoded = bytes(12) + bytes.fromhex(CARRIER[2:]) + digest
    assert ebl_id(CARRIER, digest) == int.from_bytes(keccak(encoded), "big")
    assert ebl_id(CARRIER, digest) != ebl_id(CARRIER, tdr_hash("62CD536BA8D34C469AFE"))


@pytest.mark.parametrize(
    "carrier", [CARRIER.lower(), CARRIER.upper().replace("0X", "0x"), "0x1234", "carrier"]
)
def test_ebl_id_requires_a_checksummed_carrier_address(carrier: str) -> None:
    """A carrier address that is not checksummed is refused."""
    with pytest.raises(ValueError):
        ebl_id(carrier, tdr_hash("HHL71800000"))


def test_ebl_id_requires_a_32_byte_tdr_hash() -> None:
    """The TDR hash must be a bytes32."""
    with pytest.raises(ValueError):
        ebl_id(CARRIER, b"\x00" * 31)


# --- facts extraction ---------------------------------------------------------------------------
