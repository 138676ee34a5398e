"""The chain watchdog no longer restarts the embedded chain to dump it less often: the persister's wait
follows the dump's cost on the running chain (docs/ledger.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import watchdog
from registry.chain import anvil_persist
from registry.config import Settings
from registry.runtime import Runtime
from registry.store.queries import title_state
from registry.types import Status
from tests.fixtures.dcsa import issued_example
from tests.registry.test_runtime import _carrier_shipper_bank


def test_a_state_dear_to_dump_is_dumped_less_often_by_the_same_chain_with_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry starts on an empty chain (a dump every second). Once a dump looks dear (here: the
    cost factor raised a millionfold), the next wait is the longest allowed; the watchdog's backup
    rounds pass and the chain keeps its process, its eBL and its writes."""
    monkeypatch.setattr(watchdog, "BACKUP_EVERY", 0.5)
    settings = Settings(
        data_dir=tmp_path / "data",
        keystore_kdf_n=2**14,
        chain_block_time=0.2,
        chain_state_interval=1,
        chain_state_interval_max=60,
    )
    with Runtime.open(settings) as runtime:
        assert runtime.anvil is not None and runtime.anvil.state_interval == 1
        carrier, shipper, _ = _carrier_shipper_bank(runtime, "RESIZE")
        ebl = runtime.title.issue(
            carrier.address, issued_example(transportDocumentReference="RESIZE-1"), shipper.address
        ).ebl_id
        first_pid = runtime.anvil.pid
        monkeypatch.setattr(anvil_persist, "COST_FACTOR", 1e6)
        assert runtime.wait_chain_persisted()
        assert runtime.anvil.state_interval == 60

        other = issued_example(transportDocumentReference="RESIZE-2")
        assert runtime.title.issue(carrier.address, other, shipper.address).status == "final"
        assert runtime.anvil.backup_current() or runtime.anvil.backup_state()
        assert runtime.anvil.pid == first_pid and runtime.title.writes.is_open
        assert runtime.title.verify(ebl).status is Status.ACTIVE
        runtime.indexer.sync()
        assert title_state(runtime.engine, ebl).holder == shipper.address
