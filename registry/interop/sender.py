"""Sending a bill to another platform over PINT, step by step from a journal.

A holder's transfer (or endorsement) to a party on another platform runs these steps; each one is
journaled (:meth:`PintSessions.advance`) before the next starts, so a sender killed at any point
resumes where it stopped (:meth:`PintSender.resume`), and never builds a second envelope:

``requested`` → ``envelope-built`` (the envelope and its checksums stored: a resend posts the same
bytes) → ``export-started`` (the holder's ``StartExport`` final on chain: the bill is frozen,
ExportPending) → ``envelope-posted`` (the receiver answered 201 with its ``envelopeReference``) →
``documents-sent`` → ``response-verified`` (the receiver's signed finished response verified against
its keys) → ``exported`` (RECE or DUPE: ``closeExport``, terminal) or ``returned`` (BSIG, BENV, DISE:
``cancelExport``, the bill is Active again with the same holder, the reason kept). ``refused-here``:
our own chain refused the export (not the holder, wrong state): nothing was sent.

The envelope is built before the export starts because ``StartExport`` records its checksum (the
checksum of the envelope manifest JWS, which binds the document and the last chain entry).

An unsigned or unreadable answer, or no answer, changes nothing: the step stays, the attempt is
counted, and the transfer is tried again (by :meth:`PintSender.resume`, which the runtime's sender
thread calls), as the YAML asks: only a signed response decides.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import httpx

from registry.chain.errors import error_class
from registry.documents import Document
from registry.errors import (
    InvalidRequestError,
    PintError,
    RegistryError,
    SignatureRejected,
    TransferInProgressError,
    UnknownPlatformError,
)
from registry.interop.directory import MemberDirectory
from registry.interop.platforms import Platforms
from registry.interop.transactions import EntryTransactions
from registry.pint.build import SupportingDocument, build_envelope, sign_issuance_manifest
from registry.pint.checksums import jws_checksum
from registry.pint.codes import ResponseCode
from registry.pint.signer import JwsSigner
from registry.pint.verify import check_finished_response
from registry.store.pint_sessions import OutgoingTransfer, PintSessions
from registry.title.model import Operation
from registry.types import EblId, Status

__all__ = ["SENDABLE_ACTIONS", "TERMINAL_STEPS", "PintSender"]

log = logging.getLogger(__name__)

SENDABLE_ACTIONS = ("TRANSFER", "ENDORSE", "ENDORSE_TO_ORDER")
"""What a holder may do to a party on another platform."""

TERMINAL_STEPS = ("exported", "returned", "refused-here")

_MAX_ROUNDS = 3
"""Document rounds per attempt: a receiver still answering MDOC after three resends is retried later."""


class Bridge(Protocol):
    """What the sender uses of :class:`registry.title.bridge.PlatformBridge`."""

    def start_export(self, org: str, ebl_id: int, *, platform: str, envelope_checksum: str) -> Operation: ...

    def close_export(self, ebl_id: int, *, accepted: bool, response_checksum: str | None) -> Operation: ...

    def export_of(self, ebl_id: int) -> Any: ...


class PintSender:
    """Sends bills to other platforms (see the module docstring).

    Args:
        sessions: the PINT session store.
        platforms: the trust list (where each platform is, and its keys).
        signer: our platform key.
        directory: our members as PINT parties.
        bridge: the chain side (start / close / cancel the export).
        engine: the registry database (the bill's history, from the index).
        document_of: the stored transport document of an eBL.
        prior_chain_of: the chain a bill arrived with (empty when it was issued here).
        http: the HTTP client factory (tests pass one bound to an ASGI app).
        view: the chain's verification of an eBL (carrier and holder), when its history is not indexed.
    """

    def __init__(
        self,
        sessions: PintSessions,
        platforms: Platforms,
        signer: JwsSigner,
        directory: MemberDirectory,
        bridge: Bridge,
        engine: Any,
        document_of: Callable[[EblId], dict[str, Any]],
        prior_chain_of: Callable[[str], list[str]],
        http: Callable[[str], httpx.Client] | None = None,
        view: Callable[[EblId], Any] | None = None,
    ) -> None:
        self._sessions = sessions
        self._platforms = platforms
        self._signer = signer
        self._directory = directory
        self._bridge = bridge
        self._engine = engine
        self._document_of = document_of
        self._prior_chain_of = prior_chain_of
        self._view = view
        self._entry = EntryTransactions(engine, directory, view)
        self._http = http or (lambda base: httpx.Client(base_url=base, timeout=30.0))
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @property
    def platform(self) -> str:
        """Our eBL platform code."""
        return self._directory.platform

    # ------------------------------------------------------------------ the holder's request

    def send(
        self,
        org: str,
        ebl_id: EblId,
        *,
        platform: str,
        recipient: dict[str, Any],
        action: str = "TRANSFER",
        documents: Sequence[SupportingDocument] = (),
    ) -> OutgoingTransfer:
        """Journal a transfer of ``ebl_id`` by its holder ``org`` to ``recipient`` on ``platform``, and
        run it as far as it goes now (:meth:`resume`).

        Raises:
            UnknownPlatformError: ``platform`` is not on the trust list.
            TransferInProgressError: an earlier transfer of the bill is unfinished.
            InvalidRequestError: an action that cannot cross platforms, or a recipient on another one.
        """
        if action not in SENDABLE_ACTIONS:
            raise InvalidRequestError(
                f"{action} cannot be sent to another platform ({', '.join(SENDABLE_ACTIONS)})"
            )
        if self._platforms.get(platform) is None:
            raise UnknownPlatformError(platform)
        party = {**recipient, "eblPlatform": recipient.get("eblPlatform", platform)}
        if party["eblPlatform"] != platform:
            raise InvalidRequestError(f"the recipient is on platform {party['eblPlatform']}, not {platform}")
        if not party.get("partyName") or not party.get("identifyingCodes"):
            raise InvalidRequestError("the recipient needs a partyName and at least one identifyingCode")
        self._require_sendable(org, ebl_id)
        for earlier in self._sessions.outgoing_for_ebl(str(int(ebl_id))):
            if earlier.step not in TERMINAL_STEPS:
                raise TransferInProgressError(earlier.transfer_id, earlier.step)
        transfer = self._sessions.create_outgoing(
            ebl_id=str(int(ebl_id)), org=org, platform=platform, action_code=action, recipient=party
        )
        if documents:
            transfer = self._sessions.advance(
                transfer.transfer_id,
                "requested",
                "supporting documents attached",
                documents=[
                    {
                        "name": d.name,
                        "mediaType": d.media_type,
                        "content": base64.b64encode(d.content).decode(),
                    }
                    for d in documents
                ],
            )
        return self.resume(transfer.transfer_id)

    def _require_sendable(self, org: str, ebl_id: EblId) -> None:
        """Refuse, before any transfer is journaled, a bill the sender does not hold or that is not ACTIVE,
        exactly as the contract would refuse its START_EXPORT (a journaled transfer of a bill the sender
        cannot export used to be retried for ever, 202 IN_PROGRESS).

        Raises:
            ContractRevertError: ``TitleWrongStatus`` or ``TitleNotHolder``, as the chain answers them.
        """
        if self._view is None:
            return
        title = self._view(ebl_id)
        if title.status is not Status.ACTIVE:
            raise error_class("TitleWrongStatus")({"eblId": int(ebl_id), "status": title.status})
        if str(title.holder).lower() != org.lower():
            raise error_class("TitleNotHolder")({"eblId": int(ebl_id), "org": org})

    # ------------------------------------------------------------------ the state machine

    def resume(self, transfer_id: str) -> OutgoingTransfer:
        """Run ``transfer_id`` from its journaled step as far as it goes now; the transfer as it stands.

        Safe to call at any time, from any thread, as often as wanted (one run per transfer at a time).
        """
        with self._lock_for(transfer_id):
            transfer = self._sessions.outgoing(transfer_id)
            try:
                return self._run(transfer)
            except (httpx.HTTPError, PintError, RegistryError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("PINT transfer %s stays at %s: %s", transfer_id, transfer.step, reason)
                return self._sessions.note_attempt(transfer_id, reason)

    def resume_all(self) -> int:
        """Resume every unfinished transfer (after a crash, and periodically); how many were tried."""
        unfinished = self._sessions.unfinished(TERMINAL_STEPS)
        for transfer in unfinished:
            self.resume(transfer.transfer_id)
        return len(unfinished)

    def _run(self, t: OutgoingTransfer) -> OutgoingTransfer:
        if t.step == "requested":
            t = self._build(t)
        if t.step == "envelope-built":
            t = self._start_export(t)
        if t.step in ("export-started", "envelope-posted", "documents-sent"):
            t = self._exchange(t)
        if t.step == "response-verified":
            t = self._close(t)
        return t

    def _build(self, t: OutgoingTransfer) -> OutgoingTransfer:
        ebl = EblId(int(t.ebl_id))
        document = Document.from_value(self._document_of(ebl))
        prior = self._prior_chain_of(document.hash)
        transactions = [*self._entry.history(ebl, imported=bool(prior)), self._entry.final(t)]
        issuance = None
        if not prior:
            issue_to = transactions[0].recipient
            issuance = sign_issuance_manifest(
                self._signer,
                document=document,
                issue_to=issue_to.model_dump(mode="json", exclude_none=True) if issue_to else {},
            )
        supporting = [
            SupportingDocument(d["name"], d["mediaType"], base64.b64decode(d["content"]))
            for d in t.documents or ()
        ]
        built = build_envelope(
            document=document,
            prior_chain=prior,
            transactions=transactions,
            issuance_manifest=issuance,
            supporting=supporting,
            visualisation=None,
            signer=self._signer,
            platform=self.platform,
        )
        return self._sessions.advance(
            t.transfer_id,
            "envelope-built",
            f"last entry {built.last_entry_checksum}",
            envelope=built.envelope,
            envelope_checksum=jws_checksum(built.envelope["envelopeManifestSignedContent"]),
            last_entry_checksum=built.last_entry_checksum,
        )

    def _pending_on_chain(self, t: OutgoingTransfer) -> bool:
        """Whether the chain already holds this transfer's export (same envelope checksum)."""
        export = self._bridge.export_of(int(t.ebl_id))
        return export.status is Status.EXPORT_PENDING and export.envelope_checksum == t.envelope_checksum

    def _start_export(self, t: OutgoingTransfer) -> OutgoingTransfer:
        assert t.envelope_checksum is not None
        ebl = int(t.ebl_id)
        if self._pending_on_chain(t):
            return self._sessions.advance(t.transfer_id, "export-started", "found pending on chain (resumed)")
        try:
            op = self._bridge.start_export(
                t.org, ebl, platform=t.platform, envelope_checksum=t.envelope_checksum
            )
        except RegistryError as exc:
            if _is_transient(exc):
                raise
            if self._pending_on_chain(t):  # an earlier StartExport of ours landed meanwhile
                return self._sessions.advance(t.transfer_id, "export-started", "found pending on chain")
            return self._sessions.advance(
                t.transfer_id, "refused-here", str(exc), reason=f"{exc.code}: {exc}"
            )
        if op.status == "failed":
            if self._pending_on_chain(t):  # refused only because our first StartExport already landed
                return self._sessions.advance(t.transfer_id, "export-started", "found pending on chain")
            reason = f"{op.error_code}: {op.error_detail}"
            return self._sessions.advance(t.transfer_id, "refused-here", reason, reason=reason)
        if op.status != "final":  # pending on chain: the next resume finds it (or not) on chain
            op = self._wait(op)
        return self._sessions.advance(
            t.transfer_id, "export-started", op.tx_hash, export_operation_id=op.operation_id[:36]
        )

    def _exchange(self, t: OutgoingTransfer) -> OutgoingTransfer:
        entry = self._platforms.get(t.platform)
        if entry is None:
            raise UnknownPlatformError(t.platform)
        assert t.envelope is not None
        with self._http(_base(entry.url)) as client:
            if t.step == "export-started" or t.envelope_reference is None:
                reply = client.post("/v3/envelopes", json=t.envelope, headers={"API-Version": "3"})
                if reply.status_code == 201:
                    started = reply.json()
                    t = self._sessions.advance(
                        t.transfer_id,
                        "envelope-posted",
                        f"{len(started.get('missingAdditionalDocumentChecksums', []))} document(s) to send",
                        envelope_reference=str(started["envelopeReference"]),
                    )
                    return self._documents_and_finish(
                        t, client, started.get("missingAdditionalDocumentChecksums", [])
                    )
                return self._verified(t, reply)
            return self._documents_and_finish(t, client, None)

    def _documents_and_finish(
        self, t: OutgoingTransfer, client: httpx.Client, missing: list[str] | None
    ) -> OutgoingTransfer:
        docs = {
            SupportingDocument(d["name"], d["mediaType"], base64.b64decode(d["content"])).checksum: d
            for d in t.documents or ()
        }
        todo = list(docs) if missing is None else list(missing)
        for _ in range(_MAX_ROUNDS):
            for checksum in todo:
                doc = docs.get(checksum)
                if doc is None:
                    raise PintError(
                        f"the receiver asks for document {checksum}, which this transfer does not send"
                    )
                reply = client.put(
                    f"/v3/envelopes/{t.envelope_reference}/additional-documents/{checksum}",
                    json=doc["content"],
                )
                if reply.status_code not in (204, 409):
                    return self._verified(t, reply)  # 422: the transfer is refused; else raises (retry)
            if t.step != "documents-sent":
                t = self._sessions.advance(t.transfer_id, "documents-sent", f"{len(todo)} document(s)")
            reply = client.put(f"/v3/envelopes/{t.envelope_reference}/finish-transfer")
            response = self._response(t, reply)
            if response[1] is ResponseCode.MDOC:
                todo = response[2]
                continue
            return self._record(t, *response[:2])
        raise PintError("the receiver still misses documents after three rounds")

    def _verified(self, t: OutgoingTransfer, reply: httpx.Response) -> OutgoingTransfer:
        jws, code, _ = self._response(t, reply)
        if code in (ResponseCode.MDOC, ResponseCode.INCD):
            raise PintError(f"the receiver answered {code} to the envelope itself")
        return self._record(t, jws, code)

    def _response(self, t: OutgoingTransfer, reply: httpx.Response) -> tuple[str, ResponseCode, list[str]]:
        """The verified signed response in ``reply``; raises (the step stays) for anything unsigned."""
        try:
            body = reply.json()
        except ValueError:
            body = None
        if not isinstance(body, str):
            raise PintError(f"unsigned answer HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            response = check_finished_response(
                body, self._platforms.trust(), t.platform, last_entry_checksum=t.last_entry_checksum
            )
        except SignatureRejected as exc:
            raise PintError(f"the signed answer does not verify: {exc}") from None
        code = ResponseCode(response.responseCode)
        if code.http_status != reply.status_code:
            log.warning("PINT: HTTP %d with a signed %s; the signed code decides", reply.status_code, code)
        return body, code, list(response.missingAdditionalDocumentChecksums or ())

    def _record(self, t: OutgoingTransfer, jws: str, code: ResponseCode) -> OutgoingTransfer:
        reason = _reason_of(jws)
        t = self._sessions.advance(
            t.transfer_id,
            "response-verified",
            code.value,
            response=jws,
            response_code=code.value,
            reason=reason,
        )
        return self._close(t)

    def _close(self, t: OutgoingTransfer) -> OutgoingTransfer:
        assert t.response is not None and t.response_code is not None
        accepted = ResponseCode(t.response_code).accepted
        op = self._bridge.close_export(
            int(t.ebl_id), accepted=accepted, response_checksum=jws_checksum(t.response)
        )
        if op.status == "failed":
            raise PintError(f"closing the export failed on chain: {op.error_code} {op.error_detail}")
        return self._sessions.advance(
            t.transfer_id,
            "exported" if accepted else "returned",
            t.response_code,
            close_operation_id=op.operation_id[:36],
        )

    # ------------------------------------------------------------------ internals

    def _lock_for(self, transfer_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(transfer_id, threading.Lock())

    def _wait(self, op: Operation) -> Operation:
        raise PintError(f"the export {op.operation_id} is not final yet")


def _base(url: str) -> str:
    """A platform's PINT base URL without a trailing ``/v3`` (the paths carry it)."""
    url = url.rstrip("/")
    return url[: -len("/v3")] if url.endswith("/v3") else url


def _reason_of(jws: str) -> str | None:
    import json

    from registry.pint.jose import b64url_decode

    payload = json.loads(b64url_decode(jws.split(".")[1]))
    reason = payload.get("reason")
    return str(reason) if reason else None


def _is_transient(exc: RegistryError) -> bool:
    from registry.errors import ChainError

    return isinstance(exc, ChainError)
