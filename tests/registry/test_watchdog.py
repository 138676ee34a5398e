"""The chain watchdog keeps the embedded chain's persistence sized to its state (docs/ledger.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from registry import watchdog
from registry.chain import anvil_state
from registry.config import Settings
from registry.runtime import Runtime
from registry.store.queries import title_state
from registry.types import Status
from tests.fixtures.dcsa import issued_example
from tests.registry.test_runtime import _carrier_shipper_bank


def test_a_state_that_outgrew_its_dump_interval_is_restarted_to_dump_less_often_with_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry starts on an empty chain (a dump every second). Once its state is large enough that
    dumping it that often would cost too much (here: dumps made to look a thousand times dearer), the
    watchdog restarts anvil, which comes back dumping less often; the eBL issued before is still there
    and the registry takes writes again."""
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
        assert runtime.wait_chain_persisted()
        first_pid = runtime.anvil.pid
        monkeypatch.setattr(anvil_state, "DUMP_CPU_S_PER_MIB", 1000 * anvil_state.DUMP_CPU_S_PER_MIB)

        deadline = time.monotonic() + 60
        while runtime.anvil.pid == first_pid or not runtime.title.writes.is_open:
            assert time.monotonic() < deadline, "the watchdog did not restart the chain"
            time.sleep(0.2)
        assert runtime.anvil.state_interval > 1
        assert runtime.title.verify(ebl).status is Status.ACTIVE
        other = issued_example(transportDocumentReference="RESIZE-2")
        assert runtime.title.issue(carrier.address, other, shipper.address).status == "final"
        runtime.indexer.sync()
        assert title_state(runtime.engine, ebl).holder == shipper.address
