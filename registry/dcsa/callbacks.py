"""The persisted outbox of DCSA callbacks to carriers, and the thread that drains it.

A callback (an ``IssuanceResponse`` to ``/v3/ebl-issuance-responses``, a ``SurrenderRequestDetails``
to ``/v3/ebl-surrender-requests``, under the carrier's registered base URL) is written to
``dcsa_callbacks`` in the same request that causes it, before anything is sent: a crash loses none,
and the next start sends what was not delivered. Delivery is at least once: the carrier sees a
callback again if we crash between its ``204`` and our marking it delivered (DCSA's receivers
de-duplicate by ``transportDocumentReference`` / ``surrenderRequestReference``).

* A callback may wait for a journaled operation (``await_operation``): an issuance's ISSU is sent once
  the issuance is final on chain; if it failed, a REFU with the failure's words is sent instead.
* A failed attempt (connection error, non-2xx answer, no endpoint registered yet) is retried with
  exponential backoff (1 s, 2 s, 4 s … at most ``max_backoff``), for ever: a carrier that comes back
  gets every callback.
* Surrender requests are found from the index (:meth:`CallbackOutbox.enqueue_surrenders`): every eBL
  whose latest action is a surrender request gets one ``SurrenderRequestDetails``, however the holder
  asked (custodial ``/v1`` or client-signed), exactly once (unique ``(ebl_id, seq)``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, Table, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from registry.dcsa.chains import endorsement_chains
from registry.store.models import (
    DcsaCallback,
    DcsaCarrierEndpoint,
    DcsaSurrenderRequest,
    Document,
    Ebl,
    EblEvent,
)
from registry.types import Action, Status

__all__ = ["ISSUANCE_RESPONSES", "SURRENDER_REQUESTS", "CallbackDrainer", "CallbackOutbox", "Endpoint"]

log = logging.getLogger(__name__)

CALLBACKS: Table = DcsaCallback.__table__  # type: ignore[assignment]
ENDPOINTS: Table = DcsaCarrierEndpoint.__table__  # type: ignore[assignment]
SURRENDERS: Table = DcsaSurrenderRequest.__table__  # type: ignore[assignment]
EBLS: Table = Ebl.__table__  # type: ignore[assignment]
EVENTS: Table = EblEvent.__table__  # type: ignore[assignment]
DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]

ISSUANCE_RESPONSES = "/v3/ebl-issuance-responses"
SURRENDER_REQUESTS = "/v3/ebl-surrender-requests"
BATCH = 100
_SURRENDER_CODES = {
    Action.SURRENDER_FOR_DELIVERY.dcsa_code: "SREQ",
    Action.SURRENDER_FOR_AMENDMENT.dcsa_code: "AREQ",
}
_REASONS = {"SWTP", "COD", "SWI"}

OperationStatusOf = Callable[[str], tuple[str, str | None]]
"""An operation id → (its status, its error detail): how the drainer learns an issuance's outcome."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite drops the zone


@dataclass(frozen=True)
class Endpoint:
    """A carrier's registered callback base URL (and the bearer token we present to it, if any)."""

    org: str
    base_url: str
    token: str | None
    updated_at: datetime


class CallbackOutbox:
    """The ``dcsa_callbacks`` table: enqueue, find what is due, record each attempt."""

    def __init__(self, engine: Engine, platform: str, *, max_backoff: float = 300.0) -> None:
        self.engine, self.platform, self.max_backoff = engine, platform, max_backoff

    # ------------------------------------------------------------------ carrier endpoints

    def register_endpoint(self, org: str, base_url: str, token: str | None) -> Endpoint:
        """Record (or replace) where carrier ``org`` takes its callbacks; pending callbacks to it are
        due at once."""
        now = _now()
        values = {"base_url": base_url.rstrip("/"), "token": token, "updated_at": now}
        with self.engine.begin() as conn:
            if conn.execute(update(ENDPOINTS).where(ENDPOINTS.c.org == org).values(**values)).rowcount == 0:
                conn.execute(insert(ENDPOINTS).values(org=org, **values))
            conn.execute(
                update(CALLBACKS)
                .where(and_(CALLBACKS.c.org == org, CALLBACKS.c.delivered_at.is_(None)))
                .values(next_attempt_at=now)
            )
        return Endpoint(org, values["base_url"], token, now)  # type: ignore[arg-type]

    def endpoint(self, org: str) -> Endpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ENDPOINTS).where(ENDPOINTS.c.org == org)).first()
        return None if row is None else Endpoint(row.org, row.base_url, row.token, _aware(row.updated_at))

    # ------------------------------------------------------------------ enqueue

    def enqueue(
        self,
        org: str,
        path: str,
        payload: Mapping[str, Any],
        dedupe_key: str,
        *,
        await_operation: str | None = None,
    ) -> bool:
        """Persist one callback (False: one with this ``dedupe_key`` is already queued)."""
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(CALLBACKS).values(
                        org=org,
                        path=path,
                        payload=dict(payload),
                        await_operation=await_operation,
                        dedupe_key=dedupe_key,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def enqueue_surrenders(self) -> int:
        """Queue a ``SurrenderRequestDetails`` for every pending surrender request that has none yet
        (one indexed join: eBLs in SURRENDER_REQUESTED, their latest event, no request recorded)."""
        query = (
            select(
                EBLS.c.ebl_id,
                EBLS.c.carrier,
                EBLS.c.seq,
                EVENTS.c.action,
                EVENTS.c.data,
                DOCUMENTS.c.document["transportDocumentReference"].as_string().label("reference"),
                DOCUMENTS.c.document["transportDocumentSubReference"].as_string().label("sub_reference"),
            )
            .select_from(EBLS)
            .join(EVENTS, and_(EVENTS.c.ebl_id == EBLS.c.ebl_id, EVENTS.c.seq == EBLS.c.seq))
            .join(DOCUMENTS, DOCUMENTS.c.ebl_id == EBLS.c.ebl_id)
            .outerjoin(SURRENDERS, and_(SURRENDERS.c.ebl_id == EBLS.c.ebl_id, SURRENDERS.c.seq == EBLS.c.seq))
            .where(EBLS.c.status == Status.SURRENDER_REQUESTED.name, SURRENDERS.c.reference.is_(None))
            .limit(BATCH)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        queued = 0
        for row in rows:
            code = _SURRENDER_CODES.get(row.action)
            if code is None or not row.reference:
                continue
            reference = uuid.uuid5(uuid.NAMESPACE_URL, f"ebl:{row.ebl_id}:{row.seq}").hex
            chain = endorsement_chains(self.engine, self.platform, row.reference)
            links: list[dict[str, Any]] = next(
                (
                    c["endorsementChain"]
                    for c in chain
                    if c.get("transportDocumentSubReference") == row.sub_reference
                ),
                [],
            )
            payload: dict[str, Any] = {
                "surrenderRequestReference": reference,
                "transportDocumentReference": row.reference,
            }
            if row.sub_reference:
                payload["transportDocumentSubReference"] = row.sub_reference
            payload["surrenderRequestCode"] = code
            reason = bytes.fromhex(row.data[2:]).rstrip(b"\0").decode(errors="replace") if row.data else ""
            if code == "AREQ" and reason in _REASONS:
                payload["reasonCode"] = reason
            # SUR 3.0.3: issuance onward (oldest first); each of its links names actor and recipient
            payload["endorsementChain"] = [link for link in reversed(links) if "recipient" in link]
            now = _now()
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(SURRENDERS).values(
                            reference=reference,
                            ebl_id=row.ebl_id,
                            seq=row.seq,
                            carrier=row.carrier,
                            created_at=now,
                        )
                    )
                    conn.execute(
                        insert(CALLBACKS).values(
                            org=row.carrier,
                            path=SURRENDER_REQUESTS,
                            payload=payload,
                            dedupe_key=f"surrender:{reference}",
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
            except IntegrityError:  # another process queued it first
                continue
            queued += 1
        return queued

    # ------------------------------------------------------------------ surrender answers

    def surrender_request(self, reference: str) -> Any:
        """The recorded surrender request (a row: ebl_id, seq, carrier, answer) or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(SURRENDERS).where(SURRENDERS.c.reference == reference)).first()

    def claim_answer(self, reference: str, answer: str) -> bool:
        """Record the carrier's one answer; False if it already answered."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(SURRENDERS)
                .where(and_(SURRENDERS.c.reference == reference, SURRENDERS.c.answer.is_(None)))
                .values(answer=answer, answered_at=_now())
            )
        return bool(done.rowcount)

    def release_answer(self, reference: str) -> None:
        """Forget an answer whose write the chain refused, so the carrier may answer again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(SURRENDERS)
                .where(SURRENDERS.c.reference == reference)
                .values(answer=None, answered_at=None)
            )

    # ------------------------------------------------------------------ delivery

    def due(self, limit: int = BATCH) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(CALLBACKS)
                    .where(CALLBACKS.c.delivered_at.is_(None), CALLBACKS.c.next_attempt_at <= _now())
                    .order_by(CALLBACKS.c.id)
                    .limit(limit)
                ).all()
            )

    def pending(self) -> list[Any]:
        """Every callback not delivered yet (operators; tests)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(CALLBACKS).where(CALLBACKS.c.delivered_at.is_(None))).all())

    def delivered(self, callback_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(CALLBACKS)
                .where(CALLBACKS.c.id == callback_id)
                .values(delivered_at=_now(), attempts=CALLBACKS.c.attempts + 1, last_error=None)
            )

    def failed(self, callback_id: int, attempts: int, error: str) -> None:
        delay = min(self.max_backoff, 2.0**attempts)
        with self.engine.begin() as conn:
            conn.execute(
                update(CALLBACKS)
                .where(CALLBACKS.c.id == callback_id)
                .values(
                    attempts=attempts + 1,
                    next_attempt_at=_now() + timedelta(seconds=delay),
                    last_error=error[:500],
                )
            )

    def resolve(self, callback_id: int, payload: Mapping[str, Any]) -> None:
        """The awaited operation is settled: send ``payload`` from now on, await nothing more."""
        with self.engine.begin() as conn:
            conn.execute(
                update(CALLBACKS)
                .where(CALLBACKS.c.id == callback_id)
                .values(payload=dict(payload), await_operation=None)
            )


class CallbackDrainer:
    """The thread that delivers due callbacks: one round every ``interval`` seconds, or at once when
    :meth:`wake` is called (a new callback was queued)."""

    def __init__(
        self,
        outbox: CallbackOutbox,
        status_of: OperationStatusOf,
        *,
        timeout: float = 10.0,
        interval: float = 0.5,
    ) -> None:
        self.outbox, self.status_of, self.interval = outbox, status_of, interval
        self._client = httpx.Client(timeout=timeout, headers={"API-Version": "3"})
        self._stop = threading.Event()
        self._now = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CallbackDrainer:
        self._thread = threading.Thread(target=self._run, name="dcsa-callbacks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._now.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._client.close()

    def wake(self) -> None:
        self._now.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # keep draining; the next round retries
                log.exception("DCSA callback round failed")
            self._now.wait(self.interval)
            self._now.clear()

    def round(self) -> int:
        """Queue new surrender requests, then attempt every due callback once; returns how many were
        delivered."""
        self.outbox.enqueue_surrenders()
        sent = 0
        for row in self.outbox.due():
            if self._stop.is_set():
                break
            payload: Mapping[str, Any] = row.payload
            if row.await_operation is not None:
                status, detail = self.status_of(row.await_operation)
                if status in ("pending", "submitted"):
                    continue  # not settled yet: looked at again next round
                if status == "failed":
                    payload = {
                        "transportDocumentReference": payload["transportDocumentReference"],
                        "issuanceResponseCode": "REFU",
                        "reason": (detail or "the issuance failed on chain")[:255].strip() or "refused",
                    }
                self.outbox.resolve(row.id, payload)
            endpoint = self.outbox.endpoint(row.org)
            if endpoint is None:
                self.outbox.failed(row.id, row.attempts, "no DCSA endpoint registered for the carrier")
                continue
            headers = {"Authorization": f"Bearer {endpoint.token}"} if endpoint.token else {}
            try:
                answer = self._client.post(endpoint.base_url + row.path, json=dict(payload), headers=headers)
            except httpx.HTTPError as exc:
                self.outbox.failed(row.id, row.attempts, f"{type(exc).__name__}: {exc}")
                continue
            if 200 <= answer.status_code < 300:
                self.outbox.delivered(row.id)
                sent += 1
            else:
                self.outbox.failed(row.id, row.attempts, f"HTTP {answer.status_code}: {answer.text[:200]}")
        return sent
