"""Governance: onboard and suspend organisations, rotate their keys, issue API credentials."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Depends

from api.auth import Principal
from api.deps import CredentialsDep, RuntimeDep, require_role
from api.problems import Problem, problem_responses
from api.schemas import CredentialOut, CredentialRequest, OnboardedOut, OrganisationOut, OrganisationRequest
from registry.types import Role

router = APIRouter(
    prefix="/v1/governance", tags=["governance"], responses=problem_responses(403, 404, 409, 503)
)
Governance = Annotated[Principal, Depends(require_role("governance"))]


@router.post("/organisations", response_model=OnboardedOut, status_code=201)
def onboard(
    body: OrganisationRequest, runtime: RuntimeDep, principal: Governance, credentials: CredentialsDep
) -> OnboardedOut:
    """Onboard an organisation: on chain with a fresh custodial key, plus its first API credential."""
    org, key = runtime.members.onboard(body.identifier, Role[body.role.upper()])
    credentials.save_profile(org.address, body.name, body.identifier, body.role)
    issued = credentials.issue(body.name, body.role, org.address)
    return OnboardedOut(
        organisation=OrganisationOut(
            address=org.address, name=body.name, identifier=body.identifier, role=body.role
        ),
        key_address=key.address,
        credential=CredentialOut(
            credential_id=issued.principal.credential_id,
            name=body.name,
            role=body.role,
            org=org.address,
            token=issued.token,
        ),
    )


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
    issued = credentials.issue(body.name, body.role, org)
    return CredentialOut(
        credential_id=issued.principal.credential_id,
        name=body.name,
        role=body.role,
        org=issued.principal.org,
        token=issued.token,
    )


@router.post("/organisations/{org}/suspend", response_model=OrganisationOut)
def suspend(org: str, runtime: RuntimeDep, principal: Governance) -> OrganisationOut:
    """Suspend: the organisation can neither act nor receive title; what it holds stays put."""
    o = runtime.members.suspend(org)
    return OrganisationOut(address=o.address, role=o.role.name.lower())


@router.post("/organisations/{org}/reinstate", response_model=OrganisationOut)
def reinstate(org: str, runtime: RuntimeDep, principal: Governance) -> OrganisationOut:
    """Lift a suspension."""
    o = runtime.members.reinstate(org)
    return OrganisationOut(address=o.address, role=o.role.name.lower())


@router.post("/organisations/{org}/rotate-key")
def rotate_key(org: str, runtime: RuntimeDep, principal: Governance) -> dict[str, str]:
    """Rotate the organisation's custodial key (new key added, old revoked; title never moves)."""
    return {"keyAddress": runtime.members.rotate_key(org).address}


@router.get("/organisations/{org}")
def organisation(org: str, runtime: RuntimeDep, principal: Governance) -> dict[str, object]:
    """The organisation's on-chain record and its custodial keys (public facts only)."""
    o = runtime.members.organisation(org)
    return {
        "address": o.address,
        "index": o.index,
        "role": o.role.name,
        "status": o.status.name,
        "keyCount": o.key_count,
        "keys": [k.to_public_dict() for k in runtime.members.keys(org)],
    }
