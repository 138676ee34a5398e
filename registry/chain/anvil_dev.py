"""Development-chain conveniences that only a development node answers: giving operator accounts gas
money with ``anvil_setBalance`` (anvil) or ``hardhat_setBalance`` (the Hardhat node, EDR).

Kept with the embedded-chain modules (``registry/chain/anvil*.py``) because nothing else in the registry
may call a node's ``anvil_*``, ``hardhat_*`` or ``evm_*`` methods: the registry runs unchanged on any
standard EVM JSON-RPC node (a Besu QBFT network funds its accounts in the genesis, or charges no gas),
and ``tests/registry/test_standard_rpc.py`` fails when such a call appears anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from web3 import Web3
from web3.types import RPCEndpoint

__all__ = ["DEV_FUNDS", "fund_dev_accounts"]

DEV_FUNDS = 10**27
"""Wei given to each operator account on a development chain (a billion ether)."""

_SET_BALANCE = (RPCEndpoint("anvil_setBalance"), RPCEndpoint("hardhat_setBalance"))


def fund_dev_accounts(w3: Web3, addresses: Iterable[str], amount: int = DEV_FUNDS) -> bool:
    """Set each address's balance to ``amount`` on a development node; True when the node took it,
    False when it answers neither method (then the operator funds the accounts)."""
    funded = True
    for address in addresses:
        for method in _SET_BALANCE:
            reply = w3.provider.make_request(method, [address, hex(amount)])
            if "error" not in reply:
                break
        else:
            funded = False
    return funded
