"""Receiving PINT envelopes: the stateful half of the checks, and the bill recorded on RECE.

:func:`registry.pint.verify.check_envelope` decides what the envelope alone decides (BSIG, BENV); this
module decides what needs our records:

* ``DUPE``: an envelope whose last chain entry we accepted before: answered 200 with a signed DUPE
  naming that entry (``duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent``) and the documents
  received; nothing is recorded twice.
* ``DISE``: the chain contradicts what we know of the bill: it does not extend the chain we last
  accepted or sent for the document, or the bill is held here right now (a double spend).
* ``INCD``: an additional document whose bytes do not match its checksum or size, or that the manifest
  did not announce (409; the transfer stays open).
* ``MDOC``: ``finish-transfer`` before every announced document arrived (409, the missing listed).
* ``RECE``: every document is here: the bill is imported on our chain (:meth:`PlatformBridge.import_title`,
  held by the recipient member), then RECE is signed, stored, and answered. A retry of a decided
  transfer gets the stored response, byte for byte.

Who is calling: PINT identifies the sending platform by its signatures (the envelope manifest and the
last chain entry verify against the trust list); the ``envelopeReference`` we hand out is 256 random
bits, the capability for the document ``PUT``s and ``finish-transfer`` of that transfer.

Crash safety: a session is ``accepting`` while its bill is imported; the import is idempotent (same
last entry → the recorded outcome), so a receiver killed mid-import finishes the same import when the
sender retries ``finish-transfer``, and never records the bill twice.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from registry.documents import Document
from registry.errors import EnvelopeRefused, NotFoundError, RegistryError
from registry.interop.directory import MemberDirectory
from registry.pint.checksums import bytes_checksum, jws_checksum
from registry.pint.codes import ResponseCode
from registry.pint.envelope import TransactionActionCode
from registry.pint.signer import JwsSigner
from registry.pint.trust import TrustList
from registry.pint.verify import CheckedEnvelope, check_envelope, compare_with_known, sign_finished_response
from registry.store.pint_sessions import IncomingSession, PintSessions
from registry.title.model import Operation
from registry.types import Status

__all__ = ["Answer", "Importer", "PintReceiver"]

log = logging.getLogger(__name__)

_UNKNOWN_ENTRY = "0" * 64
"""The last-entry checksum a response names when the envelope has no readable chain."""


@dataclass(frozen=True)
class Answer:
    """A PINT answer: the HTTP status and the JSON body (a signed response is a JSON string; None for
    204)."""

    status: int
    body: Any = None
    code: ResponseCode | None = None


class Importer(Protocol):
    """What the receiver uses of :class:`registry.title.bridge.PlatformBridge`."""

    def import_title(
        self,
        *,
        document: Document,
        holder: str,
        platform: str,
        last_entry_checksum: str,
        endorsee: str | None = None,
        blank_endorsed: bool = False,
        endorsable: bool = True,
    ) -> Operation: ...

    def find_by_document(self, document_checksum: str) -> Any: ...

    def export_of(self, ebl_id: int) -> Any: ...


class PintReceiver:
    """The receiving platform's side of the four ``/v3`` endpoints.

    Args:
        sessions: the PINT session store.
        trust: the current trust list (called per envelope: the operator may change it).
        signer: our platform key (signs every finished response).
        directory: our members as PINT parties.
        bridge: records imported bills on our chain.
        known_chain: the entry checksums of the chain we last sent for a document checksum (our
            outgoing transfers), empty when we sent none.
    """

    def __init__(
        self,
        sessions: PintSessions,
        trust: Callable[[], TrustList],
        signer: JwsSigner,
        directory: MemberDirectory,
        bridge: Importer,
        known_chain: Callable[[str], list[str]],
    ) -> None:
        self._sessions = sessions
        self._trust = trust
        self._signer = signer
        self._directory = directory
        self._bridge = bridge
        self._sent_chain = known_chain
        self._lock = threading.RLock()  # one decision at a time per process: no double import

    @property
    def platform(self) -> str:
        """Our eBL platform code."""
        return self._directory.platform

    # ------------------------------------------------------------------ POST /v3/envelopes

    def start(self, body: object) -> Answer:
        """``POST /v3/envelopes``: 201 (documents to come), 200 (RECE or DUPE), 422 (BSIG/BENV) or
        409 (DISE)."""
        last = _last_entry_of(body)
        try:
            if not isinstance(body, dict):
                raise EnvelopeRefused(ResponseCode.BENV, "the envelope is not a JSON object")
            checked = check_envelope(body, self._trust(), self._directory, own_platform=self.platform)
        except EnvelopeRefused as refused:
            log.info("envelope refused: %s", refused)
            return self._signed(last, refused.response_code, refused.reason)
        with self._lock:
            return self._start_checked(body, checked)

    def _start_checked(self, body: dict[str, Any], checked: CheckedEnvelope) -> Answer:
        last = checked.last_entry_checksum
        for earlier in self._sessions.incoming_for_entry(last):
            if earlier.state == "accepted":
                return self._dupe(earlier)
            if (
                earlier.state in ("open", "accepting")
                and earlier.sending_platform == checked.sending_platform
            ):
                return self._progress(earlier)  # the sender retries the start of a transfer in progress
        verdict = compare_with_known(checked, self._known(checked.transport_document_checksum))
        if verdict is ResponseCode.DUPE:  # our own last entry came back: nothing new
            return self._signed(
                last, ResponseCode.DISE, "the envelope ends with the entry this platform sent"
            )
        if verdict is ResponseCode.DISE:
            return self._signed(
                last,
                ResponseCode.DISE,
                "the envelope transfer chain does not extend the chain this platform knows for the document",
            )
        held = self._held_here(checked.transport_document_checksum)
        if held is not None:
            return self._signed(last, ResponseCode.DISE, f"the bill is {held} on this platform")
        session = self._sessions.open_incoming(
            sending_platform=checked.sending_platform,
            transport_document_checksum=checked.transport_document_checksum,
            last_entry_checksum=last,
            envelope=body,
            expected=[doc.model_dump(mode="json", exclude_none=True) for doc in checked.expected_documents],
            recipient_member=checked.recipient_member,
            reference=secrets.token_urlsafe(32),
        )
        return self._progress(session)

    def _progress(self, session: IncomingSession) -> Answer:
        """201 with the documents still missing, or, when none is, the transfer accepted (200)."""
        missing = self._missing(session)
        if missing:
            return Answer(
                201,
                {
                    "envelopeReference": session.envelope_reference,
                    "transportDocumentChecksum": session.transport_document_checksum,
                    "lastEnvelopeTransferChainEntrySignedContentChecksum": session.last_entry_checksum,
                    "missingAdditionalDocumentChecksums": missing,
                },
            )
        return self._accept(session)

    # ------------------------------------------------------------------ PUT additional-documents

    def put_document(self, reference: str, document_checksum: str, body: object) -> Answer:
        """``PUT /v3/envelopes/{ref}/additional-documents/{checksum}``: 204, or 409 INCD."""
        with self._lock:
            session = self._session(reference)
            if session is None:
                return _not_found(f"no envelope transfer {reference}")
            if session.state in ("accepted", "refused", "superseded"):
                if session.state == "accepted" and document_checksum in session.expected_checksums:
                    return Answer(204)
                return self._signed(
                    session.last_entry_checksum,
                    ResponseCode.INCD,
                    f"the envelope transfer is {session.state}: no document is expected",
                )
            declared = {d["documentChecksum"]: d for d in session.expected}
            meta = declared.get(document_checksum)
            if meta is None:
                return self._signed(
                    session.last_entry_checksum,
                    ResponseCode.INCD,
                    f"document {document_checksum} is not announced in the envelope manifest",
                )
            content = _base64(body)
            if content is None:
                return self._signed(
                    session.last_entry_checksum, ResponseCode.INCD, "the body is not a base64 JSON string"
                )
            actual = bytes_checksum(content)
            if actual != document_checksum:
                return self._signed(
                    session.last_entry_checksum,
                    ResponseCode.INCD,
                    f"the document's checksum is {actual}, not {document_checksum}",
                )
            if len(content) != meta.get("size"):
                return self._signed(
                    session.last_entry_checksum,
                    ResponseCode.INCD,
                    f"the document has {len(content)} bytes; the manifest announces {meta.get('size')}",
                )
            self._sessions.add_document(reference, document_checksum, content)
            return Answer(204)

    # ------------------------------------------------------------------ PUT finish-transfer

    def finish(self, reference: str) -> Answer:
        """``PUT /v3/envelopes/{ref}/finish-transfer``: 200 RECE, 409 MDOC/DISE, or the stored answer."""
        with self._lock:
            session = self._session(reference)
            if session is None:
                return _not_found(f"no envelope transfer {reference}")
            if session.response is not None and session.response_code is not None:
                code = ResponseCode(session.response_code)
                return Answer(code.http_status, session.response, code)
            if session.state == "superseded":
                return self._signed(
                    session.last_entry_checksum,
                    ResponseCode.BENV,
                    "a newer envelope transfer of the same bill replaced this one",
                )
            missing = self._missing(session)
            if missing:
                return Answer(
                    409,
                    sign_finished_response(
                        self._signer,
                        last_entry_checksum=session.last_entry_checksum,
                        code=ResponseCode.MDOC,
                        reason=f"{len(missing)} additional document(s) not received",
                        missing=missing,
                    ),
                    ResponseCode.MDOC,
                )
            return self._accept(session)

    # ------------------------------------------------------------------ receiver validation

    def validate_receiver(self, code: dict[str, Any]) -> Answer:
        """``POST /v3/receiver-validation``: 200 with the member's name, or 404."""
        name = self._directory.name_for(code)
        if name is None:
            return _not_found(
                "no party of this platform has this identifying code", status_text="Unknown party"
            )
        return Answer(200, {"partyName": name})

    # ------------------------------------------------------------------ internals

    def _accept(self, session: IncomingSession) -> Answer:
        """Import the bill on our chain, then sign, store and answer RECE (or the refusal the chain
        gives: the bill is held here after all → DISE; the recipient cannot hold it → BENV)."""
        self._sessions.set_incoming(session.envelope_reference, state="accepting")
        envelope = session.envelope
        document = Document.from_value(envelope["transportDocument"])
        chain: list[str] = envelope["envelopeTransferChain"]
        endorsee, blank, endorsable = _endorsement_of(session, chain)
        try:
            op = self._bridge.import_title(
                document=document,
                holder=session.recipient_member,
                platform=session.sending_platform,
                last_entry_checksum=session.last_entry_checksum,
                endorsee=endorsee,
                blank_endorsed=blank,
                endorsable=endorsable,
            )
        except RegistryError as exc:
            code = ResponseCode.DISE if _held_conflict(exc) else ResponseCode.BENV
            return self._decide(session, code, f"the bill cannot be recorded here: {exc}"[:255])
        if op.status == "failed":
            return self._decide(
                session, ResponseCode.BENV, f"the bill cannot be recorded here: {op.error_detail}"
            )
        received = sorted(
            self._sessions.received_checksums(session.envelope_reference) & set(session.expected_checksums)
        )
        response = sign_finished_response(
            self._signer,
            last_entry_checksum=session.last_entry_checksum,
            code=ResponseCode.RECE,
            received=received,
        )
        self._sessions.set_incoming(
            session.envelope_reference,
            state="accepted",
            response_code=ResponseCode.RECE.value,
            response=response,
            ebl_id=str(int(op.ebl_id)),
            operation_id=op.operation_id[:36],
        )
        log.info(
            "envelope %s accepted: bill %s held by %s",
            session.envelope_reference,
            op.ebl_id,
            session.recipient_member,
        )
        return Answer(200, response, ResponseCode.RECE)

    def _decide(self, session: IncomingSession, code: ResponseCode, reason: str) -> Answer:
        response = sign_finished_response(
            self._signer, last_entry_checksum=session.last_entry_checksum, code=code, reason=reason
        )
        self._sessions.set_incoming(
            session.envelope_reference,
            state="refused",
            response_code=code.value,
            response=response,
            reason=reason,
        )
        return Answer(code.http_status, response, code)

    def _dupe(self, accepted: IncomingSession) -> Answer:
        chain = accepted.envelope["envelopeTransferChain"]
        received = sorted(self._sessions.received_checksums(accepted.envelope_reference))
        response = sign_finished_response(
            self._signer,
            last_entry_checksum=accepted.last_entry_checksum,
            code=ResponseCode.DUPE,
            reason="this envelope transfer was accepted before",
            received=received,
            duplicate_of=chain[-1],
        )
        return Answer(200, response, ResponseCode.DUPE)

    def _signed(self, last_entry: str, code: ResponseCode, reason: str) -> Answer:
        response = sign_finished_response(
            self._signer, last_entry_checksum=last_entry, code=code, reason=reason[:255]
        )
        return Answer(code.http_status, response, code)

    def _missing(self, session: IncomingSession) -> list[str]:
        received = self._sessions.received_checksums(session.envelope_reference)
        return [c for c in session.expected_checksums if c not in received]

    def _session(self, reference: str) -> IncomingSession | None:
        try:
            return self._sessions.incoming(reference)
        except NotFoundError:
            return None

    def _known(self, document_checksum: str) -> list[str]:
        """The longest chain we know for the document: the last accepted here, or the last sent."""
        chains = [self._sent_chain(document_checksum)]
        chains.extend(
            [jws_checksum(e) for e in session.envelope["envelopeTransferChain"]]
            for session in self._sessions.accepted_for_document(document_checksum)
        )
        return max(chains, key=len)

    def _held_here(self, document_checksum: str) -> str | None:
        """How the bill stands here when it is ours right now (not exported), else None."""
        ebl = self._bridge.find_by_document(document_checksum)
        if ebl is None:
            return None
        status = self._bridge.export_of(int(ebl)).status
        if status is Status.EXPORTED:
            return None
        return f"recorded as {status.name}"


def _last_entry_of(body: object) -> str:
    if isinstance(body, dict):
        chain = body.get("envelopeTransferChain")
        if isinstance(chain, list) and chain and isinstance(chain[-1], str):
            return jws_checksum(chain[-1])
    return _UNKNOWN_ENTRY


def _base64(body: object) -> bytes | None:
    if not isinstance(body, str):
        return None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _held_conflict(exc: RegistryError) -> bool:
    return "WrongStatus" in type(exc).__name__ or "AlreadyIssued" in type(exc).__name__


def _endorsement_of(session: IncomingSession, chain: list[str]) -> tuple[str | None, bool, bool]:
    """(endorsee, blank endorsed, endorsable) of the bill as the chain leaves it, for our record.

    The holder (our recipient) is also the endorsee of record: a to-order bill passed here by TRANSFER
    keeps an endorsee on another platform, whom this registry cannot name as a member (see the notes).
    """
    import json

    from registry.pint.jose import b64url_decode  # the payloads were verified by check_envelope

    blank, endorsable = False, True
    for compact in chain:
        entry = json.loads(b64url_decode(compact.split(".")[1]))
        for tx in entry.get("transactions", []):
            code = tx.get("actionCode")
            if code == TransactionActionCode.BLANK_ENDORSE.value:
                blank = True
            elif code in (TransactionActionCode.ENDORSE.value, TransactionActionCode.ENDORSE_TO_ORDER.value):
                blank = False
                endorsable = code == TransactionActionCode.ENDORSE_TO_ORDER.value
    return session.recipient_member, blank, endorsable


def _not_found(message: str, *, status_text: str = "Not Found") -> Answer:
    return Answer(404, {"statusCode": 404, "statusCodeText": status_text, "statusCodeMessage": message})
