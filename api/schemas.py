"""Request and response models (JSON in camelCase, as DCSA writes it).

Integers in JSON: every integer that can exceed 2^53 (eBL ids, nonces, any uint256) is a decimal
**string**, because JavaScript reads a larger JSON number as a rounded float. An eBL id is
:data:`EblIdField`: a decimal string on output, with its 0x-prefixed 32-byte hex form beside it in a
``…Hex`` field (``eblId`` / ``eblIdHex``); on input it may be a decimal string, a 0x-hex string or a
JSON number. Block numbers, sequence numbers and chain ids stay numbers (far below 2^53).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    computed_field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from api import logs
from api.problems import problem_code_of
from registry.title import Operation, Verification
from registry.types import ebl_id_hex, parse_ebl_id

Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Hex32 = Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
_EXAMPLE_EBL_ID = "23059145367785474532624394617209431744376489286520349815651230911476478131187"
_EXAMPLE_EBL_ID_HEX = ebl_id_hex(int(_EXAMPLE_EBL_ID))
EBL_ID_PATTERN = r"^(0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78})$"
"""An eBL id in a path or a string field: decimal, or 0x-prefixed hex (the 32-byte form or shorter)."""

EblIdField = Annotated[
    int,
    BeforeValidator(lambda value: int(parse_ebl_id(value))),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{1,78}$",
            "description": "eBL id (uint256) as a decimal string",
            "examples": [_EXAMPLE_EBL_ID],
        },
        mode="serialization",
    ),
    WithJsonSchema(
        {
            "description": "eBL id (uint256): a decimal string, a 0x-prefixed hex string, or an exact "
            "JSON number",
            "anyOf": [
                {"type": "string", "pattern": EBL_ID_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "examples": [_EXAMPLE_EBL_ID, _EXAMPLE_EBL_ID_HEX],
        },
        mode="validation",
    ),
]
"""An eBL id field: an ``int`` in Python, a decimal string in JSON; any id form on input."""

EblIdHex = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^0x[0-9a-f]{64}$",
            "description": "eBL id as 0x-prefixed 32-byte hex",
            "examples": [_EXAMPLE_EBL_ID_HEX],
        }
    ),
]
"""The hex form of an eBL id, in the ``…Hex`` field beside each :data:`EblIdField`."""


def _hex(value: int | None) -> str | None:
    return None if value is None else ebl_id_hex(value)


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


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


CarrierCodeText = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=4)]
CarrierCodeListProvider = Literal["SMDG", "NMFTA"]


class CarrierCodeItem(Model):
    """A code a carrier's transport documents name it by, spelled as DCSA eBL 3.0 spells it."""

    carrier_code: CarrierCodeText = Field(description="SMDG liner code or NMFTA SCAC, e.g. MSC")
    carrier_code_list_provider: CarrierCodeListProvider = Field(description="The code list: SMDG or NMFTA")


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


# ------------------------------------------------------------------ responses


class OperationOut(Model):
    operation_id: str
    action: str
    ebl_id: EblIdField | None = Field(description="The eBL acted on (null for a refused batch item)")
    status: str
    successor_ebl_id: EblIdField | None = Field(
        default=None, description="AMEND: the amended eBL issued in place of ``eblId`` (its successor)"
    )
    tx_hash: str | None = None
    block_number: int | None = None
    error_code: str | None = Field(default=None, description="A failed operation's problem code")
    error_detail: str | None = Field(default=None, description="Why it failed, in DCSA words")
    error: str | None = Field(default=None, description="A failed operation's contract error name")

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex | None:
        return _hex(self.ebl_id)

    @computed_field(description="``successorEblId`` as 0x-prefixed 32-byte hex")
    def successor_ebl_id_hex(self) -> EblIdHex | None:
        return _hex(self.successor_ebl_id)

    @classmethod
    def of(cls, op: Operation) -> OperationOut:
        logs.note_operation(op.operation_id)  # the request's log line names the operations it answers
        return cls(
            operation_id=op.operation_id,
            action=op.action.dcsa_code,
            ebl_id=int(op.ebl_id),
            successor_ebl_id=op.successor_ebl_id,
            status=op.status,
            tx_hash=op.tx_hash,
            block_number=op.block_number,
            error_code=problem_code_of(op.error_code),
            error_detail=op.error_detail,
            error=op.error_code if op.error_code not in (None, problem_code_of(op.error_code)) else None,
        )


class OrganisationOut(Model):
    address: str
    name: str | None = None
    identifier: str | None = None
    role: str | None = None


class VerificationOut(Model):
    """The authoritative title state, anchored at one block (LR-02: any file is a non-authoritative copy)."""

    ebl_id: EblIdField
    status: str
    live: bool
    holder: OrganisationOut
    endorsee: OrganisationOut | None
    carrier: OrganisationOut
    kind: str
    blank_endorsed: bool
    document_hash: str
    presented_hash: str | None
    document_matches: bool | None
    amended: bool
    predecessor: EblIdField | None
    successor: EblIdField | None
    paper_document_hash: str | None
    anchored_block: int
    anchored_block_hash: str
    anchored_at: datetime
    registry: str
    chain_id: int

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)

    @computed_field(description="``predecessor`` as 0x-prefixed 32-byte hex")
    def predecessor_hex(self) -> EblIdHex | None:
        return _hex(self.predecessor)

    @computed_field(description="``successor`` as 0x-prefixed 32-byte hex")
    def successor_hex(self) -> EblIdHex | None:
        return _hex(self.successor)

    @classmethod
    def of(
        cls, v: Verification, orgs: dict[str, OrganisationOut], registry: str, chain_id: int
    ) -> VerificationOut:
        def org(address: str | None) -> OrganisationOut | None:
            return None if address is None else orgs.get(address, OrganisationOut(address=address))

        holder, carrier = org(v.holder), org(v.carrier)
        assert holder is not None and carrier is not None
        return cls(
            ebl_id=int(v.ebl_id),
            status=v.status.name,
            live=v.live,
            holder=holder,
            endorsee=org(v.endorsee),
            carrier=carrier,
            kind=v.kind.name,
            blank_endorsed=v.blank_endorsed,
            document_hash=v.document_hash,
            presented_hash=v.presented_hash,
            document_matches=v.document_matches,
            amended=v.amended,
            predecessor=v.predecessor,
            successor=v.successor,
            paper_document_hash=v.paper_document_hash,
            anchored_block=v.block_number,
            anchored_block_hash=v.block_hash,
            anchored_at=v.block_time,
            registry=registry,
            chain_id=chain_id,
        )


class EventOut(Model):
    ebl_id: EblIdField
    seq: int
    action: str
    actor: str
    counterparty: str | None
    actor_key: str
    data: str
    block_number: int
    block_time: datetime
    tx_hash: str
    log_index: int

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)


class EventPageOut(Model):
    events: list[EventOut]
    next_cursor: str | None


class CredentialOut(Model):
    credential_id: str
    name: str
    role: str
    org: str | None
    expires_at: datetime | None = None
    token: str = Field(description="Shown once; store it in a secret manager")


class CredentialInfoOut(Model):
    """An API credential's public facts (never its token or hash)."""

    credential_id: str
    name: str
    role: str
    org: str | None
    status: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyOut(Model):
    """A signing key of an organisation, as the chain records it."""

    address: str
    status: Literal["active", "revoked"]
    custodial: bool = Field(description="true: the gateway's keystore holds it; false: the member does")
    label: str | None = None
    added_block: int | None = Field(default=None, description="Block of its KeyAdded event")
    revoked_block: int | None = Field(default=None, description="Block of its KeyRevoked event")
    operation_id: str | None = Field(
        default=None, description="The ADD_KEY / REVOKE_KEY operation of this request, if it made one"
    )


class OnboardedOut(Model):
    organisation: OrganisationOut
    key_address: str
    credential: CredentialOut
    carrier_codes: list[CarrierCodeItem] = Field(
        default_factory=list, description="The carrier codes recorded for it (carriers only)"
    )
