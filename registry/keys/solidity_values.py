"""Solidity values (address, bytes32, uintN) checked in Python and carried in JSON (uint256 as strings)."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import (
    is_checksum_address,
    is_checksum_formatted_address,
    is_hex_address,
    to_checksum_address,
)

__all__ = [
    "check_enum",
    "check_uint",
    "checksum",
    "from_json",
    "is_valid_address",
    "normalise",
    "parse_uint",
    "to_json",
]


def normalise(sol: str, value: Any, name: str) -> Any:
    if sol == "address":
        return checksum(value, name)
    if sol == "bytes32":
        if not isinstance(value, bytes | bytearray) or len(value) != 32:
            raise ValueError(f"{name} must be exactly 32 bytes")
        return bytes(value)
    check_uint(value, int(sol.removeprefix("uint")), name)
    return int(value)


def check_uint(value: Any, bits: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int (uint{bits})")
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} is out of range for uint{bits}")


def check_enum(enum: type[IntEnum], value: int, name: str) -> None:
    if value not in enum._value2member_map_:
        raise ValueError(f"{name}={value} is not a {enum.__name__} value")


def is_valid_address(value: Any) -> bool:
    """True for a 0x-prefixed 20-byte hex address whose checksum is valid if it is mixed case.

    (``eth_utils.is_address`` no longer checks mixed-case checksums since eth-utils 5.)
    """
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        return False
    if not is_hex_address(value):
        return False
    return not is_checksum_formatted_address(value) or is_checksum_address(value)


def checksum(value: Any, name: str) -> ChecksumAddress:
    if not is_valid_address(value):
        raise ValueError(f"{name} must be a 0x-prefixed 20-byte address with a valid checksum")
    return to_checksum_address(value)


def parse_uint(value: Any, bits: int, name: str) -> int:
    """An unsigned integer from JSON: a number, a decimal string or a 0x-hex string.

    Raises:
        ValueError: a float (a number too large for JSON was rounded), a bool, other text, or out of
            range for ``uint<bits>``.
    """
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]{1,78}", text):
            value = int(text)
        elif re.fullmatch(r"0[xX][0-9a-fA-F]{1,64}", text):
            value = int(text, 16)
        else:
            raise ValueError(f"{name} must be a decimal or 0x-hex string of a uint{bits}, not {value!r}")
    elif isinstance(value, float):
        raise ValueError(
            f"{name} is a fractional or rounded JSON number ({value!r}): send uint{bits} values as "
            "the decimal strings the gateway hands out"
        )
    check_uint(value, bits, name)
    return int(value)


def to_json(sol: str, value: Any) -> Any:
    if sol == "bytes32":
        return "0x" + bytes(value).hex()
    if sol == "uint256":
        return str(value)
    return value


def from_json(sol: str, value: Any, name: str) -> Any:
    if sol == "address":
        return checksum(value, name)
    if sol == "bytes32":
        if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
            raise ValueError(f"{name} must be 32 bytes as 0x-prefixed hex")
        return bytes.fromhex(value[2:])
    return parse_uint(value, int(sol.removeprefix("uint")), name)
