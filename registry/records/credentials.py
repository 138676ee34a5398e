"""API credentials: one just issued (with its token, shown once) and a credential's public facts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from registry.records.fields import Record

if TYPE_CHECKING:
    from registry.store.credentials import CredentialRecord, IssuedCredential

__all__ = ["CredentialInfoOut", "CredentialOut"]


class CredentialOut(Record):
    credential_id: str
    name: str
    role: str
    org: str | None
    expires_at: datetime | None = None
    token: str = Field(description="Shown once; store it in a secret manager")

    @classmethod
    def from_issued(cls, issued: IssuedCredential, expires_at: datetime | None = None) -> CredentialOut:
        p = issued.principal
        return cls(
            credential_id=p.credential_id,
            name=p.name,
            role=p.role,
            org=p.org,
            expires_at=expires_at,
            token=issued.token,
        )


class CredentialInfoOut(Record):
    """An API credential's public facts (never its token or hash)."""

    credential_id: str
    name: str
    role: str
    org: str | None
    status: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, record: CredentialRecord) -> CredentialInfoOut:
        return cls(
            credential_id=record.credential_id,
            name=record.name,
            role=record.role,
            org=record.org,
            status=record.status,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
        )
