"""Carriers: issue (single and batch, idempotent), accept / reject surrender, void, amend, switch to paper."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.auth import Principal
from api.deps import RuntimeDep, member_org, require_role
from api.problems import problem_for_registry_error, problem_responses
from api.routes._common import IdempotencyKey, Wait, Write, write_dependency, write_response
from api.schemas import (
    AmendRequest,
    BatchIssueRequest,
    IssueRequest,
    OperationOut,
    SwitchToPaperRequest,
    operation_out,
)
from registry.errors import RegistryError
from registry.title import WriteOptions

router = APIRouter(prefix="/v1/carriers", tags=["carriers"], responses=problem_responses(403, 404, 409, 503))
Carrier = Annotated[Principal, Depends(require_role("carrier"))]
CarrierWrite = Annotated[Write, Depends(write_dependency("carrier"))]


@router.post("/ebls", response_model=OperationOut, status_code=201, responses={202: {"model": OperationOut}})
def issue(
    body: IssueRequest,
    runtime: RuntimeDep,
    principal: Carrier,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = True,
) -> OperationOut:
    """Issue an eBL from a DCSA 3.0 transport document. A retried request with the same
    ``Idempotency-Key`` never issues twice."""
    op = runtime.title.issue(
        member_org(principal),
        body.document,
        body.issue_to,
        endorsee=body.endorsee,
        issue_to_party=body.issue_to_party,
        options=WriteOptions(idempotency_key, wait),
    )
    return write_response(op, response, created=True)


@router.post("/ebls/batch", response_model=list[OperationOut], status_code=202)
def issue_batch(
    body: BatchIssueRequest,
    runtime: RuntimeDep,
    principal: Carrier,
    idempotency_key: IdempotencyKey = None,
) -> list[OperationOut]:
    """Issue many eBLs; answers 202 at once with one operation per item (poll ``/v1/operations/{id}``).
    An item the registry refuses carries its error instead of an operation id. With an
    ``Idempotency-Key``, item *i* uses ``<key>:<i>``."""
    org = member_org(principal)
    out: list[OperationOut] = []
    for i, item in enumerate(body.items):
        try:
            op = runtime.title.issue(
                org,
                item.document,
                item.issue_to,
                endorsee=item.endorsee,
                issue_to_party=item.issue_to_party,
                options=WriteOptions(f"{idempotency_key}:{i}" if idempotency_key else None, wait=False),
            )
            out.append(operation_out(op))
        except RegistryError as exc:
            problem = problem_for_registry_error(exc)  # the code and words a single issuance answers
            out.append(
                OperationOut(
                    operation_id="",
                    action="ISSUE",
                    ebl_id=None,
                    status="failed",
                    error_code=problem.code,
                    error_detail=problem.detail,
                    error=getattr(exc, "error_name", None) or None,
                )
            )
    return out


@router.post("/ebls/{ebl_id}/accept-surrender", response_model=OperationOut)
def accept_surrender(w: CarrierWrite) -> OperationOut:
    """SACC: accept a surrender request (delivery ends the record)."""
    with w.refusals_hidden():
        op = w.title.accept_surrender(w.org, w.ebl_id, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/reject-surrender", response_model=OperationOut)
def reject_surrender(w: CarrierWrite) -> OperationOut:
    """SREJ: reject a surrender request; the bill returns to the requester."""
    with w.refusals_hidden():
        op = w.title.reject_surrender(w.org, w.ebl_id, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/void", response_model=OperationOut)
def void(w: CarrierWrite) -> OperationOut:
    """Void an eBL surrendered for amendment, without reissue."""
    with w.refusals_hidden():
        op = w.title.void(w.org, w.ebl_id, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/amend", response_model=OperationOut)
def amend(body: AmendRequest, w: CarrierWrite) -> OperationOut:
    """Void an eBL surrendered for amendment and issue the amended document linked to it."""
    with w.refusals_hidden():
        op = w.title.amend(w.org, w.ebl_id, body.document, endorsee=body.endorsee, options=w.options)
    return w.answer(op)


@router.post("/ebls/{ebl_id}/switch-to-paper", response_model=OperationOut)
def switch_to_paper(body: SwitchToPaperRequest, w: CarrierWrite) -> OperationOut:
    """End an eBL surrendered with reason SWTP: the printed paper bill replaces it."""
    paper_hash = bytes.fromhex(body.paper_document_hash.removeprefix("0x"))
    with w.refusals_hidden():
        op = w.title.switch_to_paper(w.org, w.ebl_id, paper_hash, options=w.options)
    return w.answer(op)
