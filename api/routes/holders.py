"""Holders (any member): transfer, endorse, reject, surrender — custodial or client-signed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.auth import Principal
from api.deps import RuntimeDep, member_org, require_role
from api.problems import problem_responses
from api.routes._common import (
    EblIdPath,
    IdempotencyKey,
    Wait,
    Write,
    hide_unless_party,
    parse_ebl_id,
    write_dependency,
    write_response,
)
from api.schemas import (
    EndorseRequest,
    NominateRequest,
    OperationOut,
    PrepareRequest,
    SignedActionRequest,
    SurrenderRequest,
    TransferRequest,
)
from registry.errors import ContractRevertError
from registry.types import Action, EblId

router = APIRouter(prefix="/v1/holders", tags=["holders"], responses=problem_responses(403, 404, 409, 503))
MEMBER_ROLES = ("carrier", "bank", "trader")
Member = Annotated[Principal, Depends(require_role(*MEMBER_ROLES))]
HolderWrite = Annotated[Write, Depends(write_dependency(*MEMBER_ROLES))]


@router.post("/ebls/{ebl_id}/transfer", response_model=OperationOut)
def transfer(body: TransferRequest, w: HolderWrite) -> OperationOut:
    """TRANSFER possession (custodial: the gateway signs with the organisation's key)."""
    return w.run(w.runtime.title.transfer, body.to)


@router.post("/ebls/{ebl_id}/endorse", response_model=OperationOut)
def endorse(body: EndorseRequest, w: HolderWrite) -> OperationOut:
    """ENDORSE_TO_ORDER (``toOrder``: the endorsee may endorse further) or ENDORSE."""
    title = w.runtime.title
    return w.run(lambda *a, **kw: title.endorse(*a, to_order=body.to_order, **kw), body.endorsee)


@router.post("/ebls/{ebl_id}/endorse-in-blank", response_model=OperationOut)
def endorse_in_blank(w: HolderWrite) -> OperationOut:
    """BLANK_ENDORSE: the bill becomes a bearer bill."""
    return w.run(w.runtime.title.endorse_in_blank)


@router.post("/ebls/{ebl_id}/nominate", response_model=OperationOut)
def nominate(body: NominateRequest, w: HolderWrite) -> OperationOut:
    """The endorsee nominates the next endorsee while another party holds (null cancels)."""
    return w.run(w.runtime.title.nominate, body.nominee)


@router.post("/ebls/{ebl_id}/reject", response_model=OperationOut)
def reject(w: HolderWrite) -> OperationOut:
    """Reject possession just received: it returns to the sender."""
    return w.run(w.runtime.title.reject_transfer)


@router.post("/ebls/{ebl_id}/surrender", response_model=OperationOut)
def surrender(body: SurrenderRequest, w: HolderWrite) -> OperationOut:
    """Request surrender to the issuing carrier, for delivery or for amendment (reason SWTP, COD, SWI)."""
    if body.reason == "DELIVERY":
        return w.run(w.runtime.title.surrender_for_delivery)
    return w.run(w.runtime.title.surrender_for_amendment, body.reason_code or "")


@router.post("/ebls/{ebl_id}/actions/prepare")
def prepare(
    ebl_id: EblIdPath, body: PrepareRequest, runtime: RuntimeDep, principal: Member
) -> dict[str, Any]:
    """Client-signed mode, step 1: the EIP-712 typed data to sign with the organisation's own key
    (``eth_signTypedData_v4``). The gateway never sees that key."""
    member_org(principal)
    data = (body.reason_code or "").encode().ljust(32, b"\0")
    return runtime.title.prepare(Action[body.action], parse_ebl_id(ebl_id), party=body.party, data=data)


@router.post("/signed-actions", response_model=OperationOut)
def submit_signed(
    body: SignedActionRequest,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """Client-signed mode, step 2: post the typed data and its signature; the gateway verifies and relays."""
    try:
        op = runtime.title.submit_signed(
            member_org(principal),
            body.typed_data,
            bytes.fromhex(body.signature[2:]),
            idempotency_key=idempotency_key,
            wait=wait,
        )
    except ContractRevertError:
        hide_unless_party(runtime, principal, _signed_ebl_id(body.typed_data))
        raise
    if op.status == "failed":
        hide_unless_party(runtime, principal, op.ebl_id)
    return write_response(op, response)


def _signed_ebl_id(typed_data: dict[str, Any]) -> EblId:
    """The eBL a signed action names (the service has already read it, so it parses)."""
    return parse_ebl_id(str(typed_data["message"]["eblId"]))
