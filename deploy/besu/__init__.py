"""A generator for the registry's production ledger: an N-validator Hyperledger Besu QBFT network.

``python -m deploy.besu OUT --accounts accounts.json`` writes, into ``OUT``, one key and one
``config.toml`` per validator, the ``genesis.json`` (QBFT ``extraData`` from
:mod:`registry.chain.qbft`), ``static-nodes.json``, the account and node allowlists
(``permissions_config.toml``: only the registry's operators and its members' keys may send), the
registry's settings (``registry.env``) and a ``docker-compose.yml`` for the validators, the registry
and PostgreSQL. docs/production.md is the runbook.

It is a package of its own, not an ``ebl`` subcommand: it runs once per network on an operator's machine,
writes files only (no chain, database or keystore is opened), and the members who use ``ebl`` never
need it.
"""

from deploy.besu.accounts import Allowlist, load_allowlist
from deploy.besu.keys import NodeKey, new_node_key
from deploy.besu.network import Network, NetworkSpec, generate, write_network

__all__ = [
    "Allowlist",
    "Network",
    "NetworkSpec",
    "NodeKey",
    "generate",
    "load_allowlist",
    "new_node_key",
    "write_network",
]
