"""CI's short version of the endurance benchmark (issue 17: ``make soak`` runs the hour): the ops/s mix
through the relayer on the registry's anvil, sampled, summarised and written as the long run is.
Nothing here is timed: the figures are the benchmark's, in ``bench/results/``."""

from __future__ import annotations

import json
from pathlib import Path

from bench.endurance import main
from bench.throughput import MIX_TARGET


def test_a_short_endurance_run_carries_the_mix_and_writes_its_results(tmp_path: Path) -> None:
    """A few seconds at 20 ops/s of the mix, then idle: every operation final, the mix offered is the
    project's (issues, transfers, endorsements, surrenders and accepts), memory and the state file
    sampled, reads at the newest blocks answer, and every registry log is still served."""
    out = tmp_path / "endurance.json"
    main(
        [
            "--rate",
            "20",
            "--duration",
            "8",
            "--idle",
            "2",
            "--sample",
            "2",
            "--warmup",
            "2",
            "--out",
            str(out),
        ]
    )
    result = json.loads(out.read_text())
    assert "partial" not in result
    assert result["parameters"]["mix"] == MIX_TARGET
    assert set(result["mix_offered"]) >= {"issue", "transfer", "endorse"}
    summary = result["summary"]
    assert summary["failed"] == 0 and summary["operations_final"] > 0
    assert all(s["anvil_rss_mib"] > 0 for s in result["samples"])
    assert summary["reads_at_head_minus_k"]["1"] == "ok"
    assert summary["registry_logs_kept"] > summary["operations_final"]
