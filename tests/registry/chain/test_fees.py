"""Fee fields of the registry's own transactions, against real anvil nodes (London and pre-London)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.fees import FeePolicy
from registry.errors import ChainError
from tests.support.chains import dev_call

ROUNDS = 40
"""Fee refreshes in the feedback test; 'twice the suggestion' had the price at 1e19 wei by round 35."""


def _send(w3: Web3, account: LocalAccount, nonce: int, fees: dict[str, int]) -> dict[str, object]:
    tx = {"to": account.address, "value": 1, "gas": 21_000, "nonce": nonce, "chainId": w3.eth.chain_id}
    raw = account.sign_transaction({**tx, **fees}).raw_transaction
    return dict(w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw)))


@pytest.fixture(scope="module")
def relayer_account(w3: Web3) -> LocalAccount:
    """A fresh, well funded account that sends every transaction of these tests."""
    account = Account.create()
    assert fund_dev_accounts(w3, [account.address], 10**24)
    return account


def test_paying_the_policy_never_raises_the_price_the_node_suggests(
    w3: Web3, relayer_account: LocalAccount
) -> None:
    """Regression (make test-long: every later transaction failed with 'insufficient funds'): the relayer
    paid twice the node's suggested gas price, the node suggests what recent transactions paid, so each
    refresh doubled the price. Paid by the policy, the suggestion does not grow."""
    policy = FeePolicy(w3, refresh=0.0)
    nonce = w3.eth.get_transaction_count(relayer_account.address)
    suggested_before = w3.eth.gas_price
    for _ in range(ROUNDS):
        fees = policy.fields()
        for _ in range(3):
            assert _send(w3, relayer_account, nonce, fees)["status"] == 1
            nonce += 1
    assert w3.eth.gas_price <= suggested_before * 1.1  # twice the suggestion would have reached 2**40 times


def test_a_london_chain_gets_type_2_fees_with_headroom_on_the_base_fee_only(w3: Web3) -> None:
    """maxFeePerGas = 2 * base fee + tip; the tip is the node's suggestion, not a multiple of it."""
    fees = FeePolicy(w3, refresh=0.0).fields()
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tip = w3.eth.max_priority_fee
    assert fees == {"type": 2, "maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}


def test_fetched_fees_are_reused_until_the_refresh_and_after_forget_asked_again(w3: Web3) -> None:
    """The hot path asks the node once per refresh period; forget() (a chain restart) asks at once."""
    policy = FeePolicy(w3, refresh=3600.0)
    first = policy.fields()
    raised = w3.eth.get_block("latest")["baseFeePerGas"] + 10**6
    dev_call(w3, "setNextBlockBaseFeePerGas", [hex(raised)])
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert w3.eth.get_block("latest")["baseFeePerGas"] == raised
    assert policy.fields() == first
    policy.forget()
    again = policy.fields()
    assert again["maxFeePerGas"] == 2 * raised + again["maxPriorityFeePerGas"]


def test_a_fixed_gas_price_is_used_as_given_and_a_negative_one_refused(w3: Web3) -> None:
    assert FeePolicy(w3, gas_price=7).fields() == {"gasPrice": 7}
    with pytest.raises(ValueError, match="must not be negative"):
        FeePolicy(w3, gas_price=-1)


@pytest.fixture(scope="module")
def berlin() -> Iterator[Web3]:
    """A pre-London anvil: blocks carry no base fee (like a free-gas Besu network)."""
    with AnvilProcess(AnvilConfig(extra_args=("--hardfork", "berlin"))) as node:
        yield Web3(Web3.HTTPProvider(node.url))


def test_a_chain_without_base_fee_gets_exactly_the_nodes_legacy_gas_price(berlin: Web3) -> None:
    assert "baseFeePerGas" not in berlin.eth.get_block("latest")
    assert FeePolicy(berlin, refresh=0.0).fields() == {"gasPrice": berlin.eth.gas_price}


def test_a_node_that_does_not_answer_is_a_chain_error() -> None:
    """Nothing listens on the port: a ChainError (typed), not a raw connection error."""
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    with pytest.raises(ChainError):
        FeePolicy(w3).fields()
