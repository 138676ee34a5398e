"""Member organisations and their keys: the profile, the on-chain record, a key, an onboarding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints

from registry.records.credentials import CredentialOut
from registry.records.fields import Record

if TYPE_CHECKING:
    from registry.documents import CarrierCode
    from registry.keys import KeyInfo
    from registry.members import Organisation, OrgKey

__all__ = [
    "CarrierCodeItem",
    "CarrierCodeListProvider",
    "CarrierCodeText",
    "CustodialKeyOut",
    "IdentityOut",
    "KeyOut",
    "MemberDetailOut",
    "MemberOut",
    "OnboardedOut",
    "OnboardingOut",
    "OrgKeyOut",
    "OrganisationOut",
    "RotatedKeyOut",
]

CarrierCodeText = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=4)]
CarrierCodeListProvider = Literal["SMDG", "NMFTA"]


class CarrierCodeItem(Record):
    """A code a carrier's transport documents name it by, spelled as DCSA eBL 3.0 spells it."""

    carrier_code: CarrierCodeText = Field(description="SMDG liner code or NMFTA SCAC, e.g. MSC")
    carrier_code_list_provider: CarrierCodeListProvider = Field(description="The code list: SMDG or NMFTA")

    @classmethod
    def from_domain(cls, code: CarrierCode) -> CarrierCodeItem:
        return cls.model_validate(
            {"carrierCode": code.code, "carrierCodeListProvider": code.code_list_provider}
        )


class OrganisationOut(Record):
    address: str
    name: str | None = None
    identifier: str | None = None
    role: str | None = None


class MemberOut(Record):
    """A member as the chain records it: its index, role, status and number of keys."""

    address: str
    index: int
    role: str
    status: str
    key_count: int

    @classmethod
    def from_domain(cls, org: Organisation) -> MemberOut:
        return cls(
            address=org.address,
            index=org.index,
            role=org.role.name,
            status=org.status.name,
            key_count=org.key_count,
        )


class OrgKeyOut(Record):
    """A signing key of an organisation, as the chain records it."""

    address: str
    status: Literal["active", "revoked"]
    custodial: bool = Field(description="true: the gateway's keystore holds it; false: the member does")
    label: str | None = None
    added_block: int | None = Field(default=None, description="Block of its KeyAdded event")
    revoked_block: int | None = Field(default=None, description="Block of its KeyRevoked event")

    @classmethod
    def from_domain(cls, key: OrgKey) -> OrgKeyOut:
        return cls(
            address=key.address,
            status=key.status,
            custodial=key.custodial,
            label=key.label,
            added_block=key.added_block,
            revoked_block=key.revoked_block,
        )


class KeyOut(OrgKeyOut):
    """A signing key of an organisation, as the chain records it."""

    operation_id: str | None = Field(
        default=None, description="The ADD_KEY / REVOKE_KEY operation of this request, if it made one"
    )

    @classmethod
    def after(cls, key: OrgKey, operation_id: str | None) -> KeyOut:
        """The key after a write that made operation ``operation_id`` (None: no write was needed)."""
        return cls(**OrgKeyOut.from_domain(key).model_dump(), operation_id=operation_id)


class MemberDetailOut(MemberOut):
    """A member's on-chain record with its carrier codes and every key of it the chain knows."""

    carrier_codes: list[CarrierCodeItem]
    keys: list[OrgKeyOut]

    @classmethod
    def from_domain_with(
        cls, org: Organisation, codes: Sequence[CarrierCode], keys: Sequence[OrgKey]
    ) -> MemberDetailOut:
        return cls(
            **MemberOut.from_domain(org).model_dump(),
            carrier_codes=[CarrierCodeItem.from_domain(c) for c in codes],
            keys=[OrgKeyOut.from_domain(k) for k in keys],
        )


class OnboardingOut(MemberDetailOut):
    """An organisation just onboarded, as ``ebl org add`` prints it in both modes: its on-chain record
    as ``GET /v1/governance/organisations/{org}`` serves it, the identifier and display name it was
    onboarded with, its first custodial key and, through the gateway, the API credential issued with
    it (its token is shown once; direct mode issues none)."""

    identifier: str
    name: str | None = Field(default=None, description="Display name (gateway mode keeps one)")
    key_address: str
    key: OrgKeyOut
    credential: CredentialOut | None = None


class IdentityOut(Record):
    """An organisation's public identity, to hand to a counterparty: who it is on which registry."""

    organisation: str
    role: str
    status: str
    keys: list[str] = Field(description="Its active keys' addresses")
    chain_id: int | None = Field(default=None, description="Chain id (direct mode: the gateway has none)")
    registry: str | None = Field(default=None, description="TitleRegistry address (direct mode only)")

    @classmethod
    def of(cls, member: MemberDetailOut, chain_id: int | None, registry: str | None) -> IdentityOut:
        return cls(
            organisation=member.address,
            role=member.role,
            status=member.status,
            keys=[k.address for k in member.keys if k.status == "active"],
            chain_id=chain_id,
            registry=registry,
        )


class CustodialKeyOut(Record):
    """A key in the registry's keystore (public facts only)."""

    address: str
    status: str
    label: str | None
    created_at: datetime = Field(description="When the keystore made it")
    revoked_at: datetime | None = Field(description="When it was revoked")

    @classmethod
    def from_domain(cls, info: KeyInfo) -> CustodialKeyOut:
        return cls(
            address=info.address,
            status=info.status,
            label=info.label,
            created_at=info.created_at,
            revoked_at=info.revoked_at,
        )


class RotatedKeyOut(Record):
    """The organisation's new custodial key (the old one is revoked)."""

    key_address: str


class OnboardedOut(Record):
    organisation: OrganisationOut
    key_address: str
    credential: CredentialOut
    carrier_codes: list[CarrierCodeItem] = Field(
        default_factory=list, description="The carrier codes recorded for it (carriers only)"
    )
