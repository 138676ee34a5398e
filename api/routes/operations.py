"""Operations: poll an accepted write; health, readiness and metrics."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from api.deps import CurrentPrincipal, RuntimeDep
from api.problems import Problem, problem_responses
from api.schemas import HealthOut, OperationOut, ReadyOut, operation_out
from registry.title import Operation

router = APIRouter(tags=["operations"])

INDEXER_LAG = Gauge("ebl_indexer_lag_blocks", "Blocks the index is behind the chain head")
RELAYER_PENDING = Gauge("ebl_relayer_pending_entries", "Signed entries sent and not yet final")
MAX_READY_LAG = 30


@router.get("/v1/operations/{operation_id}", response_model=OperationOut, responses=problem_responses(404))
def operation(operation_id: str, runtime: RuntimeDep, principal: CurrentPrincipal) -> OperationOut:
    """Where an accepted operation stands: pending, submitted, final or failed."""
    entry = runtime.journal.get(operation_id)  # one read serves the visibility check and the answer
    if principal.role not in ("auditor", "governance") and entry.org != principal.org:
        raise Problem(404, "not_found", "Not found", f"operation {operation_id} not found")
    op = Operation.from_journal(entry)
    if op.status == "final" and op.block_number is not None and runtime.title.index_barrier is not None:
        runtime.title.index_barrier(op.block_number)  # final here means history already shows it
    return operation_out(op)


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut()


@router.get("/readyz", response_model=ReadyOut, responses=problem_responses(503))
def readyz(runtime: RuntimeDep) -> ReadyOut:
    """Ready when the chain and the database answer, the chain archive can advance (the node still
    serves every block it needs) and the index is at most 30 blocks behind. Says whether the answering
    process is the relayer leader (``leader``, also in a 503 with ``ledgerReachable``) and which process
    it is (``pid``: with several workers, any may answer)."""
    who: dict[str, Any] = {"leader": runtime.leading, "pid": os.getpid()}
    if runtime.archive_failure is not None:
        detail = str(runtime.archive_failure)
        raise Problem(503, "not_ready", "Chain archive stopped", detail, ledgerReachable=True, **who)
    try:
        head = runtime.w3.eth.block_number
    except Exception as exc:
        detail = f"the ledger is unreachable ({type(exc).__name__})"
        raise Problem(503, "not_ready", "Not ready", detail, ledgerReachable=False, **who) from None
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checkpoint = runtime.indexer.checkpoint()
    except Exception as exc:
        detail = f"the database is unreachable ({type(exc).__name__})"
        raise Problem(503, "not_ready", "Not ready", detail, ledgerReachable=True, **who) from None
    lag = head - (checkpoint[0] if checkpoint else runtime.deployment.block_number)
    INDEXER_LAG.set(lag)
    if lag > MAX_READY_LAG:
        detail = f"indexer is {lag} blocks behind"
        raise Problem(503, "not_ready", "Index lagging", detail, lag=lag, ledgerReachable=True, **who)
    return ReadyOut(chain_head=head, indexer_lag=lag, leader=runtime.leading, pid=os.getpid())


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics."""
    RELAYER_PENDING.set(runtime.relayer.pending)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
