"""Members (any member organisation): its bills, and its own signing keys, self-service.

``GET ebls`` lists the organisation's bills from the index, one view at a time: ``held`` (live bills
in its possession), ``awaiting`` (held bills waiting for its action, each with the reason) and
``former`` (bills it handed on), newest issuance first, paginated with ``nextCursor``
(:mod:`registry.store.holdings`). ``GET directory`` lists the member organisations (legal name, LEI,
role) a member names as counterparty.

A member registers a wallet key it holds itself in two steps: ``POST keys/challenge`` names the key
and returns EIP-712 ``KeyRegistration`` typed data (the organisation, the key, a nonce, a deadline,
under the registry's domain); the key signs it (``eth_signTypedData_v4``) and ``POST keys`` sends the
signature. The signature proves the member holds the key, the credential that the organisation wants
it; the organisation's custodial key then adds it on chain. ``GET keys`` lists every key of the
organisation the chain knows, ``POST keys/{key}/revoke`` revokes one (never the last).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.auth import Principal
from api.deps import CredentialsDep, RuntimeDep, member_org, require_role
from api.problems import problem_for_failed_operation, problem_responses
from api.routes._common import organisations
from api.schemas import (
    HoldingPageOut,
    KeyChallengeRequest,
    KeyOut,
    KeyRegistrationRequest,
    OrganisationOut,
    TypedDataOut,
)
from registry.members import OrgKey
from registry.store.holdings import HoldingView, member_ebls
from registry.title import Operation

router = APIRouter(prefix="/v1/members", tags=["members"], responses=problem_responses(403, 404, 409, 503))
Member = Annotated[Principal, Depends(require_role("carrier", "bank", "trader"))]
KeyPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="The key's address")]


def _out(key: OrgKey, op: Operation | None = None) -> KeyOut:
    return KeyOut.after(key, op.operation_id if op is not None else None)


def _answer(runtime: RuntimeDep, org: str, key: str, op: Operation, response: Response) -> KeyOut:
    """The key after a write: its record when the operation is final, else 202 and where to poll."""
    if op.status == "failed":
        raise problem_for_failed_operation(op.error_code, op.error_detail, op.operation_id)
    if op.status != "final":
        response.status_code = 202
        response.headers["Location"] = f"/v1/operations/{op.operation_id}"
        return KeyOut(address=key, status="active", custodial=False, operation_id=op.operation_id)
    return _out(runtime.members.org_key(org, key), op)


@router.get("/ebls", response_model=HoldingPageOut)
def ebls(
    runtime: RuntimeDep,
    principal: Member,
    credentials: CredentialsDep,
    view: Annotated[
        HoldingView, Query(description="held, awaiting (your action) or former")
    ] = HoldingView.HELD,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=100, description="``nextCursor`` of the page before")
    ] = None,
) -> HoldingPageOut:
    """The caller's bills in one view, newest issuance first, from the index (an action shows here
    once the indexer has its block, normally within a second of being final)."""
    page = member_ebls(runtime.engine, member_org(principal), view, limit, cursor)
    parties = {
        a
        for h in page.items
        for a in (h.title.carrier, h.title.holder, h.title.endorsee, h.title.nominee)
        if a
    }
    return HoldingPageOut.from_domain(page, organisations(credentials, parties))


@router.get("/directory", response_model=list[OrganisationOut])
def directory(
    principal: Member,
    credentials: CredentialsDep,
    q: Annotated[str, Query(max_length=100, description="Part of the legal name or LEI (any case)")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[OrganisationOut]:
    """The member directory: every member organisation's address, legal name, LEI and role, by name,
    so a holder names a counterparty (transfer, endorse) by who it is, not by a typed address."""
    return [
        OrganisationOut(address=p.address, name=p.name, identifier=p.identifier, role=p.role.lower())
        for p in credentials.directory(q.strip(), limit)
    ]


@router.get("/keys", response_model=list[KeyOut])
def keys(runtime: RuntimeDep, principal: Member) -> list[KeyOut]:
    """Every key of the caller's organisation, in the order they were added, active and revoked."""
    return [_out(k) for k in runtime.members.org_keys(member_org(principal))]


@router.post("/keys/challenge", response_model=TypedDataOut)
def key_challenge(body: KeyChallengeRequest, runtime: RuntimeDep, principal: Member) -> TypedDataOut:
    """Step 1: the EIP-712 ``KeyRegistration`` typed data the new key signs. Valid for 10 minutes;
    uint256 values are decimal strings. Sign it unchanged (``eth_signTypedData_v4``)."""
    return TypedDataOut.model_validate(runtime.members.key_challenge(member_org(principal), body.key))


@router.post("/keys", response_model=KeyOut, status_code=201, responses={202: {"model": KeyOut}})
def register_key(
    body: KeyRegistrationRequest, runtime: RuntimeDep, principal: Member, response: Response
) -> KeyOut:
    """Step 2: register the key that signed the challenge. The organisation's custodial key adds it on
    chain (``ADD_KEY``); from then on it signs the organisation's client-signed actions."""
    org = member_org(principal)
    key, op = runtime.members.register_key(org, body.typed_data, bytes.fromhex(body.signature[2:]))
    return _answer(runtime, org, key, op, response)


@router.post("/keys/{key}/revoke", response_model=KeyOut)
def revoke_key(key: KeyPath, runtime: RuntimeDep, principal: Member, response: Response) -> KeyOut:
    """Revoke a key of the caller's organisation (``REVOKE_KEY``); it can never be used or added again.
    The organisation's last active key cannot be revoked (409 ``last_key``); revoking a revoked key
    changes nothing."""
    org = member_org(principal)
    op = runtime.members.revoke_key(org, key)
    if op is None:
        return _out(runtime.members.org_key(org, key))
    return _answer(runtime, org, key, op, response)
