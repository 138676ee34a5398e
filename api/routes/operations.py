"""Operations: poll an accepted write; health, readiness and metrics."""

from __future__ import annotations

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
    serves every block it needs) and the index is at most 30 blocks behind."""
    if runtime.archive_failure is not None:
        raise Problem(503, "not_ready", "Chain archive stopped", str(runtime.archive_failure))
    try:
        head = runtime.w3.eth.block_number
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checkpoint = runtime.indexer.checkpoint()
    except Exception as exc:
        raise Problem(503, "not_ready", "Not ready", f"{type(exc).__name__}") from None
    lag = head - (checkpoint[0] if checkpoint else runtime.deployment.block_number)
    INDEXER_LAG.set(lag)
    if lag > MAX_READY_LAG:
        raise Problem(503, "not_ready", "Index lagging", f"indexer is {lag} blocks behind", lag=lag)
    return ReadyOut(chain_head=head, indexer_lag=lag)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics."""
    RELAYER_PENDING.set(runtime.relayer.pending)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
