"""The registry's event logs, decoded by topic with decoders derived from the compiled ABI.

:data:`REGISTRY_EVENTS` maps every event's topic (0x-hex) to an :class:`EventSpec`, built once from the
shipped artifact's ABI (:func:`registry.chain.artifacts.load_artifact`); no event layout is written out
by hand. Static parameters are decoded by slicing 32-byte words directly, and ``eth_abi`` only runs for
events with a dynamic parameter (``BatchEntryFailed``'s ``reason``): the indexer decodes every log of
a block range on its catch-up path, where a generic decoder per log costs more than the database write.

Values are spelled as the index stores them: addresses checksummed (the zero address is None),
integers as ``int``, ``bytes32`` as 0x-hex, a shorter ``bytesN`` (a platform code's ``bytes4``) as
0x-hex of its N bytes, ``bool`` as ``bool``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain.abi import signature, type_string
from registry.chain.artifacts import load_artifact

__all__ = ["REGISTRY_EVENTS", "EventSpec", "Log", "address", "decode_logs", "event_specs"]


@lru_cache(maxsize=65536)
def address(word: bytes) -> str | None:
    """Checksummed address from a 32-byte word (or 20 raw bytes); None for the zero address."""
    raw = word[-20:]
    if not any(raw):
        return None
    return to_checksum_address(raw)


def _convert(abi_type: str, word: bytes) -> Any:
    if abi_type == "address":
        return address(word)
    if abi_type.startswith(("uint", "int")):
        return int.from_bytes(word, "big", signed=abi_type.startswith("int"))
    if abi_type == "bool":
        return word[-1] != 0
    if abi_type != "bytes32" and _FIXED_BYTES.fullmatch(abi_type):  # bytes4 ...: left-aligned
        return "0x" + word[: int(abi_type[5:])].hex()
    return "0x" + word.hex()  # bytes32


_FIXED_BYTES = re.compile(r"bytes([1-9]|[12][0-9]|3[0-2])")


def _static(abi_type: str) -> bool:
    return (
        abi_type in ("address", "bool")
        or abi_type.startswith(("uint", "int"))
        or bool(_FIXED_BYTES.fullmatch(abi_type))
    )


@dataclass(frozen=True)
class EventSpec:
    """One event's decoder: its name, its indexed and data parameters ``(name, ABI type)`` in ABI order."""

    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]
    static: bool

    def decode(self, topics: Sequence[str], data_hex: str) -> dict[str, Any]:
        """The log's arguments by parameter name, from its 0x-hex topics and data."""
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(self.indexed, topics[1:], strict=True):
            args[name] = _convert(typ, bytes.fromhex(topic[2:]))
        data = bytes.fromhex(data_hex[2:])
        if self.static:
            for i, (name, typ) in enumerate(self.data):
                args[name] = _convert(typ, data[32 * i : 32 * i + 32])
        else:
            values = abi_decode([t for _, t in self.data], data)
            for (name, typ), value in zip(self.data, values, strict=True):
                args[name] = _convert(typ, value.rjust(32, b"\0")) if typ == "address" else value
        return args


def event_specs(abi: Iterable[Mapping[str, Any]]) -> dict[str, EventSpec]:
    """topic0 (0x-hex) → decoder, for every (non-anonymous) event in ``abi``."""
    specs: dict[str, EventSpec] = {}
    for entry in abi:
        if entry.get("type") != "event" or entry.get("anonymous"):
            continue
        inputs = entry["inputs"]
        indexed = tuple((p["name"], type_string(p)) for p in inputs if p["indexed"])
        data = tuple((p["name"], type_string(p)) for p in inputs if not p["indexed"])
        static = all(_static(t) for _, t in data)
        specs["0x" + keccak(text=signature(entry)).hex()] = EventSpec(entry["name"], indexed, data, static)
    return specs


REGISTRY_EVENTS = event_specs(load_artifact().abi)
"""The registry contract's events by topic (0x-hex), from the shipped artifact."""


@dataclass(frozen=True)
class Log:
    """One decoded registry log and where the chain put it."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str | None = None


def decode_logs(
    entries: Iterable[Mapping[str, Any]], specs: Mapping[str, EventSpec] = REGISTRY_EVENTS
) -> list[Log]:
    """Raw ``eth_getLogs`` entries → decoded logs in chain order (block, log index).

    Removed logs and logs of events not in ``specs`` are left out.
    """
    logs: list[Log] = []
    for entry in entries:
        if entry.get("removed"):
            continue
        topics = entry["topics"]
        spec = specs.get(topics[0]) if topics else None
        if spec is None:
            continue
        logs.append(
            Log(
                spec.name,
                spec.decode(topics, entry["data"]),
                int(entry["blockNumber"], 16),
                int(entry["logIndex"], 16),
                entry["transactionHash"],
                entry.get("blockHash"),
            )
        )
    logs.sort(key=lambda lg: (lg.block_number, lg.log_index))
    return logs
