"""Crash right after an acknowledged onboarding: `make run`'s gateway and its embedded chain are killed
with SIGKILL (a machine crash) the moment ``POST /v1/governance/organisations`` answers 201. The chain
comes back from its last state dump, which is up to a second old and so usually predates the
onboarding; the restarted gateway resends it from the governance journal. Round after round, every
acknowledged organisation is on chain, registered exactly once.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.types import OrgStatus
from tests.hypothesis_profiles import PROFILE
from tests.support.gateway_process import WITNESS_HISTORY, GatewayProcess

ROUNDS = int(os.environ.get("EBL_GOVERNANCE_CRASH_ROUNDS", "8" if PROFILE == "long" else "3"))
"""Without the journal about one round in three lost its onboarding (8 rounds: lost in round 3)."""


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(tmp_path, env=dict(WITNESS_HISTORY))
    try:
        gw.start()
        yield gw
    finally:
        gw.close()


def test_an_onboarding_acknowledged_just_before_a_machine_crash_is_on_chain_after_the_restart(
    gateway: GatewayProcess,
) -> None:
    assert gateway.credentials is not None
    governance = gateway.credentials["governance"]["token"]
    acknowledged: list[str] = []  # organisation addresses
    for n in range(ROUNDS):
        with gateway.client(governance, timeout=60) as gov:
            body = {"identifier": f"LEI:CRASH-BANK-{n}", "name": f"Crash Bank {n}", "role": "bank"}
            r = gov.post("/v1/governance/organisations", json=body)
        assert r.status_code == 201, r.text
        acknowledged.append(r.json()["organisation"]["address"])
        gateway.kill_chain()  # the machine goes down: the chain first, then the gateway
        gateway.kill_gateway()
        gateway.start()

        deployment = Deployment.load(gateway.data_dir / "deployment.json")
        w3 = Web3(Web3.HTTPProvider(gateway.chain_url, request_kwargs={"timeout": 60}))
        registry = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        for org in acknowledged:
            _, _, status, _ = registry.functions.organisation(org).call()
            assert OrgStatus(status) is OrgStatus.ACTIVE, f"round {n}: {org} lost"
        events = registry.events.OrganisationRegistered().get_logs(from_block=deployment.block_number)
        registered = Counter(e["args"]["org"] for e in events)
        assert all(registered[org] == 1 for org in acknowledged), registered
