"""Relational model of the registry's read side (the chain index) and of the operation journal.

Portable between SQLite and PostgreSQL: no dialect types. Conventions:

* ``uint256`` eBL ids are 78-character decimal strings (``String(78)``): exact on both engines
  (SQLite has no 256-bit integer, and ``NUMERIC`` there goes through floats).
* Addresses are EIP-55 checksummed strings; the zero address is stored as NULL ("none").
* 32-byte hashes and event data are ``0x``-prefixed lowercase hex (66 characters).
* Block times are unix seconds (``BigInteger``), the chain's own clock, never the indexer's.
* Enum values are stored by name (``Status.ACTIVE`` → ``"ACTIVE"``); actions by their DCSA code
  (``"TRANSFER"``, ``"SACC"``, ``"SWTP"`` ...), see :attr:`registry.types.Action.dcsa_code`.

The schema is created by the Alembic migrations in ``registry/store/migrations`` (see
:func:`registry.store.db.migrate`); a test checks that the migrations and these models agree.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiCredential",
    "Base",
    "CarrierCode",
    "ChainBlock",
    "ChainTransaction",
    "DcsaCallback",
    "DcsaCarrierEndpoint",
    "DcsaSurrenderRequest",
    "Document",
    "Ebl",
    "EblEvent",
    "GovernanceTransaction",
    "IdempotencyKey",
    "IndexerCheckpoint",
    "Operation",
    "OrgKey",
    "OrgProfile",
    "Organisation",
    "PintIncoming",
    "PintIncomingDocument",
    "PintOutgoing",
    "PintOutgoingStep",
]

ADDRESS = String(42)
HASH = String(66)
EBL_ID = String(78)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (so migrations can name them)."""

    metadata = MetaData(naming_convention=NAMING)


# --- chain index -----------------------------------------------------------------------------


class Organisation(Base):
    """A member organisation as registered on chain (``OrganisationRegistered`` and its changes)."""

    __tablename__ = "organisations"

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    index: Mapped[int] = mapped_column(Integer, unique=True)
    identifier_hash: Mapped[str] = mapped_column(HASH)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    status_block: Mapped[int] = mapped_column(BigInteger)
    """Block of the last status change (registration, suspension or reinstatement)."""


class OrgKey(Base):
    """A signing key of an organisation (``KeyAdded`` / ``KeyRevoked``)."""

    __tablename__ = "org_keys"

    key: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    org: Mapped[str] = mapped_column(ADDRESS, ForeignKey("organisations.address"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    added_block: Mapped[int] = mapped_column(BigInteger)
    revoked_block: Mapped[int | None] = mapped_column(BigInteger)


class Ebl(Base):
    """Current title state of one eBL, folded from its events (mirrors the chain's ``titleOf``)."""

    __tablename__ = "ebls"
    # a member's bills, newest issuance first (registry.store.holdings)
    __table_args__ = (Index("ix_ebls_holder_issued_block", "holder", "issued_block", "ebl_id"),)

    ebl_id: Mapped[str] = mapped_column(EBL_ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: the zero address for a bill of a foreign carrier (imported from another platform, revision 0008)
    carrier: Mapped[str] = mapped_column(ADDRESS)
    holder: Mapped[str] = mapped_column(ADDRESS, index=True)
    endorsee: Mapped[str | None] = mapped_column(ADDRESS)
    nominee: Mapped[str | None] = mapped_column(ADDRESS)
    previous_holder: Mapped[str | None] = mapped_column(ADDRESS)
    surrender_reason: Mapped[str] = mapped_column(String(16))
    issued_holder: Mapped[str] = mapped_column(ADDRESS)
    issued_endorsee: Mapped[str | None] = mapped_column(ADDRESS)
    document_hash: Mapped[str] = mapped_column(HASH)
    tdr_hash: Mapped[str] = mapped_column(HASH, index=True)
    predecessor: Mapped[str | None] = mapped_column(EBL_ID)
    successor: Mapped[str | None] = mapped_column(EBL_ID)
    paper_hash: Mapped[str | None] = mapped_column(HASH)
    #: the other platform of the latest export or import, and its envelope / last-entry checksum
    platform: Mapped[str | None] = mapped_column(String(4))
    platform_checksum: Mapped[str | None] = mapped_column(HASH)
    #: the platform (and last-entry checksum) a record was first imported from; NULL: issued here
    origin_platform: Mapped[str | None] = mapped_column(String(4))
    origin_checksum: Mapped[str | None] = mapped_column(HASH)
    seq: Mapped[int] = mapped_column(Integer)
    issued_block: Mapped[int] = mapped_column(BigInteger)
    issued_time: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class EblEvent(Base):
    """One recorded title action (``Issued`` as ``ISSUE`` with seq 0, then every ``ActionRecorded``).

    ``ISSUE`` rows: actor = carrier, counterparty = first holder, data = document hash.
    """

    __tablename__ = "ebl_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_ebl_events_ebl_id_seq", "ebl_id", "seq", unique=True),
        Index("ix_ebl_events_actor_block_time", "actor", "block_time"),
        Index("ix_ebl_events_actor_ebl_id", "actor", "ebl_id"),
        Index("ix_ebl_events_counterparty_block_time", "counterparty", "block_time"),
        Index("ix_ebl_events_action_block_time", "action", "block_time"),
        Index("ix_ebl_events_block_number", "block_number"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ebl_id: Mapped[str] = mapped_column(EBL_ID, ForeignKey("ebls.ebl_id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    #: the zero address for the registry bridge's actions (it acts for no organisation)
    actor: Mapped[str] = mapped_column(ADDRESS)
    counterparty: Mapped[str | None] = mapped_column(ADDRESS)
    actor_key: Mapped[str] = mapped_column(ADDRESS)
    data: Mapped[str] = mapped_column(HASH)
    #: the other platform of an export or import action
    platform: Mapped[str | None] = mapped_column(String(4))
    #: the endorsee an import set (other actions: NULL; the counterparty says it)
    endorsee: Mapped[str | None] = mapped_column(ADDRESS)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_time: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int] = mapped_column(Integer)
    #: hash of the block the event was indexed from (NULL on rows indexed before revision 0004)
    block_hash: Mapped[str | None] = mapped_column(HASH)


class IndexerCheckpoint(Base):
    """How far an indexer got: the last fully applied block and its hash (for reorg detection)."""

    __tablename__ = "indexer_checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_block_hash: Mapped[str] = mapped_column(HASH)


# --- the registry's chain archive (registry/store/archive.py) ----------------------------------


class ChainBlock(Base):
    """One block of the registry's chain as the archive verified it: header RLP, and the raw
    transactions and EIP-2718 receipts of the block (``zlib(rlp([raws, receipts]))``; NULL: none)."""

    __tablename__ = "chain_blocks"
    __table_args__ = (UniqueConstraint("hash"),)

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(HASH)
    parent_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    #: zlib of the header's RLP (keccak256 of the RLP is ``hash``; on QBFT the QBFT hash)
    header: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


class ChainTransaction(Base):
    """Where the archive holds a transaction: its block and index (for look-ups by hash)."""

    __tablename__ = "chain_transactions"
    __table_args__ = (Index("ix_chain_transactions_block_number", "block_number"),)

    tx_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)


# --- operation journal (used by the relayer) ---------------------------------------------------


class Operation(Base):
    """A write the registry accepted and is driving to finality (pending → submitted → final | failed)."""

    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_status_updated_at", "status", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(HASH, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GovernanceTransaction(Base):
    """A governance transaction (onboard, suspend, reinstate), signed and journalled before it is sent,
    so a crash, or a chain restored behind it, never loses one that was acknowledged
    (submitted → final | failed)."""

    __tablename__ = "governance_transactions"
    __table_args__ = (Index("ix_governance_transactions_status_nonce", "status", "nonce"),)

    tx_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    sender: Mapped[str] = mapped_column(ADDRESS)
    nonce: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` an organisation used, the hash of its request and the operation it made."""

    __tablename__ = "idempotency_keys"

    org: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(HASH)
    operation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("operations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


# --- DCSA platform APIs -----------------------------------------------------------------------


class DcsaCarrierEndpoint(Base):
    """Where a carrier takes the DCSA callbacks (``/v3/ebl-issuance-responses``,
    ``/v3/ebl-surrender-requests`` under ``base_url``), and the bearer token we send it (if any)."""

    __tablename__ = "dcsa_carrier_endpoints"

    org: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    base_url: Mapped[str] = mapped_column(String(500))
    token: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DcsaCallback(Base):
    """One callback to a carrier, persisted before it is sent (the outbox), delivered with retry.

    ``await_operation``: the journaled operation the callback waits for (an issuance's ISSU is sent
    when it is final; a failed one turns it into REFU). ``dedupe_key`` makes enqueueing idempotent.
    """

    __tablename__ = "dcsa_callbacks"
    __table_args__ = (Index("ix_dcsa_callbacks_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(ADDRESS)
    path: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    await_operation: Mapped[str | None] = mapped_column(String(36))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DcsaSurrenderRequest(Base):
    """A surrender request sent to the carrier as DCSA ``SurrenderRequestDetails``; the carrier answers
    it once (SURR or SREJ) by its ``surrenderRequestReference``."""

    __tablename__ = "dcsa_surrender_requests"
    __table_args__ = (UniqueConstraint("ebl_id", "seq"),)

    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    ebl_id: Mapped[str] = mapped_column(EBL_ID)
    seq: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str] = mapped_column(ADDRESS)
    answer: Mapped[str | None] = mapped_column(String(4))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- PINT sessions ----------------------------------------------------------------------------


class PintIncoming(Base):
    """An envelope another platform sent us (``POST /v3/envelopes``): what it holds, what we still
    expect, and the signed response we gave (sent again, byte for byte, to a retry)."""

    __tablename__ = "pint_incoming"

    envelope_reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    sending_platform: Mapped[str] = mapped_column(String(4), index=True)
    transport_document_checksum: Mapped[str] = mapped_column(String(64), index=True)
    last_entry_checksum: Mapped[str] = mapped_column(String(64), index=True)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recipient_member: Mapped[str] = mapped_column(ADDRESS)
    state: Mapped[str] = mapped_column(String(16), index=True)
    response_code: Mapped[str | None] = mapped_column(String(4))
    response: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(255))
    ebl_id: Mapped[str | None] = mapped_column(EBL_ID, index=True)
    operation_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintIncomingDocument(Base):
    """An additional document received for an incoming envelope (its bytes matched its checksum)."""

    __tablename__ = "pint_incoming_documents"

    envelope_reference: Mapped[str] = mapped_column(
        String(100), ForeignKey("pint_incoming.envelope_reference"), primary_key=True
    )
    document_checksum: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintOutgoing(Base):
    """A bill we send to another platform: the envelope built once (a resend is byte-identical), the
    step reached, the receiver's signed response, and the chain operations of the export."""

    __tablename__ = "pint_outgoing"

    transfer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ebl_id: Mapped[str] = mapped_column(EBL_ID, index=True)
    org: Mapped[str] = mapped_column(ADDRESS)
    platform: Mapped[str] = mapped_column(String(4))
    action_code: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)
    step: Mapped[str] = mapped_column(String(32), index=True)
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    documents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    envelope_checksum: Mapped[str | None] = mapped_column(String(64))
    last_entry_checksum: Mapped[str | None] = mapped_column(String(64), index=True)
    envelope_reference: Mapped[str | None] = mapped_column(String(100))
    response_code: Mapped[str | None] = mapped_column(String(4))
    response: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    export_operation_id: Mapped[str | None] = mapped_column(String(36))
    close_operation_id: Mapped[str | None] = mapped_column(String(36))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PintOutgoingStep(Base):
    """The journal of an outgoing transfer: one row per step reached, in order (resume reads the last)."""

    __tablename__ = "pint_outgoing_steps"

    transfer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pint_outgoing.transfer_id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
