"""On-chain identity of a title record, derived exactly as ``TitleRegistry.sol`` derives it.

``tdrHash`` is keccak256 of the Transport Document Reference; an eBL's id is
``uint256(keccak256(abi.encode(address carrier, bytes32 tdrHash)))``, so a carrier can never issue two titles
for one TDR; an amendment issues ``uint256(keccak256(abi.encode(uint256 eblId)))``. Kept in the chain layer
because it must change whenever the contract's does.

Typical use at issuance::

    record_id = ebl_id(carrier_address, tdr_hash(facts.reference))
"""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode
from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak

from registry.types import EblId

__all__ = ["amended_ebl_id", "ebl_id", "tdr_hash"]


def tdr_hash(reference: str) -> bytes:
    """keccak256 of the UTF-8 Transport Document Reference: the ``tdrHash`` the contracts take.

    Args:
        reference: the TDR, e.g. ``"HHL71800000"``.

    Returns:
        32 bytes.

    Raises:
        ValueError: if ``reference`` is empty or not encodable as UTF-8.
    """
    if not isinstance(reference, str) or not reference:
        raise ValueError("a transport document reference must be a non-empty string")
    return keccak(reference.encode("utf-8"))


def ebl_id(carrier: str, tdr_hash: bytes) -> EblId:
    """The on-chain eBL id: ``uint256(keccak256(abi.encode(address carrier, bytes32 tdrHash)))``.

    Mirrors ``TitleRegistry.sol``, so a carrier can never issue two titles for one TDR.

    Args:
        carrier: the issuing carrier organisation's checksummed address.
        tdr_hash: the 32-byte :func:`tdr_hash` of the reference.

    Returns:
        The id as an unsigned 256-bit integer.

    Raises:
        ValueError: if ``carrier`` is not a checksummed address or ``tdr_hash`` is not 32 bytes.
    """
    if not isinstance(carrier, str) or not is_checksum_address(carrier):
        raise ValueError(f"carrier must be a checksummed address, got {carrier!r}")
    if not isinstance(tdr_hash, bytes) or len(tdr_hash) != 32:
        raise ValueError("tdr_hash must be exactly 32 bytes")
    return EblId(int.from_bytes(keccak(abi_encode(["address", "bytes32"], [carrier, tdr_hash])), "big"))


def amended_ebl_id(ebl_id: int) -> EblId:
    """The id of the eBL an amendment of ``ebl_id`` issues: ``keccak256(abi.encode(ebl_id))``."""
    return EblId(int.from_bytes(keccak(abi_encode(["uint256"], [int(ebl_id)])), "big"))
