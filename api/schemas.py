"""The gateway's request models, and its response models: the registry's records.

Every response shape is defined once, in :mod:`registry.records` (camelCase JSON, eBL ids as decimal
strings with a ``…Hex`` twin: see :mod:`registry.records.fields`); this module re-exports them for the
routes and adds what only the HTTP API has: request bodies and the health and readiness answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from api import logs
from registry.records import (
    EBL_ID_PATTERN,
    CarrierCodeItem,
    CredentialInfoOut,
    CredentialOut,
    EblIdField,
    EblIdHex,
    EventOut,
    EventPageOut,
    HoldingPageOut,
    KeyOut,
    MemberDetailOut,
    MemberOut,
    OnboardedOut,
    OperationOut,
    OrganisationOut,
    OrgKeyOut,
    Record,
    RotatedKeyOut,
    TypedDataOut,
    VerificationOut,
)
from registry.records.members import CarrierCodeListProvider, CarrierCodeText
from registry.title import Operation

__all__ = [
    "EBL_ID_PATTERN",
    "Address",
    "AmendRequest",
    "BatchIssueRequest",
    "CarrierCodeItem",
    "CredentialInfoOut",
    "CredentialOut",
    "CredentialRequest",
    "EblIdField",
    "EblIdHex",
    "EndorseRequest",
    "EventOut",
    "EventPageOut",
    "HealthOut",
    "Hex32",
    "HoldingPageOut",
    "IssueRequest",
    "KeyChallengeRequest",
    "KeyOut",
    "KeyRegistrationRequest",
    "MemberDetailOut",
    "MemberOut",
    "Model",
    "NominateRequest",
    "OnboardedOut",
    "OperationOut",
    "OrgKeyOut",
    "OrganisationOut",
    "OrganisationRequest",
    "PrepareRequest",
    "ReadyOut",
    "RotatedKeyOut",
    "Signature",
    "SignedActionRequest",
    "SurrenderRequest",
    "SwitchToPaperRequest",
    "TransferRequest",
    "TypedDataOut",
    "VerificationOut",
    "operation_out",
]

Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Hex32 = Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]

Model = Record
"""Requests follow the records' conventions: camelCase (or snake_case) keys, no unknown fields."""


# ------------------------------------------------------------------ requests


class IssueRequest(Model):
    """Issue an eBL from a DCSA eBL 3.0 transport document."""

    document: dict[str, Any] = Field(description="DCSA eBL 3.0 TransportDocument, as issued")
    issue_to: Address = Field(description="Member organisation receiving the eBL (first holder)")
    endorsee: Address | None = Field(
        default=None,
        description="Straight bill: the consignee (required). To-order: first endorsee (default issueTo)",
    )
    issue_to_party: dict[str, Any] | None = Field(
        default=None, description="DCSA IssueToParty, validated if given"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "document": {
                        "transportDocumentReference": "HHL71800000",
                        "...": "DCSA TransportDocument",
                    },
                    "issueTo": "0x887D3E36165e062B4Bc1b0E3FD7d0d63932B395d",
                }
            ]
        }
    )


class BatchIssueRequest(Model):
    items: list[IssueRequest] = Field(min_length=1, max_length=500)


class AmendRequest(Model):
    document: dict[str, Any]
    endorsee: Address | None = None


class SwitchToPaperRequest(Model):
    paper_document_hash: Hex32 = Field(
        description="Hash of the printed paper bill with its change-of-medium statement"
    )


class TransferRequest(Model):
    to: Address


class EndorseRequest(Model):
    endorsee: Address
    to_order: bool = Field(default=True, description="ENDORSE_TO_ORDER (true) or ENDORSE (false)")


class NominateRequest(Model):
    nominee: Address | None = None


class SurrenderRequest(Model):
    reason: Literal["DELIVERY", "AMENDMENT"] = "DELIVERY"
    reason_code: Literal["SWTP", "COD", "SWI"] | None = None


class PrepareRequest(Model):
    action: Literal[
        "TRANSFER",
        "ENDORSE",
        "ENDORSE_TO_ORDER",
        "BLANK_ENDORSE",
        "NOMINATE",
        "REJECT",
        "SURRENDER_FOR_DELIVERY",
        "SURRENDER_FOR_AMENDMENT",
    ]
    party: Address | None = None
    reason_code: Literal["SWTP", "COD", "SWI"] | None = None


class SignedActionRequest(Model):
    typed_data: dict[str, Any] = Field(description="The EIP-712 typed data exactly as returned by prepare")
    signature: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]


class OrganisationRequest(Model):
    identifier: Annotated[str, StringConstraints(min_length=3, max_length=200)] = Field(
        description="Legal identifier, e.g. LEI:5493001KJTIIGC8Y1R12"
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Literal["carrier", "bank", "trader"]
    carrier_code: CarrierCodeText | None = Field(
        default=None,
        description=(
            "Carrier only (required, with carrierCodeListProvider): the carrierCode its transport "
            "documents carry. A document naming another code is refused (422 carrier_mismatch); a code "
            "belongs to one organisation (409 duplicate)"
        ),
    )
    carrier_code_list_provider: CarrierCodeListProvider | None = Field(
        default=None, description="The code list of carrierCode: SMDG or NMFTA"
    )
    carrier_codes: list[CarrierCodeItem] = Field(
        default_factory=list, max_length=16, description="Carrier only: further codes, if it has several"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "LEI:5493001KJTIIGC8Y1R12",
                    "name": "Ocean Carrier A/S",
                    "role": "carrier",
                    "carrierCode": "MSC",
                    "carrierCodeListProvider": "SMDG",
                },
                {"identifier": "LEI:529900T8BM49AURSDO55", "name": "Trade Bank plc", "role": "bank"},
            ]
        }
    )

    @model_validator(mode="after")
    def _carrier_codes_fit_the_role(self) -> OrganisationRequest:
        if (self.carrier_code is None) != (self.carrier_code_list_provider is None):
            raise ValueError("carrierCode and carrierCodeListProvider are given together")
        if self.role == "carrier" and not self.codes():
            raise ValueError("a carrier is onboarded with its carrierCode and carrierCodeListProvider")
        if self.role != "carrier" and self.codes():
            raise ValueError(f"only carriers have carrier codes, not a {self.role}")
        return self

    def codes(self) -> list[CarrierCodeItem]:
        """Every code given, the top-level pair first, without repeats."""
        given = list(self.carrier_codes)
        if self.carrier_code is not None and self.carrier_code_list_provider is not None:
            given.insert(
                0,
                CarrierCodeItem(
                    carrier_code=self.carrier_code, carrier_code_list_provider=self.carrier_code_list_provider
                ),
            )
        return list({(c.carrier_code_list_provider, c.carrier_code): c for c in given}.values())


Signature = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
"""A 65-byte ECDSA signature ``r ‖ s ‖ v`` as 0x-prefixed hex (what ``eth_signTypedData_v4`` returns)."""


class CredentialRequest(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Literal["carrier", "bank", "trader", "auditor", "governance"]
    org: Address | None = None
    expires_at: datetime | None = Field(
        default=None,
        description="When the credential stops working (ISO 8601 with a time zone); none: until revoked",
    )


class KeyChallengeRequest(Model):
    """Ask for the typed data a wallet key signs to prove the member holds it."""

    key: Address = Field(description="The key to register: an address whose private key the member holds")


class KeyRegistrationRequest(Model):
    """Register a key the member holds itself: the challenge, signed by that key."""

    typed_data: dict[str, Any] = Field(
        description="The KeyRegistration typed data exactly as POST /v1/members/keys/challenge returned it"
    )
    signature: Signature = Field(description="eth_signTypedData_v4 of typedData by the key it names")


# ------------------------------------------------------------------ responses only the HTTP API has


def operation_out(op: Operation) -> OperationOut:
    """The operation's record; the request's log line names the operations it answers."""
    logs.note_operation(op.operation_id)
    return OperationOut.from_domain(op)


class HealthOut(Model):
    status: Literal["ok"] = "ok"


class ReadyOut(Model):
    status: Literal["ready"] = "ready"
    chain_head: int = Field(description="The chain's latest block")
    indexer_lag: int = Field(description="Blocks the index is behind the chain head")
    leader: bool = Field(
        description="This gateway process relays (signs and sends) the registry's transactions: always "
        "with one process; with `ebl serve --workers N`, the one worker elected relayer leader"
    )
    pid: int = Field(description="The gateway process (worker) that answered")
