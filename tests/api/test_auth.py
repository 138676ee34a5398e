"""Credentials: organisation profiles are remembered once found, never while missing; revocation and
expiry reach every gateway process on the database within ``revalidate`` seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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


# --- revocation and expiry across gateway processes ------------------------------------------


def _two_gateways(tmp_path: Path) -> tuple[Credentials, Credentials]:
    """Two credential stores on one database, as two gateway processes have."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'shared.db'}")
    migrate(engine)
    return Credentials(engine), Credentials(engine)


def test_a_token_revoked_by_another_process_is_refused_after_revalidate_seconds(tmp_path: Path):
    """A remembers a verified token; B revokes it; A serves it from memory at most ``revalidate``
    seconds, then re-reads the row (no argon2) and refuses it as revoked."""
    a, b = _two_gateways(tmp_path)
    issued = a.issue("customs", "auditor", None)
    assert a.check(issued.token) == issued.principal
    assert a.cached(issued.token) == issued.principal

    assert b.revoke(issued.principal.credential_id) is not None
    time.sleep(a.revalidate)
    assert a.cached(issued.token) is None  # the memory no longer answers alone
    assert a.check(issued.token) == "revoked"
    assert a.authenticate(issued.token) is None


def test_revalidating_a_remembered_token_costs_no_argon2(tmp_path: Path, monkeypatch):
    """Within ``cache_ttl`` only the row is read again: argon2 is not asked."""
    a, _ = _two_gateways(tmp_path)
    issued = a.issue("customs", "auditor", None)
    assert a.check(issued.token) == issued.principal
    calls: list[str] = []

    class Refusing:
        def verify(self, *args: object) -> bool:
            calls.append("argon2")
            raise AssertionError("argon2 asked again")

    monkeypatch.setattr(a, "_hasher", Refusing())
    time.sleep(a.revalidate)
    assert a.check(issued.token) == issued.principal
    assert calls == []


def test_an_expired_credential_is_refused_even_from_memory(tmp_path: Path):
    a, b = _two_gateways(tmp_path)
    expires_at = datetime.now(UTC) + timedelta(seconds=5)  # room for a slow argon2 on a busy machine
    issued = a.issue("customs", "auditor", None, expires_at=expires_at)
    assert a.check(issued.token) == issued.principal
    assert a.cached(issued.token) == issued.principal
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
    assert a.cached(issued.token) is None
    assert a.check(issued.token) == "expired" and b.check(issued.token) == "expired"
    assert a.get(issued.principal.credential_id).status == "expired"  # type: ignore[union-attr]


def test_a_wrong_secret_is_invalid_not_revoked(tmp_path: Path):
    """Only a caller holding the secret learns that a credential was revoked."""
    a, _ = _two_gateways(tmp_path)
    issued = a.issue("customs", "auditor", None)
    a.revoke(issued.principal.credential_id)
    credential_id = issued.principal.credential_id
    assert a.check(f"ebl_{credential_id}.wrong") == "invalid"
    assert a.check(issued.token) == "revoked"
    assert a.check("not-a-token") == "invalid"


@pytest.mark.parametrize(
    "expires_at", [datetime(2001, 1, 1, tzinfo=UTC), datetime(2100, 1, 1)], ids=["past", "naive"]
)
def test_an_expiry_must_be_a_future_instant(tmp_path: Path, expires_at: datetime):
    a, _ = _two_gateways(tmp_path)
    with pytest.raises(ValueError):
        a.issue("customs", "auditor", None, expires_at=expires_at)


def test_credentials_are_listed_without_secrets(tmp_path: Path):
    a, _ = _two_gateways(tmp_path)
    first = a.issue("customs", "auditor", None)
    second = a.issue("ops", "governance", None)
    a.revoke(first.principal.credential_id)
    records = a.records()
    assert [(r.credential_id, r.status) for r in records] == [
        (first.principal.credential_id, "revoked"),
        (second.principal.credential_id, "active"),
    ]
    assert [r.credential_id for r in a.records(role="governance")] == [second.principal.credential_id]
    assert first.token.split(".")[1] not in repr(records)
