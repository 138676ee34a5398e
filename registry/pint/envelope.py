"""Pydantic models of the objects of ``EBL_PINT_v3.0.0.yaml``, field names exactly as the YAML spells
them (``eBLVisualisationByCarrier``, ``lastEnvelopeTransferChainEntrySignedContentChecksum``).

Validation is strict (no coercion: a size ``"12"`` is refused, not read as 12) and follows the YAML's
patterns and lengths. The unsigned :class:`EblEnvelope` forbids fields the YAML does not define (nothing
unsigned can be smuggled beside the signed parts); the signed payloads keep fields they do not know
(a newer minor version of a peer), and round-trip them unchanged. The transport document is kept as
the JSON object it is: its DCSA validation belongs to :mod:`registry.documents`, and its checksum is
over exactly what was sent.

``model_dump(mode="json", exclude_none=True)`` (:func:`to_json`) gives the wire form back.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Checksum",
    "CompactJws",
    "DocumentMetadata",
    "EblEnvelope",
    "EnvelopeManifest",
    "EnvelopeTransferChainEntry",
    "EnvelopeTransferFinishedResponse",
    "EnvelopeTransferStartedResponse",
    "IssuanceManifest",
    "ReceiverValidation",
    "ReceiverValidationResponse",
    "Transaction",
    "TransactionActionCode",
    "to_json",
]

Checksum = Annotated[str, Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")]
"""``DocumentChecksum``: 64 lowercase hex digits of a SHA-256."""

CompactJws = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
"""A JWS in compact serialisation (RFC 7515 section 7.1), the YAML's ``*SignedContent`` pattern."""

_Trimmed = r"^\S(?:.*\S)?$"
PlatformCode = Annotated[str, Field(max_length=4, pattern=r"^\S+$")]
"""An eBL solution provider code (``WAVE``, ``CARX`` ...): the YAML's pattern and length, not its list
(a platform that is not on DCSA's list yet, such as this registry, has a code too)."""

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$",
)


class _Signed(BaseModel):
    """A JWS payload: strict types, unknown fields kept (and signed)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class _Closed(BaseModel):
    """An object outside any signature: strict types, no field the YAML does not define."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DocumentMetadata(_Signed):
    """``DocumentMetadata``: one additional document (a supporting document or the visualisation)."""

    name: Annotated[str, Field(pattern=_Trimmed)]
    size: Annotated[int | float, Field(ge=1)]
    mediaType: Annotated[str, Field(max_length=100)]
    documentChecksum: Checksum


class EnvelopeManifest(_Signed):
    """``EnvelopeManifest``: the payload of ``envelopeManifestSignedContent``, signed by the sender."""

    transportDocumentChecksum: Checksum
    lastEnvelopeTransferChainEntrySignedContentChecksum: Checksum
    eBLVisualisationByCarrier: DocumentMetadata | None = None
    supportingDocuments: list[DocumentMetadata] | None = None


class IssuanceManifest(_Signed):
    """``IssuanceManifest``: checksums of what the carrier issued, signed by the carrier (or the
    platform issuing on its behalf)."""

    documentChecksum: Checksum
    eBLVisualisationByCarrierChecksum: Checksum | None = None
    issueToChecksum: Checksum


class IdentifyingCode(_Signed):
    """``IdentifyingCode``: a code that identifies a party on a code list."""

    codeListProvider: Annotated[str, Field(max_length=100)]
    partyCode: Annotated[str, Field(max_length=150)]
    codeListName: Annotated[str, Field(max_length=100)] | None = None


class TaxLegalReference(_Signed):
    """``TaxLegalReference``."""

    type: Annotated[str, Field(max_length=50, pattern=_Trimmed)]
    countryCode: Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]
    value: Annotated[str, Field(max_length=35, pattern=_Trimmed)]


class RepresentedParty(_Signed):
    """``RepresentedActorParty`` / ``RepresentedRecipientParty`` (the same fields)."""

    partyName: Annotated[str, Field(max_length=70, pattern=_Trimmed)]
    identifyingCodes: list[IdentifyingCode] | None = None


class Party(_Signed):
    """``ActorParty`` / ``RecipientParty`` (the same fields): a party on an eBL platform."""

    partyName: Annotated[str, Field(max_length=70, pattern=_Trimmed)]
    eblPlatform: PlatformCode
    identifyingCodes: Annotated[list[IdentifyingCode], Field(min_length=1)]
    taxLegalReferences: list[TaxLegalReference] | None = None
    representedParty: RepresentedParty | None = None


class TransactionActionCode(StrEnum):
    """``Transaction.actionCode``, as the YAML lists it."""

    ISSUE = "ISSUE"
    TRANSFER = "TRANSFER"
    ENDORSE = "ENDORSE"
    ENDORSE_TO_ORDER = "ENDORSE_TO_ORDER"
    BLANK_ENDORSE = "BLANK_ENDORSE"
    SURRENDER_FOR_DELIVERY = "SURRENDER_FOR_DELIVERY"
    SURRENDER_FOR_AMENDMENT = "SURRENDER_FOR_AMENDMENT"
    SACC = "SACC"
    SREJ = "SREJ"
    SIGN = "SIGN"


class Transaction(_Signed):
    """``Transaction``: one action recorded in a chain entry (``ISSUE``, ``TRANSFER``, ``ENDORSE`` ...)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, use_enum_values=False)

    actionCode: TransactionActionCode
    actor: Party
    recipient: Party | None = None
    actionDateTime: str
    reasonCode: Annotated[str, Field(max_length=4)] | None = None
    comments: Annotated[str, Field(max_length=255, pattern=_Trimmed)] | None = None
    auditReference: Annotated[str, Field(max_length=100)] | None = None

    @field_validator("actionCode", mode="before")
    @classmethod
    def _action_code(cls, value: object) -> object:
        # strict mode takes only enum members; the wire has the string
        return TransactionActionCode(value) if isinstance(value, str) else value

    @field_validator("actionDateTime")
    @classmethod
    def _date_time(cls, value: str) -> str:
        if not _RFC3339.fullmatch(value):
            raise ValueError(
                "actionDateTime must be an RFC 3339 date-time with an offset (2024-04-17T07:11:19.531Z)"
            )
        datetime.fromisoformat(value.replace("Z", "+00:00"))  # the date and time must exist
        return value


class EnvelopeTransferChainEntry(_Signed):
    """``EnvelopeTransferChainEntry``: the payload of one ``envelopeTransferChain[]`` JWS, signed by
    the platform it names (``eblPlatform``) when it sent the bill on."""

    eblPlatform: PlatformCode
    transportDocumentChecksum: Checksum
    previousEnvelopeTransferChainEntrySignedContentChecksum: Checksum | None = None
    issuanceManifestSignedContent: CompactJws | None = None
    controlTrackingRegistry: Annotated[str, Field(max_length=1024)] | None = None
    transactions: Annotated[list[Transaction], Field(min_length=1)]


class EblEnvelope(_Closed):
    """``EblEnvelope``: the body of ``POST /v3/envelopes``. Nothing in it is signed as such: the manifest
    JWS binds the document (by checksum) and the last chain entry (by checksum)."""

    transportDocument: dict[str, Any]
    envelopeManifestSignedContent: CompactJws
    envelopeTransferChain: Annotated[list[CompactJws], Field(min_length=1)]


class EnvelopeTransferStartedResponse(BaseModel):
    """``EnvelopeTransferStartedResponse`` (HTTP 201, unsigned): the transfer is open, these additional
    documents are still to come.

    A field the YAML does not define is ignored, not refused: the schema does not close the object, and
    an independent receiver (pint-demo) adds ``receivedAdditionalDocumentChecksums: null``; refusing its
    answer would leave our transfer stuck for nothing the protocol needs.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    envelopeReference: Annotated[str, Field(max_length=100)]
    transportDocumentChecksum: Checksum
    lastEnvelopeTransferChainEntrySignedContentChecksum: Checksum
    missingAdditionalDocumentChecksums: Annotated[list[Checksum], Field(min_length=1)]


class EnvelopeTransferFinishedResponse(_Signed):
    """``EnvelopeTransferFinishedResponse``: the payload of the receiver's signed answer
    (``EnvelopeTransferFinishedResponseSignedContent``)."""

    lastEnvelopeTransferChainEntrySignedContentChecksum: Checksum
    responseCode: Annotated[str, Field(pattern=r"^(RECE|DUPE|BSIG|BENV|INCD|MDOC|DISE)$")]
    duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent: CompactJws | None = None
    reason: Annotated[str, Field(max_length=255)] | None = None
    missingAdditionalDocumentChecksums: list[Checksum] | None = None
    receivedAdditionalDocumentChecksums: list[Checksum] | None = None


class ReceiverValidation(_Closed):
    """The body of ``POST /v3/receiver-validation``: an ``IdentifyingCode``."""

    codeListProvider: Annotated[str, Field(max_length=100)]
    partyCode: Annotated[str, Field(max_length=150)]
    codeListName: Annotated[str, Field(max_length=100)] | None = None


class ReceiverValidationResponse(_Closed):
    """``ReceiverValidationResponse`` (HTTP 200): the name of the party the code identifies."""

    partyName: Annotated[str, Field(max_length=70, pattern=_Trimmed)]


def to_json(model: BaseModel) -> dict[str, Any]:
    """The wire form of a model: JSON values, absent optional fields left out, unknown fields kept."""
    return model.model_dump(mode="json", exclude_none=True)
