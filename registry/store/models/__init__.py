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

from registry.store.models.base import Base
from registry.store.models.chain import (
    ChainBlock,
    ChainTransaction,
    Ebl,
    EblEvent,
    IndexerCheckpoint,
    Organisation,
    OrgKey,
)
from registry.store.models.gateway import ApiCredential, CarrierCode, Document, OrgProfile
from registry.store.models.journal import GovernanceTransaction, IdempotencyKey, Operation
from registry.store.models.platforms import (
    DcsaCallback,
    DcsaCarrierEndpoint,
    DcsaSurrenderRequest,
    PintIncoming,
    PintIncomingDocument,
    PintOutgoing,
    PintOutgoingStep,
)

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
