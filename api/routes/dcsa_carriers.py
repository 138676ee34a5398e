"""The DCSA platform APIs a carrier's system calls (Issuance and Surrender 3.0.3), and where it
registers the base URL of its own callback endpoints.

* ``PUT /v3/ebl-issuance-requests`` — an ``IssuanceRequest``; ``204``, then the ``IssuanceResponse``
  (ISSU / BREQ / REFU) is POSTed to ``{base}/v3/ebl-issuance-responses`` (:mod:`registry.dcsa.issuance`).
* ``POST /v3/ebl-surrender-responses`` — the carrier's ``SurrenderRequestAnswer`` (SURR / SREJ) to a
  ``SurrenderRequestDetails`` we POSTed to ``{base}/v3/ebl-surrender-requests``; ``204``, or ``409``
  for a second answer.
* ``POST /v1/carriers/dcsa-endpoint`` — the callback base URL (and the bearer token we present to it).

Mounted only when ``EBL_DCSA_APIS`` is on. Errors under ``/v3`` are DCSA ``ErrorResponse``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from api.auth import Principal
from api.dcsa_errors import API_VERSION
from api.deps import RuntimeDep, member_org, require_role
from api.problems import Problem
from registry.dcsa import CallbackOutbox, DcsaIssuance
from registry.errors import RegistryError
from registry.title import WriteOptions
from registry.types import EblId

__all__ = ["endpoints", "router"]

router = APIRouter(tags=["DCSA (carriers)"])
endpoints = APIRouter(prefix="/v1/carriers", tags=["carriers"])
Carrier = Annotated[Principal, Depends(require_role("carrier"))]

_TEXT = r"^\S(?:.*\S)?$"


class SupportingDocument(BaseModel):
    """DCSA ``SupportingDocument`` (the carrier's eBL visualisation)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    content: str
    contentType: str = Field(default="application/pdf", max_length=100)

    @field_validator("content")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content is not base64") from exc
        return value


class IssuanceRequest(BaseModel):
    """DCSA ``IssuanceRequest``: the document and ``issueTo`` are checked by the registry itself."""

    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]
    issueTo: dict[str, Any]
    eBLVisualisationByCarrier: SupportingDocument | None = None
    issuanceManifestSignedContent: str = Field(pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class SurrenderRequestAnswer(BaseModel):
    """DCSA ``SurrenderRequestAnswer``."""

    model_config = ConfigDict(extra="forbid")
    surrenderRequestReference: str = Field(max_length=100, pattern=_TEXT)
    action: Literal["SURR", "SREJ"]
    comments: str | None = Field(default=None, max_length=255, pattern=_TEXT)
    feedbackElements: list[dict[str, Any]] | None = None


class EndpointIn(BaseModel):
    """Where the carrier takes DCSA callbacks."""

    model_config = ConfigDict(extra="forbid")
    url: HttpUrl = Field(
        description="base URL: callbacks go to <url>/v3/ebl-issuance-responses and "
        "<url>/v3/ebl-surrender-requests"
    )
    token: str | None = Field(
        default=None, max_length=500, description="bearer token we send with each callback (stored as given)"
    )


class EndpointOut(BaseModel):
    org: str
    url: str
    hasToken: bool
    updatedAt: datetime


def _outbox(runtime: Any) -> CallbackOutbox:
    outbox: CallbackOutbox | None = runtime.dcsa
    if outbox is None:  # pragma: no cover - the routers are mounted only when it exists
        raise Problem(404, "not_found", "Not found", "the DCSA platform APIs are not enabled")
    return outbox


def _no_content() -> Response:
    return Response(status_code=204, headers={"API-Version": API_VERSION})


@router.put("/v3/ebl-issuance-requests", status_code=204, response_class=Response)
def put_ebl_issuance_requests(body: IssuanceRequest, runtime: RuntimeDep, principal: Carrier) -> Response:
    """Request issuance of an eBL (``put-ebl-issuance-requests``). ``204``: the IssuanceResponse follows
    at the carrier's ``/v3/ebl-issuance-responses``; ``409``: this document was requested before."""
    outbox = _outbox(runtime)
    DcsaIssuance(runtime.engine, runtime.title, outbox).request(
        member_org(principal), body.model_dump(exclude_none=True)
    )
    if runtime.dcsa_drainer is not None:
        runtime.dcsa_drainer.wake()
    return _no_content()


@router.post("/v3/ebl-surrender-responses", status_code=204, response_class=Response)
def post_ebl_surrender_responses(
    body: SurrenderRequestAnswer, runtime: RuntimeDep, principal: Carrier
) -> Response:
    """The carrier's answer to a surrender request (``post-ebl-surrender-responses``): SURR accepts
    (the eBL is surrendered), SREJ rejects (it returns to the requester). Only once: ``409`` after."""
    outbox = _outbox(runtime)
    org = member_org(principal)
    if body.action == "SREJ" and not body.comments:
        raise Problem(400, "bad_request", "The request is not valid", "comments must be provided for SREJ")
    found = outbox.surrender_request(body.surrenderRequestReference)
    if found is None or found.carrier != org:  # another carrier's reference reveals nothing
        raise Problem(404, "not_found", "Not found", f"no surrender request {body.surrenderRequestReference}")
    if not outbox.claim_answer(body.surrenderRequestReference, body.action):
        raise Problem(
            409, "duplicate", "Already answered", "a carrier may only answer once to a surrender request"
        )
    ebl_id = EblId(int(found.ebl_id))
    try:
        if body.action == "SURR":
            runtime.title.accept_surrender(org, ebl_id, options=WriteOptions(wait=True))
        else:
            runtime.title.reject_surrender(org, ebl_id, options=WriteOptions(wait=True))
    except RegistryError:
        outbox.release_answer(body.surrenderRequestReference)  # refused: nothing happened
        raise
    return _no_content()


@endpoints.post("/dcsa-endpoint", response_model=EndpointOut)
async def register_dcsa_endpoint(
    body: EndpointIn, request: Request, runtime: RuntimeDep, principal: Carrier
) -> EndpointOut:
    """Register (or replace) the base URL of the carrier's DCSA callback endpoints. Callbacks not yet
    delivered to it are sent again at once."""
    outbox = _outbox(runtime)
    saved = await run_in_threadpool(
        outbox.register_endpoint, member_org(principal), str(body.url), body.token
    )
    if runtime.dcsa_drainer is not None:
        runtime.dcsa_drainer.wake()
    return EndpointOut(
        org=saved.org, url=saved.base_url, hasToken=saved.token is not None, updatedAt=saved.updated_at
    )
