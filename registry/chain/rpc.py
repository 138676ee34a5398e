"""Raw JSON-RPC: the calls the hot paths send without web3's method wrappers.

web3's ``w3.eth.*`` methods run request and result formatters and the middleware onion on every call;
on the paths that run per operation or per block (a verification's ``eth_call``, the relayer's receipt
watch, the indexer's catch-up) that costs more than the node's answer. These helpers send the request
through the provider as it is and hand back the raw reply: hex strings, not ints and bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from registry.errors import ChainError

__all__ = [
    "BATCH_SIZE",
    "call_request",
    "hex_bytes",
    "hex_int",
    "method_unsupported",
    "raw_call",
    "receipt_on_chain",
    "rpc",
    "rpc_batch",
]

BATCH_SIZE = 500
"""Most calls in one JSON-RPC batch."""


def rpc(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    """One raw JSON-RPC call's ``result`` (web3's method wrappers add formatters and middleware the hot
    paths do not need); a JSON-RPC error reply raises :class:`ChainError`."""
    reply = w3.provider.make_request(RPCEndpoint(method), list(params))
    if "error" in reply:
        raise ChainError(f"{method} failed: {reply['error']}")
    return reply.get("result")


def rpc_batch(
    w3: Web3, requests: Sequence[tuple[RPCEndpoint, Any]], size: int = BATCH_SIZE
) -> list[dict[str, Any]]:
    """Responses to ``requests`` in order, sent as JSON-RPC batches of at most ``size`` calls (one call at
    a time on a provider without batches)."""
    batch: Callable[..., Any] | None = getattr(w3.provider, "make_batch_request", None)
    out: list[dict[str, Any]] = []
    for i in range(0, len(requests), size):
        part = list(requests[i : i + size])
        if batch is None:
            responses: Any = [w3.provider.make_request(m, p) for m, p in part]
        else:
            responses = batch(part)
        if not isinstance(responses, list):
            raise ChainError(f"JSON-RPC batch failed: {responses.get('error')}")
        out += [dict(r) for r in responses]
    return out


def call_request(to: str, data: bytes | str, block: int | str = "latest") -> tuple[RPCEndpoint, list[Any]]:
    """An ``eth_call`` of ``data`` on the contract ``to`` at ``block`` (a number or a tag), as a request
    for :func:`rpc_batch` or the provider."""
    tag = hex(block) if isinstance(block, int) else block
    payload = data if isinstance(data, str) else "0x" + data.hex()
    return RPCEndpoint("eth_call"), [{"to": to, "data": payload}, tag]


def raw_call(w3: Web3, to: str, data: bytes | str, block: int | str = "latest") -> dict[str, Any]:
    """The whole reply to one ``eth_call`` (``result`` or ``error``, left for the caller to read: a revert
    is an answer there, not a failure)."""
    method, params = call_request(to, data, block)
    return dict(w3.provider.make_request(method, params))


def hex_int(value: Any) -> int:
    """A quantity from raw JSON-RPC (a hex string) or from web3 (an int)."""
    return int(value, 16) if isinstance(value, str) else int(value)


def hex_bytes(value: Any) -> bytes:
    """Data from raw JSON-RPC (a hex string) or from web3 (bytes, HexBytes)."""
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


def method_unsupported(error: Any) -> bool:
    """True for a JSON-RPC error saying the method does not exist (rather than that the call failed)."""
    if not isinstance(error, Mapping):
        return False
    message = str(error.get("message", "")).lower()
    return error.get("code") == -32601 or any(
        words in message for words in ("not found", "does not exist", "not supported", "unsupported")
    )


def receipt_on_chain(
    w3: Web3, receipt: Mapping[str, Any], head: int, block_hashes: dict[int, str | None] | None = None
) -> bool:
    """Whether a raw receipt's block is at or below ``head`` and is the block the chain now has at that
    height: a node restored from a state dump can still answer for a transaction of a block it lost
    (anvil keeps it by hash). ``block_hashes`` caches the chain's block hash per height across calls."""
    number = int(receipt["blockNumber"], 16)
    if number > head:
        return False
    cache = block_hashes if block_hashes is not None else {}
    if number not in cache:
        block = rpc(w3, "eth_getBlockByNumber", [hex(number), False])
        cache[number] = str(block["hash"]).lower() if block else None
    return cache[number] == str(receipt["blockHash"]).lower()
