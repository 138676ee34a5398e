"""The crash backup's schedule: never more than its interval behind the newest complete dump."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.chain import anvil_state
from registry.chain.anvil_state import BackupSchedule, backup_current, backup_path

EVERY, PROBE = 30.0, 0.5
START = 1_800_000_000.0


class Clock:
    """A wall clock the test moves by hand (the schedule compares it with files' modification times)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def dump(state: Path, blocks: int, at: float, *, torn: bool = False) -> None:
    """Write a dump in anvil's layout holding ``blocks`` blocks, modified at ``at``."""
    body = f'{{"block":{{"number":{blocks}}},"accounts":{{}},"historical_states":null}}'
    state.write_text(body[: len(body) // 2] if torn else body)
    os.utime(state, (at, at))


def backed_up_blocks(state: Path) -> str:
    return backup_path(state).read_text().split('"number":')[1].split("}")[0]


def test_a_new_dump_is_backed_up_just_before_it_is_the_interval_old_and_not_sooner(tmp_path: Path) -> None:
    state, clock = tmp_path / "state.json", Clock()
    backups = BackupSchedule(state, EVERY, PROBE, clock)
    dump(state, 1, at=START)
    assert backups.tick() and backup_current(state), "no backup yet: the first dump is long due"
    dump(state, 2, at=START + 5)
    for clock.now in (START + 5, START + 20, START + 5 + EVERY - 3 * PROBE):
        assert not backups.tick() and not backup_current(state)
    assert backups.lag() == EVERY - 3 * PROBE
    clock.now = START + 5 + EVERY - 2 * PROBE  # two probes before the dump is the interval old
    assert backups.tick() and backup_current(state) and backed_up_blocks(state) == "2"
    assert backups.lag() == 0.0
    assert backups.max_lag_s == EVERY - 2 * PROBE


def test_the_lag_counts_from_the_oldest_dump_the_backup_lacks_and_the_newest_is_copied(
    tmp_path: Path,
) -> None:
    state, clock = tmp_path / "state.json", Clock()
    backups = BackupSchedule(state, EVERY, PROBE, clock)
    dump(state, 1, at=START - EVERY)
    assert backups.tick()
    dump(state, 2, at=START)  # the first dump after the backup: its time is noted
    assert not backups.tick()
    clock.now = START + 25
    dump(state, 3, at=START + 25)  # a newer one while the backup waits
    assert not backups.tick()
    clock.now = START + EVERY - 2 * PROBE
    assert backups.tick(), "due by the oldest missing dump's age, not the newest's"
    assert backed_up_blocks(state) == "3" and backups.max_lag_s <= EVERY


def test_a_state_file_that_does_not_change_is_never_copied_again(tmp_path: Path) -> None:
    """An idle chain mines nothing and so is not dumped: its backup stays current, at no cost."""
    state, clock = tmp_path / "state.json", Clock()
    backups = BackupSchedule(state, EVERY, PROBE, clock)
    dump(state, 1, at=START - 3600)
    assert backups.tick()
    copied = backup_path(state).stat().st_mtime_ns, backup_path(state).stat().st_ino
    for hour in range(1, 4):
        clock.now = START + 3600 * hour
        assert not backups.tick() and backups.lag() == 0.0
    assert (backup_path(state).stat().st_mtime_ns, backup_path(state).stat().st_ino) == copied


def test_a_dump_caught_torn_is_not_copied_and_the_next_probe_copies_the_whole_one(tmp_path: Path) -> None:
    state, clock = tmp_path / "state.json", Clock()
    backups = BackupSchedule(state, EVERY, PROBE, clock)
    dump(state, 1, at=START - 2 * EVERY)
    assert backups.tick()
    dump(state, 2, at=START - EVERY, torn=True)  # anvil's own dump, still being written in place
    assert not backups.tick() and backed_up_blocks(state) == "1"
    dump(state, 2, at=START - EVERY + 1)
    clock.now += PROBE
    assert backups.tick() and backed_up_blocks(state) == "2"


def test_no_state_file_yet_is_nothing_to_back_up(tmp_path: Path) -> None:
    backups = BackupSchedule(tmp_path / "state.json", EVERY, PROBE, Clock())
    assert not backups.tick() and backups.lag() == 0.0


def test_a_state_that_grew_is_copied_earlier_by_the_time_its_copy_will_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry preloaded 100,000 eBLs: the next dump is a hundred times the last one copied. Copying
    takes 1 s per 100 KB here (the fake clock moves while it copies), so it starts that much sooner and
    the backup still catches up before the dump is 30 s old."""
    state, clock = tmp_path / "state.json", Clock()
    real_copy = anvil_state.backup_state

    def slow_copy(path: Path) -> bool:
        clock.now += path.stat().st_size / 100_000
        return real_copy(path)

    monkeypatch.setattr(anvil_state, "backup_state", slow_copy)
    backups = BackupSchedule(state, EVERY, PROBE, clock)
    small = '{"block":{"number":1},"accounts":{"a":"' + "0" * 10_000 + '"},"historical_states":null}'
    state.write_text(small)
    os.utime(state, (START, START))
    assert backups.tick()  # 0.1 s for 10 KB
    large = small.replace("0" * 10_000, "0" * 1_000_000)  # 1 MB: a 10 s copy
    state.write_text(large)
    os.utime(state, (START + 1, START + 1))
    clock.now = START + 1 + EVERY - 2 * PROBE - 10.5
    assert not backups.tick()
    clock.now = START + 1 + EVERY - 2 * PROBE - 10
    assert backups.tick() and backup_current(state)
    assert EVERY - 2 * PROBE <= backups.max_lag_s < EVERY
