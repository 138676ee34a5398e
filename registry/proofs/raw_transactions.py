"""A transaction's signed bytes, as its block's ``transactionsRoot`` commits to them.

``eth_getRawTransactionByHash`` answers them on geth, Besu and anvil; a node without it (the Hardhat
node, EDR) still answers ``eth_getTransactionByHash``, from whose fields :func:`raw_transaction`
re-encodes the legacy, EIP-2930 and EIP-1559 envelopes (the registry sends no other kind). The result
is checked against the transaction's hash, so a re-encoding can never be silently wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rlp
from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.rpc import hex_bytes, hex_int, rpc
from registry.errors import ChainError

__all__ = ["encode_transaction", "raw_transaction"]


def raw_transaction(w3: Web3, tx_hash: str) -> bytes:
    """The signed bytes of transaction ``tx_hash``.

    Raises:
        ChainError: the node knows no such transaction, or it is of a kind this cannot re-encode.
    """
    try:
        found = rpc(w3, "eth_getRawTransactionByHash", [tx_hash])
    except ChainError:  # not every node has it: re-encode from the transaction's fields
        found = None
    if found:
        return hex_bytes(found)
    tx = rpc(w3, "eth_getTransactionByHash", [tx_hash])
    if tx is None:
        raise ChainError(f"the node knows no transaction {tx_hash}")
    raw = encode_transaction(tx)
    if "0x" + keccak(raw).hex() != tx_hash.lower():
        raise ChainError(f"re-encoding transaction {tx_hash} did not reproduce its hash")
    return raw


def _access_list(tx: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [hex_bytes(item["address"]), [hex_bytes(key) for key in item["storageKeys"]]]
        for item in tx.get("accessList") or []
    ]


def encode_transaction(tx: Mapping[str, Any]) -> bytes:
    """The signed envelope of a transaction as ``eth_getTransactionByHash`` describes it.

    Raises:
        ChainError: a kind other than legacy, EIP-2930 (type 1) or EIP-1559 (type 2).
    """
    kind = hex_int(tx.get("type") or 0)
    to = hex_bytes(tx["to"]) if tx.get("to") else b""
    common = [hex_int(tx["gas"]), to, hex_int(tx["value"]), hex_bytes(tx["input"])]
    signature = [hex_int(tx["r"]), hex_int(tx["s"])]
    if kind == 0:
        return bytes(
            rlp.encode([hex_int(tx["nonce"]), hex_int(tx["gasPrice"]), *common, hex_int(tx["v"]), *signature])
        )
    y_parity = hex_int(tx["yParity"]) if tx.get("yParity") is not None else hex_int(tx["v"])
    head = [hex_int(tx["chainId"]), hex_int(tx["nonce"])]
    if kind == 1:
        fields = [*head, hex_int(tx["gasPrice"]), *common, _access_list(tx), y_parity, *signature]
    elif kind == 2:
        fees = [hex_int(tx["maxPriorityFeePerGas"]), hex_int(tx["maxFeePerGas"])]
        fields = [*head, *fees, *common, _access_list(tx), y_parity, *signature]
    else:
        raise ChainError(f"cannot re-encode a type {kind} transaction")
    return bytes([kind]) + bytes(rlp.encode(fields))
