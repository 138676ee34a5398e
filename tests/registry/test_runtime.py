"""The composition root: embedded chain, keys, database and index come back after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.config import Settings
from registry.errors import ConfigurationError
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
        carrier, _ = runtime.members.onboard("LEI:RESTART-CARRIER", Role.CARRIER)
        shipper, _ = runtime.members.onboard("LEI:RESTART-SHIPPER", Role.TRADER)
        bank, _ = runtime.members.onboard("LEI:RESTART-BANK", Role.BANK)
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
