"""Governance: onboard and suspend organisations, rotate their keys, issue, list and revoke API
credentials."""

from __future__ import annotations

from typing import Annotated, Literal

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Depends, Path, Query

from api.auth import Principal
from api.deps import CredentialsDep, RuntimeDep, require_role
from api.problems import Problem, problem_responses
from api.schemas import (
    Address,
    CarrierCodeItem,
    CredentialInfoOut,
    CredentialOut,
    CredentialRequest,
    MemberDetailOut,
    MemberOut,
    OnboardedOut,
    OrganisationOut,
    OrganisationRequest,
    RotatedKeyOut,
)
from registry.members import carrier_code
from registry.records import AttestationKeyOut
from registry.runtime import Runtime
from registry.types import Role

router = APIRouter(
    prefix="/v1/governance", tags=["governance"], responses=problem_responses(403, 404, 409, 503)
)
Governance = Annotated[Principal, Depends(require_role("governance"))]


@router.post("/organisations", response_model=OnboardedOut, status_code=201)
def onboard(
    body: OrganisationRequest, runtime: RuntimeDep, principal: Governance, credentials: CredentialsDep
) -> OnboardedOut:
    """Onboard an organisation: on chain with a fresh custodial key, plus its first API credential.

    A carrier names its carrierCode and carrierCodeListProvider (SMDG or NMFTA; more in carrierCodes):
    it may then issue only documents that name one of them (else 422 carrier_mismatch). A code belongs
    to one organisation: a code another carrier has answers 409 duplicate."""
    codes = [carrier_code(c.carrier_code, c.carrier_code_list_provider) for c in body.codes()]
    org, key = runtime.members.onboard(body.identifier, Role[body.role.upper()], codes)
    credentials.save_profile(org.address, body.name, body.identifier, body.role)
    issued = credentials.issue(body.name, body.role, org.address)
    return OnboardedOut(
        organisation=OrganisationOut(
            address=org.address, name=body.name, identifier=body.identifier, role=body.role
        ),
        key_address=key.address,
        credential=CredentialOut.from_issued(issued),
        carrier_codes=_codes(runtime, org.address),
    )


def _codes(runtime: Runtime, org: str) -> list[CarrierCodeItem]:
    return [CarrierCodeItem.from_domain(c) for c in runtime.members.carrier_codes.codes_of(org)]


@router.post("/credentials", response_model=CredentialOut, status_code=201)
def credential(
    body: CredentialRequest, runtime: RuntimeDep, principal: Governance, credentials: CredentialsDep
) -> CredentialOut:
    """Issue an API credential (e.g. for an auditor, or a second one for a member). A member credential's
    role must be the organisation's role on chain; auditor and governance credentials name no organisation."""
    org = to_checksum_address(body.org) if body.org else None
    if body.role in ("carrier", "bank", "trader"):
        if org is None:
            raise Problem(422, "invalid_request", "A member credential names its organisation")
        on_chain = runtime.members.organisation(org)
        if on_chain.role is not Role[body.role.upper()]:
            raise Problem(
                422,
                "role_mismatch",
                "Role does not match the organisation",
                f"{org} is {on_chain.role.name.lower()} on chain, not {body.role}",
            )
    elif org is not None:
        raise Problem(422, "invalid_request", f"{body.role} credentials name no organisation")
    issued = credentials.issue(body.name, body.role, org, expires_at=body.expires_at)
    return CredentialOut.from_issued(issued, body.expires_at)


@router.get("/credentials", response_model=list[CredentialInfoOut])
def credentials_list(
    principal: Governance,
    credentials: CredentialsDep,
    role: Annotated[Literal["carrier", "bank", "trader", "auditor", "governance"] | None, Query()] = None,
    org: Annotated[Address | None, Query(description="Only this organisation's credentials")] = None,
    status: Annotated[Literal["active", "revoked", "expired"] | None, Query()] = None,
) -> list[CredentialInfoOut]:
    """Every API credential's public facts (never a token or hash), oldest first."""
    records = credentials.records(role=role, org=to_checksum_address(org) if org else None)
    return [CredentialInfoOut.from_domain(r) for r in records if status is None or r.status == status]


OrgPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="The organisation's address")]
CredentialId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The credential's id")]


@router.get("/credentials/{credential_id}", response_model=CredentialInfoOut)
def credential_get(
    credential_id: CredentialId, principal: Governance, credentials: CredentialsDep
) -> CredentialInfoOut:
    """One API credential's public facts."""
    record = credentials.get(credential_id)
    if record is None:
        raise Problem(404, "not_found", "Not found", f"credential {credential_id} not found")
    return CredentialInfoOut.from_domain(record)


@router.post("/credentials/{credential_id}/revoke", response_model=CredentialInfoOut)
def credential_revoke(
    credential_id: CredentialId, principal: Governance, credentials: CredentialsDep
) -> CredentialInfoOut:
    """Revoke an API credential: every gateway process on this database refuses it within a second
    (401 ``unauthenticated``). Revoking it again changes nothing."""
    record = credentials.revoke(credential_id)
    if record is None:
        raise Problem(404, "not_found", "Not found", f"credential {credential_id} not found")
    return CredentialInfoOut.from_domain(record)


@router.post("/organisations/{org}/suspend", response_model=MemberOut)
def suspend(org: OrgPath, runtime: RuntimeDep, principal: Governance) -> MemberOut:
    """Suspend: the organisation can neither act nor receive title; what it holds stays put. Answers
    its on-chain record, as ``GET organisations/{org}`` does (status ``SUSPENDED``)."""
    return MemberOut.from_domain(runtime.members.suspend(org))


@router.post("/organisations/{org}/reinstate", response_model=MemberOut)
def reinstate(org: OrgPath, runtime: RuntimeDep, principal: Governance) -> MemberOut:
    """Lift a suspension; answers the on-chain record (status ``ACTIVE``)."""
    return MemberOut.from_domain(runtime.members.reinstate(org))


@router.post("/organisations/{org}/rotate-key", response_model=RotatedKeyOut)
def rotate_key(org: OrgPath, runtime: RuntimeDep, principal: Governance) -> RotatedKeyOut:
    """Rotate the organisation's custodial key (new key added, old revoked; title never moves)."""
    return RotatedKeyOut(key_address=runtime.members.rotate_key(org).address)


@router.get("/organisations/{org}", response_model=MemberDetailOut)
def organisation(org: OrgPath, runtime: RuntimeDep, principal: Governance) -> MemberDetailOut:
    """The organisation's on-chain record and every key of it the chain knows, custodial or held by the
    member itself (public facts only)."""
    o = runtime.members.organisation(org)
    codes = runtime.members.carrier_codes.codes_of(o.address)
    return MemberDetailOut.from_domain_with(o, codes, runtime.members.org_keys(org))


@router.get("/attestation-keys", response_model=list[AttestationKeyOut])
def attestation_keys(runtime: RuntimeDep, principal: Governance) -> list[AttestationKeyOut]:
    """The registry's attestation keys: which one signs, which are retired (out of the JWK set)."""
    return [AttestationKeyOut(**k) for k in runtime.attester.keys.describe()]


@router.post("/attestation-keys/rotate", response_model=AttestationKeyOut, status_code=201)
def rotate_attestation_key(runtime: RuntimeDep, principal: Governance) -> AttestationKeyOut:
    """A new attestation key signs from now on; the previous one stays in `/.well-known/jwks.json`, so
    attestations it signed still verify."""
    kid = runtime.attester.keys.rotate()
    return next(AttestationKeyOut(**k) for k in runtime.attester.keys.describe() if k["kid"] == kid)
