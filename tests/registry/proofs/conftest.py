"""Fixtures of the offline-proof tests: a real audit bundle built on the session chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry.proofs.bundle import build_bundle
from registry.proofs.keyring import AttestationKeys
from registry.store.indexer import Indexer
from registry.store.queries import history
from tests.fixtures.dcsa import issued_example


@pytest.fixture
def bundle_keys(tmp_path: Path) -> AttestationKeys:
    """The attestation keys that sign the bundle's head."""
    return AttestationKeys(tmp_path / "attestation")


@pytest.fixture
def bundle(w3, deployment, journal_engine, service, carrier, shipper, bank, bundle_keys) -> dict[str, Any]:
    """The embedded chain's bundle of a to-order bill: issued, endorsed to the bank, transferred."""
    doc = issued_example("regular", transportDocumentReference="QBFT-1")
    issued = service.issue(carrier.org, doc, shipper.org)
    service.endorse(shipper.org, issued.ebl_id, bank.org)
    service.transfer(shipper.org, issued.ebl_id, bank.org)
    indexer = Indexer(w3, deployment, journal_engine)
    indexer.sync()
    return build_bundle(
        w3,
        archive=indexer.archive,
        registry=deployment.address,
        chain_id=w3.eth.chain_id,
        ebl_id=int(issued.ebl_id),
        events=history(journal_engine, int(issued.ebl_id)),
        document=doc,
        keys=bundle_keys,
        head_hash=w3.eth.get_block("latest")["hash"].to_0x_hex(),
    )
