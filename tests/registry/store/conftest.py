"""Fixtures of the store tests: a fresh registry per module on the session anvil, and a freshly
migrated database per test, on SQLite and (when its binaries are installed) PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from registry.chain.anvil import AnvilProcess
from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment, deploy
from registry.store.db import create_engine_for, migrate
from registry.types import DocumentKind, Role
from tests.contracts.parties import CAST, Party, party, test_key
from tests.support.postgres import PostgresServer

FUNDS = Web3.to_wei(1_000_000, "ether")
ZERO = "0x" + "00" * 20
_TDR = itertools.count()
_DB = itertools.count()


@dataclass
class Chain:
    """A registry deployed for one test module, with its cast onboarded."""

    w3: Web3
    deployment: Deployment
    registry: Contract
    cast: dict[str, Party]
    governance: LocalAccount
    bridge: LocalAccount

    def send(self, fn: Any, sender: Party | LocalAccount) -> Any:
        """Transact from the sender's key and return the (successful) receipt."""
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender.address}))
        assert receipt["status"] == 1
        return receipt

    def issue(
        self,
        to: str,
        endorsee: str | None = None,
        kind: DocumentKind = DocumentKind.TO_ORDER,
        by: str = "carrier",
    ) -> tuple[int, str]:
        """Issue a fresh eBL from carrier ``by`` to the named party; returns (eBL id, document hash)."""
        carrier = self.cast[by]
        tdr = keccak(text=f"store-TDR-{next(_TDR)}")
        doc = keccak(text=f"store-doc-{tdr.hex()}")
        endorsee_org = self.cast[endorsee].org if endorsee else ZERO
        fn = self.registry.functions.issue(tdr, doc, self.cast[to].org, endorsee_org, int(kind))
        self.send(fn, carrier)
        return int(self.registry.functions.eblIdOf(carrier.org, tdr).call()), "0x" + doc.hex()

    def act(self, name: str, fn_name: str, *args: Any) -> Any:
        """Call a title function as the named party."""
        return self.send(getattr(self.registry.functions, fn_name)(*args), self.cast[name])

    def org(self, name: str) -> str:
        """The organisation address of a named party."""
        return self.cast[name].org


@pytest.fixture(scope="module")
def chain(anvil: AnvilProcess) -> Chain:
    """A fresh TitleRegistry on the session anvil (own web3), cast funded and onboarded."""
    return deployed_chain(anvil.url)


def deployed_chain(url: str) -> Chain:
    """A fresh TitleRegistry on the chain at ``url`` (own web3), cast funded and onboarded."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    governance = test_key("store-governance")
    bridge = test_key("store-bridge")
    cast = {name: party(name, role) for name, role in CAST.items()}
    accounts = [governance, bridge, *(p.key for p in cast.values())]
    for account in accounts:
        assert fund_dev_accounts(w3, [account.address], FUNDS)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accounts), layer=0)
    dep = deploy(w3, governance, bridge=bridge.address)
    registry = w3.eth.contract(address=dep.address, abi=load_artifact().abi)
    result = Chain(w3, dep, registry, cast, governance, bridge)
    for p in cast.values():
        fn = registry.functions.registerOrganisation(
            p.org, int(p.role), keccak(text=f"LEI:{p.name}"), p.address
        )
        result.send(fn, governance)
    assert Role.CARRIER in {p.role for p in cast.values()}
    return result


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"store_{next(_DB)}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    migrate(db_url)
    eng = create_engine_for(db_url)
    yield eng
    eng.dispose()
