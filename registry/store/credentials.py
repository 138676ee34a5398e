"""The credential store: each API request acts as exactly one principal (an organisation with its
role).

A credential is ``ebl_<id>.<secret>``. The database keeps only the argon2id hash of the secret; the
token is shown once, when it is created. A credential may carry an expiry (``expires_at``) and is
revoked by governance.

Verifying argon2 costs tens of milliseconds by design, so a verified token is remembered for
``cache_ttl`` seconds under its SHA-256 (never the token itself). Revocation does not wait for that:
a remembered token is served from memory for at most ``revalidate`` seconds (0.5 s), then its row's
``revoked_at`` and ``expires_at`` are read again by primary key (microseconds, no argon2). Every
gateway process sharing the database therefore refuses a revoked token within ``revalidate``
seconds, at the cost of one indexed read per active credential per ``revalidate`` seconds per
process; an expired one is refused at once (the expiry travels with the cached principal).
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
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from registry.errors import InvalidRequestError
from registry.store.models import ApiCredential, OrgProfile

__all__ = [
    "API_ROLES",
    "MEMBER_ROLES",
    "ApiRole",
    "CredentialRecord",
    "Credentials",
    "IssuedCredential",
    "Principal",
    "Refusal",
]

ApiRole = Literal["carrier", "bank", "trader", "auditor", "governance"]
Refusal = Literal["invalid", "revoked", "expired"]
"""Why a token was refused: unknown id or wrong secret, revoked, or past its expiry."""
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
class CredentialRecord:
    """A credential's public facts (never its secret or hash)."""

    credential_id: str
    name: str
    role: ApiRole
    org: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> Literal["active", "revoked", "expired"]:
        """``revoked`` wins over ``expired``; ``active`` otherwise."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"


@dataclass
class _Remembered:
    """A verified token in the cache: its principal, until when the argon2 check counts, when its row
    was last read, and its expiry (unix seconds)."""

    principal: Principal
    verified_until: float
    checked_at: float
    expires_at: float | None


def _standing(revoked_at: datetime | None, expires_at: datetime | None) -> float | Refusal | None:
    """Why a credential no longer counts, or its expiry (unix seconds; None for none)."""
    if revoked_at is not None:
        return "revoked"
    expiry = _utc(expires_at)
    if expiry is not None and expiry <= datetime.now(UTC):
        return "expired"
    return None if expiry is None else expiry.timestamp()


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a time zone: they are UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IssuedCredential:
    """A new credential; ``token`` is shown exactly once."""

    principal: Principal
    token: str

    def __repr__(self) -> str:
        return f"IssuedCredential(principal={self.principal!r}, token=<hidden>)"


class Credentials:
    """Creates, verifies and revokes API credentials; keeps organisation profiles."""

    def __init__(self, engine: Engine, *, cache_ttl: float = 60.0, revalidate: float = 0.5) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._hasher = PasswordHasher()
        self._cache: dict[bytes, _Remembered] = {}
        self._profiles: dict[str, OrgProfile] = {}
        self._lock = threading.Lock()
        self.cache_ttl = cache_ttl
        self.revalidate = revalidate
        # A real argon2 hash to verify against when the id is unknown, so timing does not reveal ids.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def issue(
        self, name: str, role: ApiRole, org: str | None, *, expires_at: datetime | None = None
    ) -> IssuedCredential:
        """Create a credential for a principal, valid until revoked or until ``expires_at``.

        Raises:
            InvalidRequestError: unknown role, an organisation missing or superfluous for the role, or
                an expiry without a time zone or not in the future.
        """
        if role not in API_ROLES:
            raise InvalidRequestError(f"unknown role {role!r}")
        if (role in MEMBER_ROLES) != (org is not None):
            raise InvalidRequestError("member roles need an organisation; auditor and governance have none")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidRequestError("expiresAt needs a time zone (e.g. 2030-01-01T00:00:00Z)")
            if expires_at <= datetime.now(UTC):
                raise InvalidRequestError("expiresAt must be in the future")
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
                    expires_at=expires_at,
                )
            )
        return IssuedCredential(Principal(credential_id, name, role, org), f"ebl_{credential_id}.{secret}")

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified within ``cache_ttl`` whose row was read within
        ``revalidate`` seconds and that has not expired, or None: a dictionary look-up that never
        touches argon2 or the database (so callers may use it on an event loop)."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            entry = self._cache.get(digest)
        if entry is None:
            return None
        now = time.monotonic()
        if now >= entry.verified_until or now - entry.checked_at >= self.revalidate:
            return None
        if entry.expires_at is not None and time.time() >= entry.expires_at:
            return None
        return entry.principal

    def authenticate(self, token: str) -> Principal | None:
        """The principal a token acts as, or None (unknown, wrong secret, revoked or expired)."""
        found = self.check(token)
        return found if isinstance(found, Principal) else None

    def check(self, token: str) -> Principal | Refusal:
        """The principal a token acts as, or why it is refused.

        A token verified within ``cache_ttl`` only has its row's revocation and expiry read again
        (by primary key); any other is verified with argon2.
        """
        found = self.cached(token)
        if found is not None:
            return found
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            entry = self._cache.get(digest)
        now = time.monotonic()
        if entry is not None and now < entry.verified_until:
            state = self._state(entry.principal.credential_id)
            if isinstance(state, str):
                self._forget(entry.principal.credential_id)
                return state
            entry.checked_at, entry.expires_at = now, state
            return entry.principal
        result = self._verify(token)
        if isinstance(result, tuple):
            principal, expires_at = result
            now = time.monotonic()  # argon2 took a while; the row was read just before it
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = _Remembered(principal, now + self.cache_ttl, now, expires_at)
            return principal
        return result

    def _state(self, credential_id: str) -> float | Refusal | None:
        """A known credential's expiry (unix seconds, None for none), or why it no longer counts."""
        with self._sessions() as session:
            row = session.execute(
                select(ApiCredential.revoked_at, ApiCredential.expires_at).where(
                    ApiCredential.id == credential_id
                )
            ).first()
        if row is None:
            return "invalid"
        return _standing(row.revoked_at, row.expires_at)

    def _verify(self, token: str) -> tuple[Principal, float | None] | Refusal:
        if not token.startswith("ebl_") or "." not in token:
            return "invalid"
        credential_id, _, secret = token[4:].partition(".")
        with self._sessions() as session:
            row = session.get(ApiCredential, credential_id)
        # Unknown ids verify against a decoy hash, so timing does not tell them from known ones.
        stored = row.secret_hash if row is not None else self._decoy
        try:
            self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return "invalid"
        if row is None or not hmac.compare_digest(stored, row.secret_hash):
            return "invalid"
        # Only a caller holding the secret learns that the credential was revoked or has expired.
        standing = _standing(row.revoked_at, row.expires_at)
        if isinstance(standing, str):
            return standing
        principal = Principal(row.id, row.name, row.role, row.org)  # type: ignore[arg-type]
        return principal, standing

    def _forget(self, credential_id: str) -> None:
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v.principal.credential_id != credential_id}

    def revoke(self, credential_id: str) -> CredentialRecord | None:
        """Revoke a credential: refused at once in this process, within ``revalidate`` seconds in every
        other process on the same database. Revoking it again changes nothing.

        Returns:
            The credential's record, or None when there is no such credential.
        """
        with self._sessions.begin() as session:
            row = session.get(ApiCredential, credential_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            record = _record(row)
        self._forget(credential_id)
        return record

    def get(self, credential_id: str) -> CredentialRecord | None:
        """One credential's public facts, or None."""
        with self._sessions() as session:
            row = session.get(ApiCredential, credential_id)
            return None if row is None else _record(row)

    def records(
        self, *, role: ApiRole | None = None, org: str | None = None, include_revoked: bool = True
    ) -> list[CredentialRecord]:
        """Every credential's public facts, oldest first (filtered by role or organisation)."""
        query = select(ApiCredential).order_by(ApiCredential.created_at, ApiCredential.id)
        if role is not None:
            query = query.where(ApiCredential.role == role)
        if org is not None:
            query = query.where(ApiCredential.org == org)
        if not include_revoked:
            query = query.where(ApiCredential.revoked_at.is_(None))
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

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

    def directory(self, contains: str = "", limit: int = 200) -> list[OrgProfile]:
        """The member organisations' profiles (carriers, banks, traders), by name then address: the
        counterparties a member may name. ``contains`` keeps those whose name or identifier holds it
        (any case)."""
        query = select(OrgProfile).where(func.lower(OrgProfile.role).in_(MEMBER_ROLES))
        if contains:
            text = contains.lower().replace("\x00", "")  # a NUL no SQL text can hold
            pattern = "%" + "".join("\\" + c if c in "\\%_" else c for c in text) + "%"
            query = query.where(
                func.lower(OrgProfile.name).like(pattern, escape="\\")
                | func.lower(OrgProfile.identifier).like(pattern, escape="\\")
            )
        with self._sessions() as session:
            rows = session.scalars(query.order_by(OrgProfile.name, OrgProfile.address).limit(limit)).all()
        return list(rows)

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


def _record(row: ApiCredential) -> CredentialRecord:
    return CredentialRecord(
        credential_id=row.id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        org=row.org,
        created_at=_utc(row.created_at) or row.created_at,
        expires_at=_utc(row.expires_at),
        revoked_at=_utc(row.revoked_at),
    )
