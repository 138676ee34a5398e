"""PINT at ``/v1``: holders send bills to parties on other platforms and follow their transfers;
members see the envelopes received for them; governance keeps the trust list of platforms."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal
from api.deps import CurrentPrincipal, RuntimeDep, member_org, require_role
from api.problems import Problem, problem_responses
from api.routes._common import EblIdPath, hide_unless_party, parse_ebl_id
from registry.errors import ContractRevertError
from registry.pint.build import SupportingDocument
from registry.records.platforms import (
    IncomingEnvelopeOut,
    PlatformIn,
    PlatformOut,
    PlatformTransferIn,
    TransferOut,
    incoming_out,
    platform_out,
    transfer_out,
)
from registry.records.problems import PROBLEM_CODES
from registry.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["platforms (PINT)"], responses=problem_responses(403, 404, 409))
Member = Annotated[Principal, Depends(require_role("carrier", "bank", "trader"))]
Governance = Annotated[Principal, Depends(require_role("governance"))]
_SEES_ALL = ("governance", "auditor")


def _out(runtime: Runtime, transfer_id: str) -> TransferOut:
    t = runtime.pint.sessions.outgoing(transfer_id)
    return transfer_out(t, runtime.pint.sessions.steps(transfer_id))


@router.post(
    "/holders/ebls/{ebl_id}/platform-transfers",
    response_model=TransferOut,
    status_code=201,
    responses=problem_responses(422),
)
async def send_to_platform(
    ebl_id: EblIdPath, body: PlatformTransferIn, runtime: RuntimeDep, principal: Member, response: Response
) -> TransferOut:
    """Send the bill to a party on another platform (PINT): TRANSFER (possession), ENDORSE or
    ENDORSE_TO_ORDER. 201 once the receiver's signed response decided (``status`` EXPORTED: the bill is
    theirs now; RETURNED: it stays with you, ``reason`` says why); 202 while the transfer is still being
    retried (follow it at ``Location``)."""
    org, ebl = member_org(principal), parse_ebl_id(ebl_id)
    documents = [_document(d) for d in body.documents]
    try:
        t = await run_in_threadpool(
            runtime.pint.sender.send,
            org,
            ebl,
            platform=body.platform,
            recipient=body.recipient,
            action=body.action_code,
            documents=documents,
        )
    except ContractRevertError:
        hide_unless_party(runtime, principal, ebl)
        raise
    if t.step == "refused-here":
        hide_unless_party(runtime, principal, ebl)
        code = (t.reason or "refused").split(":", 1)[0]
        code = code if code in PROBLEM_CODES else "refused"
        raise Problem(PROBLEM_CODES[code][0], code, "The registry refused the export", t.reason or "")
    out = transfer_out(t, runtime.pint.sessions.steps(t.transfer_id))
    if out.status == "IN_PROGRESS":
        response.status_code = 202
        response.headers["Location"] = f"/v1/platform-transfers/{t.transfer_id}"
    return out


def _document(raw: dict[str, str]) -> SupportingDocument:
    try:
        return SupportingDocument(
            raw["name"], raw["mediaType"], base64.b64decode(raw["content"], validate=True)
        )
    except (KeyError, binascii.Error, ValueError):
        raise Problem(
            422,
            "invalid_request",
            "The request is not valid",
            "a document is {name, mediaType, content (base64)}",
        ) from None


@router.get("/platform-transfers", response_model=list[TransferOut])
def list_transfers(runtime: RuntimeDep, principal: CurrentPrincipal) -> list[TransferOut]:
    """Outgoing transfers, newest first: a member's own; every one for governance and auditors."""
    org = None if principal.role in _SEES_ALL else member_org(principal)
    return [
        transfer_out(t, runtime.pint.sessions.steps(t.transfer_id))
        for t in runtime.pint.sessions.list_outgoing(org=org)
    ]


@router.get("/platform-transfers/{transfer_id}", response_model=TransferOut)
def show_transfer(transfer_id: str, runtime: RuntimeDep, principal: CurrentPrincipal) -> TransferOut:
    """One outgoing transfer and its journal."""
    out = _out(runtime, transfer_id)
    if principal.role not in _SEES_ALL and runtime.pint.sessions.outgoing(transfer_id).org != principal.org:
        raise Problem(404, "not_found", "Not found", f"no transfer {transfer_id}")
    return out


@router.post("/platform-transfers/{transfer_id}/resume", response_model=TransferOut)
def resume_transfer(transfer_id: str, runtime: RuntimeDep, principal: CurrentPrincipal) -> TransferOut:
    """Try an unfinished transfer again now (the registry also does, every few seconds)."""
    t = runtime.pint.sessions.outgoing(transfer_id)
    if principal.role != "governance" and t.org != principal.org:
        raise Problem(404, "not_found", "Not found", f"no transfer {transfer_id}")
    runtime.pint.sender.resume(transfer_id)
    return _out(runtime, transfer_id)


@router.get("/incoming-envelopes", response_model=list[IncomingEnvelopeOut])
def list_incoming(runtime: RuntimeDep, principal: CurrentPrincipal) -> list[IncomingEnvelopeOut]:
    """Envelopes other platforms sent, newest first: those for a member; every one for governance and
    auditors."""
    member = None if principal.role in _SEES_ALL else member_org(principal)
    return [incoming_out(s) for s in runtime.pint.sessions.list_incoming(member=member)]


@router.get("/platforms", response_model=list[PlatformOut])
def list_platforms(runtime: RuntimeDep, principal: CurrentPrincipal) -> list[PlatformOut]:
    """The trusted platforms, and this registry's own entry (``own``: give it to the other operators)."""
    own = platform_out(runtime.pint.platforms.own, own=True)
    return [own, *(platform_out(e) for e in runtime.pint.platforms.list())]


@router.post("/platforms", response_model=PlatformOut, status_code=201, responses=problem_responses(422))
def add_platform(body: PlatformIn, runtime: RuntimeDep, principal: Governance) -> PlatformOut:
    """Trust a platform (or replace its entry): its code, PINT URL and JWK set (optionally X.509)."""
    return platform_out(runtime.pint.platforms.add(body.to_entry()))


@router.delete("/platforms/{code}", status_code=204)
def remove_platform(code: str, runtime: RuntimeDep, principal: Governance) -> Response:
    """Stop trusting a platform: its envelopes answer BSIG from now on."""
    if not runtime.pint.platforms.remove(code):
        raise Problem(404, "not_found", "Not found", f"platform {code} is not trusted")
    return Response(status_code=204)
