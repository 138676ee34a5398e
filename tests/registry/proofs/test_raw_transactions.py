"""A transaction's signed bytes on a node without ``eth_getRawTransactionByHash`` (the Hardhat node):
re-encoded from ``eth_getTransactionByHash`` they are byte for byte what was sent, for a legacy, an
EIP-2930 and an EIP-1559 transaction, and a re-encoding that does not reproduce the hash is refused."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.rpc import rpc
from registry.errors import ChainError
from registry.proofs.raw_transactions import encode_transaction, raw_transaction

KINDS: dict[str, dict[str, Any]] = {
    "legacy": {"gasPrice": 10**10},
    "eip-2930": {
        "type": 1,
        "gasPrice": 10**10,
        "accessList": [{"address": "0x" + "11" * 20, "storageKeys": ["0x" + "22" * 32]}],
    },
    "eip-1559": {"type": 2, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9},
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_transaction_re_encoded_from_its_fields_is_the_one_sent(w3: Web3, kind: str) -> None:
    account = Account.create()
    assert fund_dev_accounts(w3, [account.address], 10**21)
    tx = {
        "to": "0x" + "33" * 20,
        "value": 7,
        "gas": 60_000,
        "data": b"\x01\x02",
        "nonce": 0,
        "chainId": w3.eth.chain_id,
    }
    signed = account.sign_transaction({**tx, **KINDS[kind]})
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    w3.eth.wait_for_transaction_receipt(tx_hash)
    fields = rpc(w3, "eth_getTransactionByHash", ["0x" + bytes(tx_hash).hex()])
    assert encode_transaction(fields) == bytes(signed.raw_transaction)
    assert raw_transaction(w3, "0x" + bytes(tx_hash).hex()) == bytes(signed.raw_transaction)


def test_an_unknown_transaction_is_a_chain_error(w3: Web3) -> None:
    with pytest.raises(ChainError):
        raw_transaction(w3, "0x" + "00" * 32)


def test_a_kind_it_cannot_encode_is_refused() -> None:
    with pytest.raises(ChainError, match="type 4"):
        encode_transaction(
            {
                "type": "0x4",
                "gas": "0x1",
                "to": None,
                "value": "0x0",
                "input": "0x",
                "r": "0x1",
                "s": "0x1",
                "v": "0x0",
                "chainId": "0x1",
                "nonce": "0x0",
            }
        )
