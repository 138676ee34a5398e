"""Auditors and customs: full history of an eBL and events by organisation, as JSON or CSV, and the
offline-verifiable audit bundle of an eBL."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import Principal
from api.deps import RuntimeDep, require_role
from api.problems import Problem, problem_responses
from api.routes._common import EblIdPath, parse_ebl_id
from api.schemas import EventOut, EventPageOut
from registry.proofs.bundle import build_bundle
from registry.store import queries
from registry.types import Action

router = APIRouter(prefix="/v1/auditors", tags=["auditors"], responses=problem_responses(403, 404, 503))
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV with format=csv",
    }
}
Auditor = Annotated[Principal, Depends(require_role("auditor", "governance"))]
_FIELDS = [
    "ebl_id",
    "seq",
    "action",
    "actor",
    "counterparty",
    "actor_key",
    "data",
    "block_number",
    "block_time",
    "tx_hash",
    "log_index",
    "ebl_id_hex",
    "platform",
]


def _csv(events: list[EventOut]) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_FIELDS)
    writer.writeheader()
    for e in events:
        row = e.model_dump()
        row["block_time"] = e.block_time.isoformat()
        writer.writerow(row)
    return Response(buffer.getvalue(), media_type="text/csv")


@router.get("/ebls/{ebl_id}/history", response_model=list[EventOut], responses=_CSV)
def history(
    ebl_id: EblIdPath,
    runtime: RuntimeDep,
    principal: Auditor,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> list[EventOut] | Response:
    """Every action on the eBL, issuance first: actor, counterparty, action (DCSA code), block, time, tx."""
    events = [EventOut.from_domain(e) for e in runtime.title.history(parse_ebl_id(ebl_id))]
    return _csv(events) if format == "csv" else events


@router.get("/events", response_model=EventPageOut, responses=_CSV)
def events(
    runtime: RuntimeDep,
    principal: Auditor,
    org: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")],
    since: datetime,
    until: datetime,
    action: Annotated[str | None, Query(description="DCSA action code, e.g. TRANSFER or SACC")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> EventPageOut | Response:
    """Events an organisation took part in (as actor or counterparty) within [since, until), paginated."""
    wanted = None
    if action is not None:
        matches = [a for a in Action if a.dcsa_code == action.upper()]
        if not matches:
            raise Problem(
                422, "invalid_request", "The request is not valid", f"unknown action code {action!r}"
            )
        wanted = matches[0]
    page = queries.events_by_org(runtime.engine, org, since, until, wanted, limit, cursor)
    out = [EventOut.from_domain(e) for e in page.events]
    return _csv(out) if format == "csv" else EventPageOut(events=out, next_cursor=page.next_cursor)


@router.get("/ebls/{ebl_id}/bundle", response_model=dict[str, Any])
def bundle(ebl_id: EblIdPath, runtime: RuntimeDep, principal: Auditor) -> dict[str, Any]:
    """The audit bundle: one JSON file with the issued document, every action with its raw transaction,
    receipt and Merkle proofs against its block's transactionsRoot and receiptsRoot, every header from
    the first action's block to the head, each acting key's membership record proven at its block, and
    the head signed by the registry's attestation key (`/.well-known/jwks.json`). Check it offline with
    `ebl audit verify BUNDLE --jwks JWKS_FILE` (on a Besu QBFT network, `--qbft-genesis GENESIS`)."""
    ident = parse_ebl_id(ebl_id)
    events = runtime.title.history(ident)
    return build_bundle(
        runtime.w3,
        archive=runtime.indexer.archive,
        registry=runtime.deployment.address,
        chain_id=runtime.deployment.chain_id,
        ebl_id=int(ident),
        events=events,
        document=runtime.documents.get(ident),
        keys=runtime.attester.keys,
        head_hash=runtime.title.head.latest().hash,
    )
