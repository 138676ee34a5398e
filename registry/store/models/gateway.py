"""The gateway's own records: documents, organisation profiles and credentials, carrier codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models.base import ADDRESS, EBL_ID, HASH, Base

__all__ = ["ApiCredential", "CarrierCode", "Document", "OrgProfile"]


# --- documents --------------------------------------------------------------------------------


class Document(Base):
    """A transport document exactly as issued (its JSON and its RFC 8785 canonical bytes).

    Only its hash is on chain; the document itself stays here, for the holder and for verification.
    """

    __tablename__ = "documents"

    ebl_id: Mapped[str] = mapped_column(EBL_ID, primary_key=True)
    document_hash: Mapped[str] = mapped_column(HASH, index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    canonical: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- gateway principals -----------------------------------------------------------------------


class OrgProfile(Base):
    """Who an organisation is, off chain: its name and legal identifier (the chain has only a hash)."""

    __tablename__ = "org_profiles"

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiCredential(Base):
    """An API credential: its public id, the argon2 hash of its secret, and the principal it acts as.

    ``role`` is the gateway role (carrier, bank, trader, auditor, governance); ``org`` is the member
    organisation it acts for (none for auditors and governance, who hold no title).
    """

    __tablename__ = "api_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    org: Mapped[str | None] = mapped_column(ADDRESS, index=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """After this instant the credential is refused (None: valid until revoked)."""


# --- carrier codes ----------------------------------------------------------------------------


class CarrierCode(Base):
    """A carrier's code (``carrierCode`` in a DCSA transport document) on its code list
    (``carrierCodeListProvider``: SMDG or NMFTA), recorded at onboarding.

    A code belongs to one organisation (the primary key); a carrier may have several. Issuance
    refuses a document that names a code the issuing organisation does not own.
    """

    __tablename__ = "carrier_codes"

    code_list_provider: Mapped[str] = mapped_column(String(5), primary_key=True)
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    org: Mapped[str] = mapped_column(ADDRESS, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
