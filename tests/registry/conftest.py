"""Fixtures for the registry layer: a migrated SQLite database, a keystore holding the members'
custodial keys, a title service with its relayer on the session chain, and a throwaway PostgreSQL
server (skipped when not installed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.deploy import Deployment
from registry.chain.relayer import Relayer
from registry.documents import CarrierCode
from registry.keys import KeyStore, LocalSigner, PassphraseSource
from registry.store.carriers import SqlCarrierCodes
from registry.store.db import create_engine_for, migrate
from registry.store.documents import SqlDocumentStore
from registry.store.journal import SqlJournal
from registry.title import TitleService
from tests.contracts.parties import Party
from tests.contracts.parties import test_key as key_for
from tests.support.postgres import PostgresServer, postgres_unavailable_reason


@pytest.fixture
def journal_engine(tmp_path: Path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'registry.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def keystore(tmp_path: Path, cast: dict[str, Party]) -> KeyStore:
    """Custodial keys of every member except the buyer, who always signs with its own wallet."""
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple")
    secret.chmod(0o600)
    store = KeyStore(tmp_path / "keys", PassphraseSource.from_file(secret), kdf_n=2**14)
    for p in cast.values():
        if p.name not in ("outsider", "buyer"):
            store.import_private_key(p.org, p.key.key)
    return store


CARRIER_CODES = {"carrier": CarrierCode("MSC", "SMDG"), "other_carrier": CarrierCode("MAEU", "SMDG")}
"""The cast's carriers and their codes: the DCSA examples name MSC, so ``carrier`` issues them as they are."""


@pytest.fixture
def carrier_codes(journal_engine, cast: dict[str, Party]) -> SqlCarrierCodes:
    """The cast's carrier codes, as onboarding records them."""
    codes = SqlCarrierCodes(journal_engine)
    for name, code in CARRIER_CODES.items():
        codes.claim(cast[name].org, [code])
    return codes


@pytest.fixture
def service(
    w3: Web3, deployment: Deployment, registry, journal_engine, keystore, carrier_codes
) -> Iterator[TitleService]:
    relayer_key = key_for("service-relayer")
    assert fund_dev_accounts(w3, [relayer_key.address], 10**24)
    with Relayer(w3, deployment, LocalSigner(relayer_key.key), max_delay=0.01) as relayer:
        yield TitleService(
            w3,
            deployment,
            relayer,
            SqlJournal(journal_engine),
            SqlDocumentStore(journal_engine),
            keystore,
            carriers=carrier_codes,
        )


_PG_UNAVAILABLE = postgres_unavailable_reason()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the registry tests (skipped when not installed)."""
    if _PG_UNAVAILABLE is not None:
        pytest.skip(f"PostgreSQL unavailable: {_PG_UNAVAILABLE}")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
