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
    TypedDataOut,
)
from registry.errors import ContractRevertError
from registry.title import WriteOptions
from registry.types import Action, EblId

router = APIRouter(prefix="/v1/holders", tags=["holders"], responses=problem_responses(403, 404, 409, 503))
MEMBER_ROLES = ("carrier", "bank", "trader")
Member = Annotated[Principal, Depends(require_role(*MEMBER_ROLES))]
HolderWrite = Annotated[Write, Depends(write_dependency(*MEMBER_ROLES))]


@router.post("/ebls/{ebl_id}/transfer", response_model=OperationOut)
def transfer(body: TransferRequest, w: HolderWrite) -> OperationOut:
    """TRANSFER possession (custodial: the gateway signs with the organisation's key)."""
    with w.refusals_hidden():
        op = w.title.transfer(w.org, w.ebl_id, body.to, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/endorse", response_model=OperationOut)
def endorse(body: EndorseRequest, w: HolderWrite) -> OperationOut:
    """ENDORSE_TO_ORDER (``toOrder``: the endorsee may endorse further) or ENDORSE."""
    with w.refusals_hidden():
        op = w.title.endorse(w.org, w.ebl_id, body.endorsee, to_order=body.to_order, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/endorse-in-blank", response_model=OperationOut)
def endorse_in_blank(w: HolderWrite) -> OperationOut:
    """BLANK_ENDORSE: the bill becomes a bearer bill."""
    with w.refusals_hidden():
        op = w.title.endorse_in_blank(w.org, w.ebl_id, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/nominate", response_model=OperationOut)
def nominate(body: NominateRequest, w: HolderWrite) -> OperationOut:
    """The endorsee nominates the next endorsee while another party holds (null cancels)."""
    with w.refusals_hidden():
        op = w.title.nominate(w.org, w.ebl_id, body.nominee, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/reject", response_model=OperationOut)
def reject(w: HolderWrite) -> OperationOut:
    """Reject possession just received: it returns to the sender."""
    with w.refusals_hidden():
        op = w.title.reject_transfer(w.org, w.ebl_id, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/surrender", response_model=OperationOut)
def surrender(body: SurrenderRequest, w: HolderWrite) -> OperationOut:
    """Request surrender to the issuing carrier, for delivery or for amendment (reason SWTP, COD, SWI)."""
    with w.refusals_hidden():
        if body.reason == "DELIVERY":
            op = w.title.surrender_for_delivery(w.org, w.ebl_id, options=w.options)
        else:
            op = w.title.surrender_for_amendment(w.org, w.ebl_id, body.reason_code or "", options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/actions/prepare", response_model=TypedDataOut)
def prepare(ebl_id: EblIdPath, body: PrepareRequest, runtime: RuntimeDep, principal: Member) -> TypedDataOut:
    """Client-signed mode, step 1: the EIP-712 typed data to sign with the organisation's own key
    (``eth_signTypedData_v4``). The gateway never sees that key."""
    member_org(principal)
    data = (body.reason_code or "").encode().ljust(32, b"\0")
    typed = runtime.title.prepare(Action[body.action], parse_ebl_id(ebl_id), party=body.party, data=data)
    return TypedDataOut.model_validate(typed)


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
            options=WriteOptions(idempotency_key, wait),
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
