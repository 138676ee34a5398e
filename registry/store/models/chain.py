"""The chain index (organisations, keys, eBLs, events, checkpoints) and the registry's chain archive."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models.base import ADDRESS, EBL_ID, HASH, Base

__all__ = ["ChainBlock", "ChainTransaction", "Ebl", "EblEvent", "IndexerCheckpoint", "OrgKey", "Organisation"]


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
