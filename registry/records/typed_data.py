"""EIP-712 typed data as a client signs it (``eth_signTypedData_v4``): what ``prepare`` and the key
challenge hand out."""

from __future__ import annotations

from pydantic import Field

from registry.records.fields import Record

__all__ = ["Eip712Domain", "TypedDataField", "TypedDataOut"]


class TypedDataField(Record):
    name: str
    type: str


class Eip712Domain(Record):
    name: str
    version: str
    chain_id: int
    verifying_contract: str


class TypedDataOut(Record):
    """The ``eth_signTypedData_v4`` payload: sign it unchanged. uint256 values are decimal strings,
    bytes32 values 0x-prefixed hex, addresses checksummed, uint8 values numbers."""

    types: dict[str, list[TypedDataField]] = Field(description="EIP712Domain and the primary type's fields")
    primary_type: str
    domain: Eip712Domain
    message: dict[str, str | int] = Field(description="The primary type's values, by field name")
