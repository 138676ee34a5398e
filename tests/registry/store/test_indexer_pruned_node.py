"""The index checked against a node that keeps few historical states (the embedded anvil keeps
``EBL_CHAIN_STATES_KEPT``, docs/ledger.md): a lagging checkpoint is refused clearly, never reported as
discrepancies, and a sync makes the check answer again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from web3 import Web3

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.build import load_artifact
from registry.errors import StateNotKeptError
from registry.store.indexer import Indexer
from tests.conftest import deploy_onboarded
from tests.contracts.parties import CAST, party
from tests.contracts.parties import test_key as key_of
from tests.registry.store.conftest import Chain

KEPT = 4


@pytest.fixture(scope="module")
def pruned_chain() -> Iterator[Chain]:
    """A registry on its own anvil that mines on demand and keeps ``KEPT`` states, as the registry's."""
    with AnvilProcess(AnvilConfig(block_time=0.2, on_demand=True, states_kept=KEPT)) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        governance: LocalAccount = key_of("pruned-governance")
        bridge: LocalAccount = key_of("pruned-bridge")
        cast = {name: party(name, role) for name, role in CAST.items()}
        dep = deploy_onboarded(w3, governance, bridge, cast)
        registry = w3.eth.contract(address=dep.address, abi=load_artifact().abi)
        yield Chain(w3, dep, registry, cast, governance, bridge)


def test_a_check_at_a_forgotten_checkpoint_is_refused_and_answers_after_a_sync(
    pruned_chain: Chain, engine: Engine
) -> None:
    """The auditor's consistency check compares at the index's checkpoint. When the chain has moved
    more than ``KEPT`` blocks past it, the node cannot answer there: the check says so (a typed error
    naming the block) instead of reporting every eBL as missing; after a sync it passes."""
    bill, _ = pruned_chain.issue(to="shipper")
    indexer = Indexer(pruned_chain.w3, pruned_chain.deployment, engine)
    indexer.sync()
    assert indexer.check_consistency([bill]) == []
    checkpoint = indexer.checkpoint()
    assert checkpoint is not None
    later = [pruned_chain.issue(to="bank")[0] for _ in range(2 * KEPT)]  # one block each
    with pytest.raises(StateNotKeptError) as refused:
        indexer.check_consistency([bill, *later])
    assert refused.value.block == hex(checkpoint[0])
    indexer.sync()
    assert indexer.check_consistency([bill, *later]) == []
