"""Credentials: organisation profiles are remembered once found, never while missing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from api.auth import Credentials
from registry.store.db import create_engine_for, migrate

CARRIER = "0x" + "11" * 20
BANK = "0x" + "22" * 20


def _credentials(tmp_path: Path) -> Credentials:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'auth.db'}")
    migrate(engine)
    return Credentials(engine)


def test_a_found_profile_is_served_without_the_database(tmp_path: Path):
    credentials = _credentials(tmp_path)
    credentials.save_profile(CARRIER, "Demo Ocean Carrier A/S", "LEI:CARRIER", "carrier")
    assert credentials.profiles({CARRIER})[CARRIER].name == "Demo Ocean Carrier A/S"

    with credentials._sessions.begin() as session:  # profiles are write-once; prove the cache answers
        session.execute(text("DELETE FROM org_profiles"))
    assert credentials.profiles({CARRIER})[CARRIER].identifier == "LEI:CARRIER"


def test_a_missing_profile_is_asked_again_once_saved(tmp_path: Path):
    credentials = _credentials(tmp_path)
    assert credentials.profiles({BANK}) == {}

    credentials.save_profile(BANK, "Demo Trade Bank plc", "LEI:BANK", "bank")
    assert credentials.profiles({BANK, CARRIER})[BANK].role == "bank"
