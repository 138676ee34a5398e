"""API credentials: each request acts as exactly one principal (an organisation with its role).

A credential is ``ebl_<id>.<secret>``. The database keeps only the argon2id hash of the secret; the
token is shown once, when it is created. Verifying argon2 costs tens of milliseconds by design, so a
verified token is remembered for ``cache_ttl`` seconds under its SHA-256 (never the token itself);
revoking a credential takes effect within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from registry.store.models import ApiCredential, OrgProfile

__all__ = ["ApiRole", "Credentials", "IssuedCredential", "Principal"]

ApiRole = Literal["carrier", "bank", "trader", "auditor", "governance"]
API_ROLES: tuple[ApiRole, ...] = get_args(ApiRole)
MEMBER_ROLES: tuple[ApiRole, ...] = ("carrier", "bank", "trader")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    credential_id: str
    name: str
    role: ApiRole
    org: str | None
    """The member organisation (None for auditors and governance, who hold no title)."""


@dataclass(frozen=True)
class IssuedCredential:
    """A new credential; ``token`` is shown exactly once."""

    principal: Principal
    token: str

    def __repr__(self) -> str:
        return f"IssuedCredential(principal={self.principal!r}, token=<hidden>)"


class Credentials:
    """Creates, verifies and revokes API credentials; keeps organisation profiles."""

    def __init__(self, engine: Engine, *, cache_ttl: float = 60.0) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._hasher = PasswordHasher()
        self._cache: dict[bytes, tuple[Principal, float]] = {}
        self._profiles: dict[str, OrgProfile] = {}
        self._lock = threading.Lock()
        self.cache_ttl = cache_ttl
        # A real argon2 hash to verify against when the id is unknown, so timing does not reveal ids.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def issue(self, name: str, role: ApiRole, org: str | None) -> IssuedCredential:
        """Create a credential for a principal."""
        if role not in API_ROLES:
            raise ValueError(f"unknown role {role!r}")
        if (role in MEMBER_ROLES) != (org is not None):
            raise ValueError("member roles need an organisation; auditor and governance have none")
        credential_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            session.add(
                ApiCredential(
                    id=credential_id,
                    name=name,
                    role=role,
                    org=org,
                    secret_hash=self._hasher.hash(secret),
                    created_at=datetime.now(UTC),
                )
            )
        return IssuedCredential(Principal(credential_id, name, role, org), f"ebl_{credential_id}.{secret}")

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified within ``cache_ttl``, or None: a dictionary look-up that
        never touches argon2 or the database (so callers may use it on an event loop)."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            cached = self._cache.get(digest)
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def authenticate(self, token: str) -> Principal | None:
        """The principal a token acts as, or None (unknown, revoked or wrong secret)."""
        found = self.cached(token)
        if found is not None:
            return found
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        principal = self._verify(token)
        if principal is not None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (principal, now + self.cache_ttl)
        return principal

    def _verify(self, token: str) -> Principal | None:
        if not token.startswith("ebl_") or "." not in token:
            return None
        credential_id, _, secret = token[4:].partition(".")
        with self._sessions() as session:
            row = session.get(ApiCredential, credential_id)
        stored = row.secret_hash if row is not None and row.revoked_at is None else self._decoy
        try:
            self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.revoked_at is not None or not hmac.compare_digest(stored, row.secret_hash):
            return None
        return Principal(row.id, row.name, row.role, row.org)  # type: ignore[arg-type]

    def revoke(self, credential_id: str) -> None:
        """Revoke a credential (effective everywhere within ``cache_ttl``; at once in this process)."""
        with self._sessions.begin() as session:
            row = session.get(ApiCredential, credential_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[0].credential_id != credential_id}

    def save_profile(self, address: str, name: str, identifier: str, role: str) -> None:
        """Record an organisation's name and legal identifier (idempotent)."""
        with self._sessions.begin() as session:
            if session.get(OrgProfile, address) is None:
                session.add(
                    OrgProfile(
                        address=address,
                        name=name,
                        identifier=identifier,
                        role=role,
                        created_at=datetime.now(UTC),
                    )
                )

    def profiles(self, addresses: set[str]) -> dict[str, OrgProfile]:
        """Profiles of the given organisations, by address.

        A profile is written once and never changed (:meth:`save_profile` only inserts), so found
        profiles are remembered in process; a bank's verification then costs no database read for them.
        Unknown addresses are asked again every time (a profile may be saved later).
        """
        found = {a: p for a in addresses if (p := self._profiles.get(a)) is not None}
        missing = addresses - found.keys()
        if not missing:
            return found
        with self._sessions() as session:
            rows = session.scalars(select(OrgProfile).where(OrgProfile.address.in_(missing))).all()
        with self._lock:
            if len(self._profiles) > 100_000:
                self._profiles.clear()
            for row in rows:
                self._profiles[row.address] = row
                found[row.address] = row
        return found
