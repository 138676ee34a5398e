"""DCSA Endorsement Chain 3.0.3: ``GET /v3/endorsement-chains/{transportDocumentReference}``.

The chain comes from the index in one query (:func:`registry.dcsa.endorsement_chains`). Visibility is
that of ``/v1``: auditors and governance see every chain; a member sees the chains of the eBLs it
issued or is named in (actor or recipient); any other reference answers ``404``, as one that does not
exist. Mounted only when ``EBL_DCSA_APIS`` is on.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.dcsa_errors import API_VERSION
from api.deps import CurrentPrincipal, RuntimeDep
from api.problems import Problem
from registry.dcsa import endorsement_chains

__all__ = ["router"]

router = APIRouter(tags=["DCSA (endorsement chain)"])
_TEXT = r"^\S(?:.*\S)?$"


def _visible(chain: dict[str, Any], org: str) -> bool:
    for link in chain["endorsementChain"]:
        for who in ("actor", "recipient"):
            party = link.get(who)
            if party and any(c["partyCode"] == org for c in party["identifyingCodes"]):
                return True
    return False


@router.get("/v3/endorsement-chains/{transportDocumentReference}")
async def get_endorsement_chain(
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    transportDocumentReference: Annotated[str, Path(max_length=20, pattern=_TEXT)],
    transportDocumentSubReference: Annotated[str | None, Query(max_length=100, pattern=_TEXT)] = None,
    carrierSCACCode: Annotated[str | None, Query(max_length=4, pattern=r"^\S+$")] = None,
) -> JSONResponse:
    """Every Endorsement Chain of the transport document that matches the filter (``getEndorsementChain``)."""
    platform = runtime.settings.platform_code
    chains = await run_in_threadpool(
        endorsement_chains,
        runtime.engine,
        platform,
        transportDocumentReference,
        sub_reference=transportDocumentSubReference,
        scac=carrierSCACCode,
    )
    if principal.role not in ("auditor", "governance"):
        org = principal.org or ""
        chains = [c for c in chains if _visible(c, org)]
    if not chains:
        raise Problem(
            404,
            "not_found",
            "transportDocumentReference not found",
            "The requested Endorsement Chain does not exist",
        )
    return JSONResponse(chains, headers={"API-Version": API_VERSION})
