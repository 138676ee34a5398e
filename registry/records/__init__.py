"""The registry's records as they travel: one pydantic model per wire shape.

Each record is defined once, here: the gateway serves it (``api.schemas`` re-exports them as its
response models), the CLI's direct mode builds it from the title service's domain objects and dumps
it, and the CLI's gateway mode validates the gateway's JSON into it before rendering. The domain
objects (:class:`registry.title.Operation`, :class:`registry.title.Verification`, the index's
:class:`registry.store.queries.EventRecord` ...) stay where they are; each record's ``from_domain``
turns one into its wire shape. JSON is camelCase; ``model_dump(mode="json", by_alias=True)`` is the
exact JSON the gateway answers with.

The problem codes every error answer carries are in :mod:`registry.records.problems`.
"""

from registry.records.attestations import AttestationKeyOut, AttestationOut
from registry.records.credentials import CredentialInfoOut, CredentialOut
from registry.records.events import EventOut, EventPageOut
from registry.records.fields import EBL_ID_PATTERN, EblIdField, EblIdHex, Record
from registry.records.holdings import HoldingOut, HoldingPageOut
from registry.records.members import (
    CarrierCodeItem,
    CustodialKeyOut,
    IdentityOut,
    KeyOut,
    MemberDetailOut,
    MemberOut,
    OnboardedOut,
    OnboardingOut,
    OrganisationOut,
    OrgKeyOut,
    RotatedKeyOut,
)
from registry.records.operations import OperationOut
from registry.records.typed_data import TypedDataOut
from registry.records.verifications import VerificationOut

__all__ = [
    "EBL_ID_PATTERN",
    "AttestationKeyOut",
    "AttestationOut",
    "CarrierCodeItem",
    "CredentialInfoOut",
    "CredentialOut",
    "CustodialKeyOut",
    "EblIdField",
    "EblIdHex",
    "EventOut",
    "EventPageOut",
    "HoldingOut",
    "HoldingPageOut",
    "IdentityOut",
    "KeyOut",
    "MemberDetailOut",
    "MemberOut",
    "OnboardedOut",
    "OnboardingOut",
    "OperationOut",
    "OrgKeyOut",
    "OrganisationOut",
    "Record",
    "RotatedKeyOut",
    "TypedDataOut",
    "VerificationOut",
    "dump",
]


def dump(record: Record) -> dict[str, object]:
    """The record's JSON (camelCase, ids as decimal strings), as the gateway serves it."""
    return record.model_dump(mode="json", by_alias=True)
