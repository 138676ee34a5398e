"""Banks (and anyone presented with an eBL): verify title before paying under a letter of credit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal
from api.bodies import JsonBody, json_body
from api.deps import CredentialsDep, RuntimeDep, require_role
from api.problems import Problem, problem_responses
from api.routes._common import EblIdPath, ebl_not_found, organisations, parse_ebl_id, require_visible
from api.schemas import VerificationOut
from registry.documents import Document
from registry.errors import NotFoundError
from registry.proofs.attestation import PartyProfile
from registry.records import AttestationOut
from registry.runtime import Runtime
from registry.title import Verification
from registry.types import EblId

router = APIRouter(prefix="/v1/banks", tags=["banks"], responses=problem_responses(403, 404, 503))
Verifier = Annotated[Principal, Depends(require_role("bank", "carrier", "trader", "auditor", "governance"))]


def _out(runtime: Runtime, credentials: CredentialsDep, v: Verification) -> VerificationOut:
    orgs = organisations(credentials, {str(a) for a in (v.holder, v.endorsee, v.carrier) if a})
    return VerificationOut.from_domain(v, runtime.deployment.address, runtime.deployment.chain_id, orgs)


@router.get("/ebls/{ebl_id}/verification", response_model=VerificationOut)
def verify_by_id(
    ebl_id: EblIdPath, runtime: RuntimeDep, principal: Verifier, credentials: CredentialsDep
) -> VerificationOut:
    """Live status, holder and endorsee (with identity), carrier, lineage, anchored at one block.
    Banks and auditors may verify any eBL; other members the eBLs they are party to."""
    ebl = parse_ebl_id(ebl_id)
    if principal.role not in ("bank",):
        require_visible(runtime, principal, ebl)
    return _out(runtime, credentials, _verify(runtime, ebl))


def _verify(runtime: Runtime, ebl: EblId, presented: JsonBody | None = None) -> Verification:
    """The title state of one eBL, with the presented document checked against it; an unknown id is
    :func:`ebl_not_found`, the answer an eBL the principal may not see gets too."""
    try:
        return runtime.title.verify(ebl, document=None if presented is None else _document(presented))
    except NotFoundError:
        raise ebl_not_found() from None


def _document(presented: JsonBody) -> Document:
    """The presented document, checked and hashed from the value the body guard parsed (no re-parse)."""
    return Document.from_text(presented.raw, parsed=presented.parsed)


# The route reads the raw body (the document exactly as presented: it is hashed, not re-serialised),
# so FastAPI does not see a body parameter; the OpenAPI document is told about it here.
_PRESENTED_DOCUMENT = {
    "required": True,
    "description": "The DCSA eBL 3.0 transport document JSON exactly as presented, in any key order or "
    "whitespace (JSON naming a key twice is refused: 422 duplicate_key)",
    "content": {
        "application/json": {
            "schema": {"type": "object", "title": "TransportDocument", "additionalProperties": True}
        }
    },
}


async def _presented(body: Annotated[JsonBody, Depends(json_body)]) -> JsonBody:
    if not body.raw:
        raise Problem(422, "invalid_request", "Empty body", "post the presented transport document JSON")
    return body


Presented = Annotated[JsonBody, Depends(_presented)]


@router.post(
    "/ebls/{ebl_id}/verification",
    response_model=VerificationOut,
    openapi_extra={"requestBody": _PRESENTED_DOCUMENT},
    responses=problem_responses(422),
)
async def verify_document_for_ebl(
    ebl_id: EblIdPath, body: Presented, runtime: RuntimeDep, principal: Verifier, credentials: CredentialsDep
) -> VerificationOut:
    """Verify a document presented for a given eBL: always a verdict. ``documentMatches`` says whether
    the presented document is the one issued (``presentedHash`` beside the issued ``documentHash``),
    with the eBL's full title state anchored at one block. Banks and auditors may verify any eBL; other
    members the eBLs they are party to, or any eBL by its own document."""
    ebl = parse_ebl_id(ebl_id)

    def verify() -> VerificationOut:
        v = _verify(runtime, ebl, body)
        if principal.role != "bank" and not v.document_matches:
            require_visible(runtime, principal, ebl)
        return _out(runtime, credentials, v)

    return await run_in_threadpool(verify)


@router.post(
    "/verifications",
    response_model=VerificationOut,
    openapi_extra={"requestBody": _PRESENTED_DOCUMENT},
)
async def verify_document(
    body: Presented, runtime: RuntimeDep, principal: Verifier, credentials: CredentialsDep
) -> VerificationOut:
    """Verify a presented document: the body is the transport document JSON exactly as presented, in any
    key order or whitespace. Whoever holds the document may see that eBL's title state; a document no
    eBL was issued for answers ``404 no_matching_ebl``. To check a document against a given eBL, post
    it to ``/v1/banks/ebls/{ebl_id}/verification``."""

    def verify() -> VerificationOut:  # hash, index lookup, chain read and profiles in one worker hop
        return _out(runtime, credentials, runtime.title.verify(document=_document(body)))

    return await run_in_threadpool(verify)


JOSE = "application/jose"
"""The media type of a compact JWS (RFC 7515 section 9.2.1)."""

_OPTIONAL_DOCUMENT = {
    "required": False,
    "description": "Optionally, the DCSA eBL 3.0 transport document JSON exactly as presented: the "
    "attestation then says whether it is the issued document (`presentedHash`, `documentMatches`)",
    "content": _PRESENTED_DOCUMENT["content"],
}

_ATTESTATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed attestation: JSON with the compact JWS in `attestation`, or with "
        "`Accept: application/jose` the compact JWS alone",
        "content": {JOSE: {"schema": {"type": "string", "description": "compact JWS"}}},
    },
    **problem_responses(422),
}


@router.post(
    "/ebls/{ebl_id}/attestations",
    response_model=AttestationOut,
    openapi_extra={"requestBody": _OPTIONAL_DOCUMENT},
    responses=_ATTESTATION_RESPONSES,
)
async def attest(
    ebl_id: EblIdPath,
    request: Request,
    body: Annotated[JsonBody, Depends(json_body)],
    runtime: RuntimeDep,
    principal: Verifier,
    credentials: CredentialsDep,
) -> AttestationOut | Response:
    """A signed title attestation to file: "at block N, at time T, this eBL was in this state", with the
    block header and the `eth_getProof` storage proof of its title record, all of one block, signed by
    the registry's attestation key (`/.well-known/jwks.json`). Anyone can check it offline, years
    later, with `ebl attest verify FILE --jwks JWKS_FILE`. Banks and auditors may attest any eBL; other
    members the eBLs they are party to, or any eBL by its own document."""
    ebl = parse_ebl_id(ebl_id)
    presented = _document(body).hash if body.raw.strip() else None

    def sign() -> AttestationOut:
        if principal.role != "bank" and presented is None:
            require_visible(runtime, principal, ebl)
        try:
            signed = runtime.attester.attest(
                ebl,
                presented_hash=presented,
                profiles=lambda wanted: {
                    a: PartyProfile.of(p.name, p.identifier) for a, p in credentials.profiles(wanted).items()
                },
            )
        except NotFoundError:
            raise ebl_not_found() from None
        if principal.role != "bank" and not signed.payload["documentMatches"]:
            require_visible(runtime, principal, ebl)
        return AttestationOut.from_domain(signed)

    out = await run_in_threadpool(sign)
    if JOSE in request.headers.get("accept", ""):
        return Response(out.attestation, media_type=JOSE)
    return out
