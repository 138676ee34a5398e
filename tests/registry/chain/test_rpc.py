"""Raw JSON-RPC: errors raise, batches keep their order, replies read the same raw or through web3."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.abi import TITLE_OF
from registry.chain.deploy import Deployment
from registry.chain.rpc import hex_bytes, hex_int, method_unsupported, raw_call, rpc, rpc_batch
from registry.errors import ChainError


def test_an_error_reply_raises_chain_error_naming_the_method(w3: Web3):
    """A JSON-RPC error becomes a ChainError that names the method; a result is returned raw (hex)."""
    with pytest.raises(ChainError, match="eth_noSuchMethod failed"):
        rpc(w3, "eth_noSuchMethod", [])
    assert hex_int(rpc(w3, "eth_chainId", [])) == w3.eth.chain_id


def test_a_batch_answers_every_request_in_order_across_chunks(w3: Web3):
    """Five requests in chunks of two come back as five replies, in the order asked."""
    head = w3.eth.block_number
    requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in range(head + 1)][-5:]
    replies = rpc_batch(w3, requests, size=2)
    numbers = [hex_int(r["result"]["number"]) for r in replies]
    assert numbers == [int(params[0], 16) for _, params in requests]


def test_a_reverting_call_is_an_answer_not_a_failure(w3: Web3, deployment: Deployment):
    """raw_call hands back the revert of titleOf(unknown id) as the reply's error, with its revert data."""
    reply = raw_call(w3, deployment.address, TITLE_OF.encode(2**200))
    assert "result" not in reply
    assert "error" in reply and "data" in reply["error"]


def test_a_missing_method_is_told_from_a_failed_call(w3: Web3):
    """The node's answer to an unknown method reads as unsupported; a revert or a string does not."""
    reply = w3.provider.make_request(RPCEndpoint("eth_noSuchMethod"), [])
    assert method_unsupported(reply["error"])
    assert not method_unsupported({"code": 3, "message": "execution reverted"})
    assert not method_unsupported("method not found")
    assert hex_bytes("0x01ff") == hex_bytes(b"\x01\xff") == b"\x01\xff"
