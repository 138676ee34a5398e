"""Contract custom errors → the Python exception tree, generated from the ABI.

Every ``error`` in the contracts' ABI becomes a subclass of :class:`MembershipError` or
:class:`TitleError` (both :class:`~registry.errors.ContractRevertError`), named after the Solidity
error with an ``Error`` suffix (``TitleNotHolder`` → ``TitleNotHolderError``). Revert data is mapped
to them by selector, the way web3.py's ``error_formatters_utils`` maps panics and custom errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain.build import load_artifact
from registry.errors import ContractRevertError, TransactionFailedError

__all__ = [
    "MembershipError",
    "TitleError",
    "decode_revert",
    "error_class",
    "error_classes",
]


class MembershipError(ContractRevertError):
    """Raised when the membership rules refuse an action (unknown key, suspended member ...)."""

    code = "membership_error"


class TitleError(ContractRevertError):
    """Raised when the title rules refuse an action (not holder, wrong status ...)."""

    code = "title_error"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def type_string(param: Mapping[str, Any]) -> str:
    """The ABI type string of a parameter, tuples spelled out: ``(uint8,address)[]``."""
    if param["type"].startswith("tuple"):
        inner = ",".join(type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


@cache
def _registry() -> tuple[
    dict[bytes, tuple[type[ContractRevertError], list[dict[str, Any]]]], dict[str, type]
]:
    by_selector: dict[bytes, tuple[type[ContractRevertError], list[dict[str, Any]]]] = {}
    by_name: dict[str, type] = {}
    for entry in load_artifact().abi:
        if entry["type"] != "error":
            continue
        name: str = entry["name"]
        inputs: list[dict[str, Any]] = entry["inputs"]
        signature = f"{name}({','.join(type_string(p) for p in inputs)})"
        base: type[ContractRevertError]
        if name.startswith("Membership"):
            base = MembershipError
        elif name.startswith("Title"):
            base = TitleError
        else:
            base = ContractRevertError
        cls = type(
            f"{name}Error",
            (base,),
            {
                "__doc__": f"Raised when the contracts revert with ``{signature}``.",
                "__module__": __name__,
                "error_name": name,
                "code": _snake(name.removeprefix("Membership").removeprefix("Title")),
            },
        )
        by_selector[keccak(text=signature)[:4]] = (cls, inputs)
        by_name[name] = cls
    return by_selector, by_name


def error_classes() -> dict[str, type[ContractRevertError]]:
    """All generated error classes by Solidity error name."""
    return dict(_registry()[1])


def error_class(name: str) -> type[ContractRevertError]:
    """The generated class for one Solidity error name (e.g. ``"TitleNotHolder"``)."""
    try:
        cls: type[ContractRevertError] = _registry()[1][name]
    except KeyError:
        raise KeyError(f"no custom error named {name!r} in the contracts' ABI") from None
    return cls


def _normalise(value: object) -> object:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, tuple):
        return tuple(_normalise(v) for v in value)
    return value


def rpc_revert(error: object) -> ContractRevertError | TransactionFailedError | None:
    """The revert a JSON-RPC ``error`` object reports, decoded (not raised); None when the error is not a
    revert but a failure of the node or the request."""
    data = error.get("data") if isinstance(error, Mapping) else None
    if isinstance(data, Mapping):  # some nodes nest the revert data one level deeper
        data = data.get("data")
    if isinstance(data, str):
        return decode_revert(data)
    if "revert" in str(error).lower():
        return decode_revert(None)
    return None


def decode_revert(data: bytes | str | None) -> ContractRevertError | TransactionFailedError:
    """Turn revert data into the matching exception instance (not raised).

    Unknown selectors and empty data give a :class:`TransactionFailedError`.
    """
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data or len(data) < 4:
        return TransactionFailedError("transaction reverted without reason data")
    found = _registry()[0].get(data[:4])
    if found is None:
        return TransactionFailedError(f"transaction reverted with unknown data 0x{data.hex()}")
    cls, inputs = found
    values: Sequence[object] = decode([type_string(p) for p in inputs], data[4:]) if inputs else ()
    args = {
        p["name"] or f"arg{i}": _normalise(v) for i, (p, v) in enumerate(zip(inputs, values, strict=True))
    }
    return cls(args, data)
