"""Issue 17: a node that forgets old blocks (``--transaction-block-keeper``) no longer serves the
registry's early logs, yet an index rebuilt from the registry's own archive finds every eBL, and an
audit bundle of an early bill still verifies offline; an archive started only after the node pruned
stops with a typed gap error instead of a partial index."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from sqlalchemy import Engine, func, select

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.events import REGISTRY_EVENTS, decode_logs
from registry.chain.rpc import receipt_on_chain, rpc
from registry.documents.canonical import document_hash_bytes
from registry.errors import ArchiveGapError
from registry.proofs.audit import verify_bundle
from registry.proofs.bundle import build_bundle
from registry.proofs.keyring import AttestationKeys
from registry.store.archive import archived_receipt
from registry.store.db import create_engine_for, migrate
from registry.store.indexer import Indexer
from registry.store.models import Ebl
from registry.store.queries import history
from registry.types import DocumentKind
from tests.fixtures.dcsa import issued_example
from tests.registry.store.conftest import ZERO, Chain

KEPT = 16
"""Blocks whose transactions the node keeps (deployment and onboarding fit in it)."""
_TDR = itertools.count()


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilProcess]:
    """This module's own chain: automine, every block's transactions forgotten after ``KEPT`` blocks
    (the store conftest's ``chain`` deploys the registry on it)."""
    with AnvilProcess(AnvilConfig(transactions_kept=KEPT)) as node:
        yield node


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    migrate(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


def _issue(chain: Chain, document: dict[str, object]) -> int:
    carrier = chain.cast["carrier"]
    tdr = keccak(text=f"pruned-TDR-{next(_TDR)}")
    fn = chain.registry.functions.issue(
        tdr, document_hash_bytes(document), chain.org("shipper"), ZERO, int(DocumentKind.TO_ORDER)
    )
    chain.send(fn, carrier)
    return int(chain.registry.functions.eblIdOf(carrier.org, tdr).call())


def _issued_on_node(chain: Chain) -> int:
    """How many ``Issued`` logs ``eth_getLogs`` from the deployment block still answers."""
    logs = rpc(
        chain.w3,
        "eth_getLogs",
        [{"address": chain.deployment.address, "fromBlock": hex(chain.deployment.block_number)}],
    )
    return sum(1 for lg in decode_logs(logs, REGISTRY_EVENTS) if lg.name == "Issued")


def test_a_rebuild_after_the_node_pruned_finds_every_ebl_and_an_early_bundle_verifies(
    chain: Chain, db: Engine, tmp_path: Path
) -> None:
    """The follower's part (sync every few blocks) keeps the archive within the node's window; after
    the node forgot the early blocks, a rebuild reads them from the archive alone."""
    indexer = Indexer(chain.w3, chain.deployment, db)
    indexer.sync()  # the deployment and onboarding blocks, while the node still serves them
    early_doc = issued_example("regular", transportDocumentReference="PRUNED-1")
    early = _issue(chain, early_doc)
    chain.act("shipper", "transferPossession", early, chain.org("bank"))
    issued = [early]
    for n in range(3 * KEPT):
        issued.append(_issue(chain, issued_example("regular", transportDocumentReference=f"LATER-{n}")))
        if n % 4 == 0:
            indexer.sync()
    indexer.sync()

    on_node = _issued_on_node(chain)
    assert 0 < on_node < len(issued)  # the node forgot the early blocks' logs: eth_getLogs misses them
    indexer.rebuild()
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Ebl)).scalar() == len(issued)
    assert indexer.check_consistency() == []  # every row as the chain's titleOf says
    assert indexer.check_consistency(issued) == []

    keys = AttestationKeys(tmp_path / "attestation")
    bundle = build_bundle(
        chain.w3,
        archive=indexer.archive,
        registry=chain.deployment.address,
        chain_id=chain.w3.eth.chain_id,
        ebl_id=early,
        events=history(db, early),
        document=early_doc,
        keys=keys,
        head_hash=chain.w3.eth.get_block("latest")["hash"].to_0x_hex(),
    )
    assert not chain.w3.eth.get_block(bundle["actions"][0]["blockNumber"])["transactions"]  # pruned
    issuance = bundle["actions"][0]["txHash"]
    assert rpc(chain.w3, "eth_getTransactionReceipt", [issuance]) is None  # the node forgot it
    kept = archived_receipt(indexer.archive, issuance)  # recovery asks the archive: still on chain
    assert kept is not None and receipt_on_chain(chain.w3, kept, chain.w3.eth.block_number)
    checked = verify_bundle(bundle, keys.public_jwks())
    assert [t.action for t in checked.timeline] == ["ISSUE", "TRANSFER"]


def test_an_archive_started_after_the_node_pruned_stops_at_the_first_missing_block(
    chain: Chain, db: Engine
) -> None:
    """A fresh database on a chain whose early blocks the node no longer serves: the sync raises the
    typed gap error naming the deployment block, and indexes nothing rather than part of the registry."""
    for n in range(2 * KEPT):
        _issue(chain, issued_example("regular", transportDocumentReference=f"GAP-{n}"))
    indexer = Indexer(chain.w3, chain.deployment, db)
    with pytest.raises(ArchiveGapError, match=f"block {chain.deployment.block_number}") as refused:
        indexer.sync()
    assert refused.value.block == chain.deployment.block_number
    assert indexer.checkpoint() is None
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Ebl)).scalar() == 0
