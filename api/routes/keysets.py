"""Public key sets anyone needs to check what the registry signed, offline: no credential required."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep

router = APIRouter(tags=["attestations"])

JWK_SET = "application/jwk-set+json"


@router.get(
    "/.well-known/jwks.json",
    response_class=JSONResponse,
    responses={200: {"description": "The JWK set (RFC 7517)", "content": {JWK_SET: {}}}},
)
def attestation_jwks(runtime: RuntimeDep) -> JSONResponse:
    """The registry's attestation keys as a JWK set: the key that signs now first, then every earlier key
    not retired, so an attestation signed before a rotation still verifies. Save it beside the
    attestations you file: `ebl attest verify FILE --jwks JWKS_FILE` needs nothing else."""
    jwks: dict[str, Any] = runtime.attester.keys.public_jwks()
    return JSONResponse(jwks, media_type=JWK_SET, headers={"Cache-Control": "public, max-age=300"})
