"""Governance actions go through the governance journal like title actions: a chain restored from a
state older than an acknowledged onboarding (the embedded anvil after a machine crash) gets it back,
and the new carrier's own issuance after it, when the runtime recovers; nothing executes twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from web3.types import RPCEndpoint

from registry.config import Settings
from registry.documents import CarrierCode
from registry.errors import ContractRevertError
from registry.runtime import Runtime
from registry.store.governance import SqlGovernanceJournal
from registry.types import OrgStatus, Role
from tests.fixtures.dcsa import issued_example
from tests.support.chains import TestChain, ledger_kind, new_chain


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a chain of its own (no watchdog: the test says when the chain was restored)."""
    chain: TestChain
    with new_chain() as chain:
        settings = Settings(
            data_dir=tmp_path / "data",
            rpc_url=chain.url,
            ledger=ledger_kind(),
            keystore_kdf_n=2**14,
            relayer_max_delay=0.01,
        )
        with Runtime.open(settings, follow=False) as rt:
            yield rt


def _rpc(runtime: Runtime, method: str, params: list[object]) -> object:
    reply = runtime.w3.provider.make_request(RPCEndpoint(method), params)
    assert "error" not in reply, reply
    return reply["result"]


def test_an_onboarding_the_restored_chain_lost_is_resent_before_the_new_members_operations(
    runtime: Runtime,
) -> None:
    journal = SqlGovernanceJournal(runtime.engine)
    since = datetime.now(UTC) - timedelta(seconds=5)
    shipper = runtime.members.onboard("LEI:GOV-SHIPPER", Role.TRADER)[0]
    snapshot = _rpc(runtime, "evm_snapshot", [])
    carrier = runtime.members.onboard("LEI:GOV-CARRIER", Role.CARRIER, [CarrierCode("MSC", "SMDG")])[0]
    onboarding = [r for r in journal.final_since(since) if r.purpose.startswith("registerOrganisation")][-1]
    assert onboarding.status == "final" and onboarding.block_number is not None
    document = issued_example(transportDocumentReference="GOV-1")
    issued = runtime.title.issue(carrier.address, document, shipper.address)
    assert issued.status == "final"

    _rpc(runtime, "evm_revert", [snapshot])  # the chain comes back from a state before the onboarding
    runtime.relayer.reset("test: chain restored")
    assert runtime.members.organisation(carrier.address).status is OrgStatus.NONE

    assert runtime.members.governance.recover(recheck_final_since=since) == 1
    assert runtime.title.recover(recheck_final_since=since) == 1
    assert runtime.title.wait(issued.operation_id).status == "final"
    assert runtime.members.organisation(carrier.address).status is OrgStatus.ACTIVE
    assert runtime.members.organisation(shipper.address).status is OrgStatus.ACTIVE  # never lost
    assert runtime.title.verify(issued.ebl_id).holder == shipper.address
    again = journal.get(onboarding.tx_hash)
    assert again is not None and again.status == "final"
    assert runtime.members.governance.recover(recheck_final_since=since) == 0  # on chain: nothing to do


def test_a_refused_governance_action_is_not_journalled_as_pending(runtime: Runtime) -> None:
    """A simulation that reverts (the organisation exists) signs and journals nothing."""
    journal = SqlGovernanceJournal(runtime.engine)
    org = runtime.members.onboard("LEI:GOV-ONCE", Role.BANK)[0]
    runtime.members.suspend(org.address)
    with pytest.raises(ContractRevertError):
        runtime.members.suspend(org.address)
    assert journal.unfinished() == []
    purposes = [r.purpose for r in journal.final_since(datetime.now(UTC) - timedelta(minutes=5))]
    assert [p.split()[0] for p in purposes] == ["registerOrganisation", "suspendOrganisation"]
