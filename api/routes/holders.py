"""Holders (any member): transfer, endorse, reject, surrender — custodial or client-signed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from api.auth import Principal
from api.deps import RuntimeDep, member_org, require_role
from api.routes._common import parse_ebl_id, write_response
from api.schemas import (
    EndorseRequest,
    NominateRequest,
    OperationOut,
    PrepareRequest,
    SignedActionRequest,
    SurrenderRequest,
    TransferRequest,
)
from registry.types import Action

router = APIRouter(prefix="/v1/holders", tags=["holders"])
Member = Annotated[Principal, Depends(require_role("carrier", "bank", "trader"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Wait = Annotated[bool, Query(description="true: answer when final on chain; false: 202 at once")]


@router.post("/ebls/{ebl_id}/transfer", response_model=OperationOut)
def transfer(
    ebl_id: str,
    body: TransferRequest,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """TRANSFER possession (custodial: the gateway signs with the organisation's key)."""
    op = runtime.title.transfer(
        member_org(principal), parse_ebl_id(ebl_id), body.to, idempotency_key=idempotency_key, wait=wait
    )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/endorse", response_model=OperationOut)
def endorse(
    ebl_id: str,
    body: EndorseRequest,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """ENDORSE_TO_ORDER (``toOrder``: the endorsee may endorse further) or ENDORSE."""
    op = runtime.title.endorse(
        member_org(principal),
        parse_ebl_id(ebl_id),
        body.endorsee,
        to_order=body.to_order,
        idempotency_key=idempotency_key,
        wait=wait,
    )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/endorse-in-blank", response_model=OperationOut)
def endorse_in_blank(
    ebl_id: str,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """BLANK_ENDORSE: the bill becomes a bearer bill."""
    op = runtime.title.endorse_in_blank(
        member_org(principal), parse_ebl_id(ebl_id), idempotency_key=idempotency_key, wait=wait
    )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/nominate", response_model=OperationOut)
def nominate(
    ebl_id: str,
    body: NominateRequest,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """The endorsee nominates the next endorsee while another party holds (null cancels)."""
    op = runtime.title.nominate(
        member_org(principal), parse_ebl_id(ebl_id), body.nominee, idempotency_key=idempotency_key, wait=wait
    )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/reject", response_model=OperationOut)
def reject(
    ebl_id: str,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """Reject possession just received: it returns to the sender."""
    op = runtime.title.reject_transfer(
        member_org(principal), parse_ebl_id(ebl_id), idempotency_key=idempotency_key, wait=wait
    )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/surrender", response_model=OperationOut)
def surrender(
    ebl_id: str,
    body: SurrenderRequest,
    runtime: RuntimeDep,
    principal: Member,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """Request surrender to the issuing carrier, for delivery or for amendment (reason SWTP, COD, SWI)."""
    org, ebl = member_org(principal), parse_ebl_id(ebl_id)
    if body.reason == "DELIVERY":
        op = runtime.title.surrender_for_delivery(org, ebl, idempotency_key=idempotency_key, wait=wait)
    else:
        op = runtime.title.surrender_for_amendment(
            org, ebl, body.reason_code or "", idempotency_key=idempotency_key, wait=wait
        )
    return write_response(op, response)


@router.post("/ebls/{ebl_id}/actions/prepare")
def prepare(ebl_id: str, body: PrepareRequest, runtime: RuntimeDep, principal: Member) -> dict[str, Any]:
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
    op = runtime.title.submit_signed(
        member_org(principal),
        body.typed_data,
        bytes.fromhex(body.signature[2:]),
        idempotency_key=idempotency_key,
        wait=wait,
    )
    return write_response(op, response)
