"""DCSA PINT 3.0 (``EBL_PINT_v3.0.0.yaml``), the receiving platform: the envelope, its additional
documents, finish-transfer, and receiver validation, at exactly the YAML's paths, bodies and codes.

Platform-to-platform authentication is PINT's own: the sending platform is the one whose key signed the
envelope manifest and the last chain entry, checked against our trust list (``ebl platforms``); no
bearer token is asked for. The ``envelopeReference`` we answer with (256 random bits) is what lets the
same sender send that transfer's documents and finish it. Every answer that decides (RECE, DUPE, BSIG,
BENV, INCD, MDOC, DISE) is our signed ``EnvelopeTransferFinishedResponseSignedContent``, a JSON string;
what does not decide (201 started, 204 document received, 404) is unsigned, as the YAML has it.
Unexpected failures answer the YAML's ``ErrorResponse``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.dcsa_errors import error_body
from api.deps import RuntimeDep
from registry.interop.receiver import Answer

router = APIRouter(tags=["PINT 3.0 (receiving platform)"])

API_VERSION = "3.0.0"

EnvelopeReference = Path(max_length=100, description="The receiving platform-provided envelope reference")
DocumentChecksum = Path(min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")


def _respond(answer: Answer, request: Request) -> Response:
    headers = {"API-Version": API_VERSION}
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    body: Any = answer.body
    if answer.status >= 400 and isinstance(body, dict):  # unsigned: the YAML's ErrorResponse
        body = error_body(
            request.method,
            request.url.path,
            answer.status,
            body.get("statusCodeText", "Error"),
            body.get("statusCodeMessage", ""),
            correlation=str(uuid.uuid4()),
        )
    return JSONResponse(body, status_code=answer.status, headers=headers)


def _bad_request(message: str) -> Answer:
    return Answer(400, {"statusCodeText": "Bad Request", "statusCodeMessage": message})


async def _json(request: Request) -> tuple[bool, Any]:
    raw = await request.body()
    try:
        return True, json.loads(raw)
    except ValueError:
        return False, None


@router.post("/v3/envelopes", status_code=201)
async def post_envelopes(request: Request, runtime: RuntimeDep) -> Response:
    """Start the eBL envelope transfer (``post-envelopes``)."""
    ok, body = await _json(request)
    if not ok:
        return _respond(_bad_request("the body is not JSON"), request)
    answer = await run_in_threadpool(runtime.pint.receiver.start, body)
    return _respond(answer, request)


@router.put("/v3/envelopes/{envelopeReference}/additional-documents/{documentChecksum}", status_code=204)
async def put_additional_document(
    request: Request,
    runtime: RuntimeDep,
    envelopeReference: str = EnvelopeReference,
    documentChecksum: str = DocumentChecksum,
) -> Response:
    """Transfer an additional document of the envelope transfer (``put-additional-documents``)."""
    ok, body = await _json(request)
    if not ok:
        return _respond(_bad_request("the body is not JSON"), request)
    answer = await run_in_threadpool(
        runtime.pint.receiver.put_document, envelopeReference, documentChecksum, body
    )
    return _respond(answer, request)


@router.put("/v3/envelopes/{envelopeReference}/finish-transfer")
async def put_finish_transfer(
    request: Request,
    runtime: RuntimeDep,
    envelopeReference: str = EnvelopeReference,
) -> Response:
    """Finish the eBL envelope transfer (``put-finish-transfer``)."""
    answer = await run_in_threadpool(runtime.pint.receiver.finish, envelopeReference)
    return _respond(answer, request)


@router.post("/v3/receiver-validation")
async def post_receiver_validation(request: Request, runtime: RuntimeDep) -> Response:
    """Validate that a party code names a party of this platform (``post-receiver-validation``)."""
    ok, body = await _json(request)
    if not ok or not isinstance(body, dict) or not isinstance(body.get("partyCode"), str):
        return _respond(_bad_request("the body is not an IdentifyingCode"), request)
    answer = await run_in_threadpool(runtime.pint.receiver.validate_receiver, body)
    return _respond(answer, request)
