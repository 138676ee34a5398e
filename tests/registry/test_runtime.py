"""The composition root: embedded chain, keys, database and index come back after a restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from registry.chain.anvil import AnvilProcess
from registry.config import Settings
from registry.documents import CarrierCode
from registry.errors import ConfigurationError, LedgerUnavailableError
from registry.members import Organisation
from registry.runtime import Runtime
from registry.store.queries import title_state
from registry.types import Action, Role, Status
from tests.fixtures.dcsa import issued_example


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, keystore_kdf_n=2**14, chain_block_time=0.2)


def test_embedded_registry_survives_a_restart_with_nothing_lost(tmp_path: Path):
    """Issue and transfer, stop everything, start again: chain state, index and keys are all back."""
    settings = _settings(tmp_path / "data")
    with Runtime.open(settings) as runtime:
        carrier, shipper, bank = _carrier_shipper_bank(runtime, "RESTART")
        document = issued_example(transportDocumentReference="RESTART-1")
        ebl = runtime.title.issue(carrier.address, document, shipper.address).ebl_id
        runtime.title.transfer(shipper.address, ebl, bank.address)
        runtime.indexer.sync()
        deployment = runtime.deployment
        assert title_state(runtime.engine, ebl).holder == bank.address

    assert (tmp_path / "data" / "secrets" / "keystore-passphrase").stat().st_mode & 0o777 == 0o600
    with Runtime.open(settings) as again:
        assert again.deployment == deployment
        view = again.title.verify(document=document)
        assert (view.ebl_id, view.holder, view.status) == (ebl, bank.address, Status.ACTIVE)
        assert title_state(again.engine, ebl).holder == bank.address
        assert again.title.transfer(bank.address, ebl, shipper.address).status == "final"
        again.indexer.sync()
        actions = [e.action for e in again.title.history(ebl)]
        assert actions == [Action.ISSUE, Action.TRANSFER, Action.TRANSFER]
        assert again.indexer.check_consistency([ebl]) == []


def test_production_refuses_to_start_on_development_defaults(tmp_path: Path):
    """Production needs an explicit ledger, database and passphrase source."""
    with pytest.raises(ConfigurationError) as refused:
        Settings(env="production", data_dir=tmp_path)
    assert "EBL_RPC_URL" in str(refused.value) and "EBL_DATABASE_URL" in str(refused.value)


def test_the_runtime_restarts_a_killed_chain_and_resubmits_what_the_chain_lost(tmp_path: Path, monkeypatch):
    """kill -9 of the embedded anvil while the registry runs: its watchdog restarts anvil from the state
    file, which here deterministically lacks everything after onboarding (as if anvil died before its
    next dump). An issuance and a transfer already final are resubmitted from the journal and execute
    exactly once; the index rolls back and follows the restored chain."""
    settings = _settings(tmp_path / "data")
    with Runtime.open(settings) as runtime:
        assert runtime.anvil is not None and runtime.anvil.pid is not None
        carrier, shipper, bank = _carrier_shipper_bank(runtime, "CRASH")
        assert runtime.wait_chain_persisted()
        old_state = settings.chain_state_path.read_bytes()
        issued = runtime.title.issue(
            carrier.address, issued_example(transportDocumentReference="CRASH-1"), shipper.address
        )
        moved = runtime.title.transfer(shipper.address, issued.ebl_id, bank.address)
        assert (issued.status, moved.status) == ("final", "final")
        runtime.indexer.sync()

        restart = AnvilProcess.restart

        def restart_from_the_old_dump(self: AnvilProcess, timeout: float = 30.0) -> AnvilProcess:
            settings.chain_state_path.write_bytes(old_state)
            return restart(self, timeout)

        monkeypatch.setattr(AnvilProcess, "restart", restart_from_the_old_dump)
        old_pid = runtime.anvil.pid
        os.kill(old_pid, signal.SIGKILL)

        deadline = time.monotonic() + 60
        while not _holds(runtime, issued.ebl_id, bank.address):
            assert time.monotonic() < deadline, runtime.title.operation(moved.operation_id)
            time.sleep(0.2)
        assert runtime.anvil.pid != old_pid
        for op in (issued, moved):
            assert runtime.title.wait(op.operation_id).status == "final"
        runtime.indexer.sync()
        assert [e.action for e in runtime.title.history(issued.ebl_id)] == [Action.ISSUE, Action.TRANSFER]
        assert runtime.indexer.check_consistency() == []


def test_no_new_write_reaches_a_restored_chain_before_what_it_lost_is_resubmitted(
    tmp_path: Path, monkeypatch
):
    """The chain comes back without the shipper's endorsement to the bank (final before the kill). The
    shipper's next request, a transfer to the bank, is valid on that chain too: had it reached the chain
    before the journal resubmitted the endorsement, it would execute first and the endorsement would then
    fail (the shipper no longer holds): an acknowledged operation lost. While the watchdog restarts and
    recovers, the write gate refuses it (503, retry); afterwards both execute in the order acknowledged."""
    settings = _settings(tmp_path / "data")
    with Runtime.open(settings) as runtime:
        assert runtime.anvil is not None and runtime.anvil.pid is not None
        carrier, shipper, bank = _carrier_shipper_bank(runtime, "GATE")
        issued = runtime.title.issue(
            carrier.address, issued_example(transportDocumentReference="GATE-1"), shipper.address
        )
        assert runtime.wait_chain_persisted()
        old_state = settings.chain_state_path.read_bytes()
        endorsed = runtime.title.endorse(shipper.address, issued.ebl_id, bank.address)
        assert endorsed.status == "final"

        restart = AnvilProcess.restart
        during_recovery: list[object] = []

        def restart_then_write(self: AnvilProcess, timeout: float = 30.0) -> AnvilProcess:
            settings.chain_state_path.write_bytes(old_state)
            restarted = restart(self, timeout)
            try:  # the shipper's retry lands on the restored chain before the recovery ran
                during_recovery.append(runtime.title.transfer(shipper.address, issued.ebl_id, bank.address))
            except Exception as exc:
                during_recovery.append(exc)
            return restarted

        monkeypatch.setattr(AnvilProcess, "restart", restart_then_write)
        os.kill(runtime.anvil.pid, signal.SIGKILL)

        deadline = time.monotonic() + 60
        while not during_recovery or not runtime.title.writes.is_open:
            assert time.monotonic() < deadline, during_recovery
            time.sleep(0.2)
        assert isinstance(during_recovery[0], LedgerUnavailableError), during_recovery
        assert runtime.title.wait(endorsed.operation_id).status == "final"
        moved = runtime.title.transfer(shipper.address, issued.ebl_id, bank.address)
        assert moved.status == "final"
        runtime.indexer.sync()
        actions = [e.action for e in runtime.title.history(issued.ebl_id)]
        assert actions == [Action.ISSUE, Action.ENDORSE_TO_ORDER, Action.TRANSFER]
        assert runtime.indexer.check_consistency() == []


def _carrier_shipper_bank(runtime: Runtime, prefix: str) -> tuple[Organisation, Organisation, Organisation]:
    """Onboard a carrier (code MSC / SMDG, as the DCSA examples name it), a shipper and a bank, each with
    a custodial key."""
    carrier = runtime.members.onboard(f"LEI:{prefix}-CARRIER", Role.CARRIER, [CarrierCode("MSC", "SMDG")])[0]
    shipper, bank = (
        runtime.members.onboard(f"LEI:{prefix}-{name}", role)[0]
        for name, role in (("SHIPPER", Role.TRADER), ("BANK", Role.BANK))
    )
    return carrier, shipper, bank


def _holds(runtime: Runtime, ebl: int, holder: str) -> bool:
    try:
        return runtime.title.verify(ebl).holder == holder
    except Exception:  # the chain is still restarting (connection refused), or the eBL not re-issued yet
        return False
