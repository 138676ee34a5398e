"""The contract's ABI in one place: selectors, struct layouts and codecs derived from the shipped artifact.

The hot paths (a relayed batch, the simulation of every write, a verification's ``titleOf``) encode and
decode calls with eth_abi directly: web3's contract-call path looks the ABI up, runs middleware and
formatters on every call and costs milliseconds. What they need is derived here from the compiled ABI
(:func:`registry.chain.artifacts.load_artifact`), never written out by hand, and built once when this
module is imported: a :class:`Function` holds its selector and its eth_abi tuple encoder and decoder, so a
call costs no ABI parsing and no codec lookup.

A struct is read by its components' names (:meth:`Struct.fields`), so reordering a Solidity struct moves
no value into the wrong field. Events are decoded in :mod:`registry.chain.events`; :class:`Event` here
gives one event's topic and data codec for the few that callers match directly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.encoding import TupleEncoder
from eth_abi.registry import registry as _codecs
from eth_utils.crypto import keccak

from registry.chain.artifacts import load_artifact

_stream: Callable[[bytes], Any] = ContextFramesBytesIO  # eth_abi's decoder input (an untyped class)

__all__ = [
    "BATCH_ENTRY_FAILED",
    "EXECUTE",
    "EXECUTE_BATCH",
    "ISSUE_BATCH",
    "ISSUE_SIGNED",
    "TITLE_OF",
    "TITLE_VIEW",
    "Event",
    "Function",
    "Struct",
    "event",
    "function",
    "type_string",
]


def type_string(param: Mapping[str, Any]) -> str:
    """The ABI type string of a parameter, tuples spelled out: ``(uint8,address)[]``."""
    if param["type"].startswith("tuple"):
        inner = ",".join(type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def signature(entry: Mapping[str, Any]) -> str:
    """The canonical signature of a function, event or error: ``titleOf(uint256)``."""
    return f"{entry['name']}({','.join(type_string(p) for p in entry['inputs'])})"


@dataclass(frozen=True)
class Struct:
    """A tuple parameter's layout: its type string and its components' names, in ABI order."""

    type: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, param: Mapping[str, Any]) -> Struct:
        """The struct of a ``tuple`` ABI parameter (``tuple[]``: the struct of one element)."""
        if not str(param["type"]).startswith("tuple"):
            raise TypeError(f"ABI parameter {param.get('name')!r} is a {param['type']}, not a struct")
        element = type_string({**param, "type": "tuple"})
        return cls(element, tuple(str(c["name"]) for c in param["components"]))

    def fields(self, *names: str) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """A function that picks ``names`` out of a decoded value of this struct, in the order given.

        Raises:
            KeyError: a name that is not a component of the struct (the contract changed).
        """
        index = {name: i for i, name in enumerate(self.names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise KeyError(f"struct {self.type} has no component {missing} (it has {list(self.names)})")
        positions = [index[n] for n in names]
        if len(positions) == 1:
            (only,) = positions
            return lambda value: (value[only],)
        getter: Callable[[Sequence[Any]], tuple[Any, ...]] = operator.itemgetter(*positions)
        return getter


@dataclass(frozen=True)
class Function:
    """One contract function: its selector, and codecs for its arguments and its return values."""

    name: str
    signature: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    entry: Mapping[str, Any] = field(repr=False)
    _encoder: TupleEncoder = field(repr=False, compare=False)
    _decoder: TupleDecoder = field(repr=False, compare=False)

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Function:
        """Build one from a ``function`` entry of an ABI (the codecs once, here)."""
        inputs = tuple(type_string(p) for p in entry["inputs"])
        outputs = tuple(type_string(p) for p in entry.get("outputs", ()))
        sig = signature(entry)
        return cls(
            name=str(entry["name"]),
            signature=sig,
            selector=keccak(text=sig)[:4],
            input_types=inputs,
            output_types=outputs,
            entry=entry,
            _encoder=_codecs.get_tuple_encoder(*inputs),
            _decoder=_codecs.get_tuple_decoder(*outputs),
        )

    def input_struct(self, position: int = 0) -> Struct:
        """The layout of the struct argument at ``position``."""
        return Struct.of(self.entry["inputs"][position])

    def output_struct(self, position: int = 0) -> Struct:
        """The layout of the struct return value at ``position``."""
        return Struct.of(self.entry["outputs"][position])

    def encode(self, *args: Any) -> bytes:
        """Calldata: the selector, then ``args`` ABI-encoded (structs as tuples in component order)."""
        return self.selector + self._encoder(args)

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        """The return values of an ``eth_call`` of this function (a struct decodes as a tuple)."""
        values: tuple[Any, ...] = self._decoder(_stream(data))
        return values


@dataclass(frozen=True)
class Event:
    """One contract event: its topic, and a decoder for its non-indexed (data) parameters."""

    name: str
    signature: str
    topic: bytes
    indexed: tuple[str, ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    _decoder: TupleDecoder = field(repr=False, compare=False)

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Event:
        """Build one from an ``event`` entry of an ABI."""
        data = [p for p in entry["inputs"] if not p["indexed"]]
        sig = signature(entry)
        types = tuple(type_string(p) for p in data)
        return cls(
            name=str(entry["name"]),
            signature=sig,
            topic=keccak(text=sig),
            indexed=tuple(str(p["name"]) for p in entry["inputs"] if p["indexed"]),
            data_names=tuple(str(p["name"]) for p in data),
            data_types=types,
            _decoder=_codecs.get_tuple_decoder(*types),
        )

    def decode_data(self, data: bytes) -> tuple[Any, ...]:
        """A log's non-indexed parameters, in ABI order (:attr:`data_names`)."""
        values: tuple[Any, ...] = self._decoder(_stream(data))
        return values


def _entry(kind: str, name: str) -> Mapping[str, Any]:
    found = [e for e in load_artifact().abi if e.get("type") == kind and e.get("name") == name]
    if len(found) != 1:
        raise KeyError(f"the contract's ABI has {len(found)} {kind}s named {name!r}, not one")
    return found[0]


@cache
def function(name: str) -> Function:
    """The contract function ``name`` (built once).

    Raises:
        KeyError: the ABI has no function of that name, or overloads it.
    """
    return Function.of(_entry("function", name))


@cache
def event(name: str) -> Event:
    """The contract event ``name`` (built once).

    Raises:
        KeyError: the ABI has no event of that name, or overloads it.
    """
    return Event.of(_entry("event", name))


TITLE_OF = function("titleOf")
"""``titleOf(uint256) returns (TitleView)``: one eBL's state."""
TITLE_VIEW = TITLE_OF.output_struct()
"""The layout of ``TitleView``, read by component name."""
EXECUTE = function("execute")
"""``execute(SignedAction)``: one signed title action (simulated before it is relayed)."""
ISSUE_SIGNED = function("issueSigned")
"""``issueSigned(SignedIssuance)``: one signed issuance (simulated before it is relayed)."""
EXECUTE_BATCH = function("executeBatch")
"""``executeBatch(SignedAction[])``: the relayer's batch of title actions."""
ISSUE_BATCH = function("issueBatch")
"""``issueBatch(SignedIssuance[])``: the relayer's batch of issuances."""
BATCH_ENTRY_FAILED = event("BatchEntryFailed")
"""``BatchEntryFailed(index, signer, nonce, reason)``: a batch entry the contract skipped."""
