"""The receiving side of PINT: every check of an envelope that needs nothing but the envelope, the
trust list and who our members are; and the signed finished response.

:func:`check_envelope` answers a :class:`CheckedEnvelope` or raises
:class:`~registry.errors.EnvelopeRefused` with the code to answer (``BSIG`` for a signature, with its
cause; ``BENV`` for an envelope that can never be accepted). What needs our own records (``DUPE``,
``DISE`` against the chain we know, ``MDOC``/``INCD`` for the additional documents) is decided by the
caller; :func:`compare_with_known` is that comparison, kept pure.

The order of the checks, and which code each failure answers, is in ``docs/pint.md``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from registry.errors import (
    EnvelopeRefused,
    InvalidDocumentError,
    ResponseMismatchError,
    SignatureRejected,
)
from registry.pint.checksums import checksum, jws_checksum
from registry.pint.codes import ResponseCode
from registry.pint.envelope import (
    DocumentMetadata,
    EblEnvelope,
    EnvelopeManifest,
    EnvelopeTransferChainEntry,
    EnvelopeTransferFinishedResponse,
    IssuanceManifest,
    Transaction,
    TransactionActionCode,
    to_json,
)
from registry.pint.signer import JwsSigner
from registry.pint.trust import TrustList, VerifiedJws

__all__ = [
    "ACCEPTED_ACTIONS",
    "CheckedEnvelope",
    "RecipientDirectory",
    "check_envelope",
    "check_finished_response",
    "compare_with_known",
    "sign_finished_response",
]

ACCEPTED_ACTIONS: frozenset[TransactionActionCode] = frozenset(
    {
        TransactionActionCode.ISSUE,
        TransactionActionCode.TRANSFER,
        TransactionActionCode.ENDORSE,
        TransactionActionCode.ENDORSE_TO_ORDER,
    }
)
"""The last transactions an envelope may end with for this registry to take it: the bill is issued,
transferred or endorsed to one of our members."""

_M = TypeVar("_M", bound=BaseModel)


class RecipientDirectory(Protocol):
    """Who our members are, as a PINT party names them."""

    def member_for(self, party: dict[str, Any]) -> str | None:
        """The member address the party (a ``RecipientParty`` as JSON) names, or None when it names no
        member of ours (or several)."""
        ...


@dataclass(frozen=True)
class CheckedEnvelope:
    """An envelope that passed every check decidable from it alone.

    Attributes:
        sending_platform: the code of the platform that sent it (it signed the manifest and the last
            entry).
        transport_document: the document, as sent.
        transport_document_checksum: its checksum (RFC 8785, SHA-256).
        last_entry_checksum: the checksum of the last chain entry (what every response names).
        chain: the chain entries as sent (compact JWS), first to last.
        entry_checksums: the checksum of each entry, first to last.
        entries: the decoded entries, first to last.
        manifest: the decoded envelope manifest.
        last_transaction: the last transaction of the last entry (it names the recipient).
        recipient_member: the member address of that recipient.
        action_code: its ``actionCode``.
        expected_documents: the additional documents the manifest announces, the visualisation first.
        issuance_manifest: the carrier's decoded issuance manifest.
        issuing_platform: the platform whose key signed the issuance manifest.
        issuing_carrier: the carrier the document names, ``PROVIDER:CODE`` (``SMDG:MSC``), or None
            when it names none.
    """

    sending_platform: str
    transport_document: dict[str, Any]
    transport_document_checksum: str
    last_entry_checksum: str
    chain: tuple[str, ...]
    entry_checksums: tuple[str, ...]
    entries: tuple[EnvelopeTransferChainEntry, ...]
    manifest: EnvelopeManifest
    last_transaction: Transaction
    recipient_member: str
    action_code: TransactionActionCode
    expected_documents: tuple[DocumentMetadata, ...]
    issuance_manifest: IssuanceManifest
    issuing_platform: str
    issuing_carrier: str | None


def _benv(reason: str) -> EnvelopeRefused:
    return EnvelopeRefused(ResponseCode.BENV, reason)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "$"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"


def _model(model: type[_M], value: object, what: str) -> _M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _benv(f"{what} is not a valid {model.__name__}: {_first_error(exc)}") from None


def _verify(trust: TrustList, compact: str, what: str, at: datetime | None) -> VerifiedJws:
    try:
        return trust.verify(compact, None, at=at)
    except SignatureRejected as exc:
        raise EnvelopeRefused(ResponseCode.BSIG, f"{what}: {exc}", exc.cause) from None


def _carrier(document: dict[str, Any]) -> str | None:
    code, provider = document.get("carrierCode"), document.get("carrierCodeListProvider")
    if isinstance(code, str) and isinstance(provider, str):
        return f"{provider}:{code}"
    return None


def check_envelope(
    body: dict[str, Any],
    trust: TrustList,
    recipients: RecipientDirectory,
    *,
    own_platform: str | None = None,
    accepted_actions: Collection[TransactionActionCode] = ACCEPTED_ACTIONS,
    at: datetime | None = None,
) -> CheckedEnvelope:
    """Check an ``EblEnvelope`` (the body of ``POST /v3/envelopes``).

    Args:
        body: the parsed JSON body.
        trust: the platforms whose signatures we recognise (ours too, for a bill that comes back).
        recipients: maps the last transaction's recipient to one of our members.
        own_platform: our eBL platform code; when given, the recipient must be on it.
        accepted_actions: the last ``actionCode`` values we take (:data:`ACCEPTED_ACTIONS`).
        at: the time to validate certificates at (default: now).

    Returns:
        The checked envelope.

    Raises:
        EnvelopeRefused: ``BSIG`` (with ``cause``) when a JWS is refused or the manifest signs another
            last entry; ``BENV`` for anything else that makes the envelope unacceptable.
    """
    envelope = _model(EblEnvelope, body, "the envelope")
    chain = envelope.envelopeTransferChain

    # 1. The manifest: signed by the sender; it names the document and the last entry.
    signed_manifest = _verify(
        trust, envelope.envelopeManifestSignedContent, "envelopeManifestSignedContent", at
    )
    sender = signed_manifest.platform
    manifest = _model(EnvelopeManifest, signed_manifest.payload, "envelopeManifestSignedContent")
    entry_checksums = tuple(jws_checksum(entry) for entry in chain)
    if entry_checksums[-1] != manifest.lastEnvelopeTransferChainEntrySignedContentChecksum:
        raise EnvelopeRefused(
            ResponseCode.BSIG,
            "the manifest signs another last chain entry: it names "
            f"{manifest.lastEnvelopeTransferChainEntrySignedContentChecksum}, the last entry's checksum "
            f"is {entry_checksums[-1]}",
        )
    try:
        td_checksum = checksum(envelope.transportDocument)
    except InvalidDocumentError as exc:
        raise _benv(f"transportDocument: {exc}") from None
    if td_checksum != manifest.transportDocumentChecksum:
        raise _benv(
            f"the transport document's checksum is {td_checksum}; the manifest signs "
            f"{manifest.transportDocumentChecksum}"
        )

    # 2. The chain: every entry signed by the platform it names, each linked to the one before.
    entries: list[EnvelopeTransferChainEntry] = []
    for index, compact in enumerate(chain):
        what = f"envelopeTransferChain[{index}]"
        signed = _verify(trust, compact, what, at)
        entry = _model(EnvelopeTransferChainEntry, signed.payload, what)
        if entry.eblPlatform != signed.platform:
            raise EnvelopeRefused(
                ResponseCode.BSIG,
                f"{what} names platform {entry.eblPlatform} but is signed by a key of {signed.platform}",
            )
        previous = entry.previousEnvelopeTransferChainEntrySignedContentChecksum
        if index == 0 and previous is not None:
            raise _benv(f"{what} is the first entry and names a previous entry")
        if index > 0 and previous != entry_checksums[index - 1]:
            raise _benv(
                f"{what} names {str(previous)[:12]}… as previous entry, not entry {index - 1} "
                f"({entry_checksums[index - 1][:12]}…): the chain is broken or out of order"
            )
        if entry.transportDocumentChecksum != td_checksum:
            raise _benv(f"{what} is an entry of another transport document")
        if index > 0 and entry.controlTrackingRegistry is not None:
            raise _benv(f"{what}: controlTrackingRegistry may only be given in the first entry")
        for number, transaction in enumerate(entry.transactions):
            if transaction.actor.eblPlatform != entry.eblPlatform:
                raise _benv(
                    f"{what}.transactions[{number}]: the actor is on platform "
                    f"{transaction.actor.eblPlatform}, the entry is of platform {entry.eblPlatform}"
                )
        entries.append(entry)
    if entries[-1].eblPlatform != sender:
        raise EnvelopeRefused(
            ResponseCode.BSIG,
            f"the manifest is signed by platform {sender}, the last chain entry by {entries[-1].eblPlatform}",
        )

    # 3. The transactions: one ISSUE, first; nothing after an accepted surrender.
    transactions = [tx for entry in entries for tx in entry.transactions]
    if transactions[0].actionCode is not TransactionActionCode.ISSUE:
        raise _benv("the first transaction of the chain is not ISSUE")
    if any(tx.actionCode is TransactionActionCode.ISSUE for tx in transactions[1:]):
        raise _benv("ISSUE appears more than once in the chain")
    for number, tx in enumerate(transactions[:-1]):
        if tx.actionCode is TransactionActionCode.SACC:
            raise _benv(f"transaction {number + 1} of the chain follows an accepted surrender (SACC)")
    if entries[0].controlTrackingRegistry is not None:
        raise _benv(
            "the transfers are guarded by the control tracking registry "
            f"{entries[0].controlTrackingRegistry}, which this platform does not use"
        )

    # 4. The issuance manifest: signed by the carrier's platform, of this document.
    first = entries[0]
    if first.issuanceManifestSignedContent is None:
        raise _benv("the first chain entry carries no issuanceManifestSignedContent")
    signed_issuance = _verify(trust, first.issuanceManifestSignedContent, "issuanceManifestSignedContent", at)
    issuance = _model(IssuanceManifest, signed_issuance.payload, "issuanceManifestSignedContent")
    carrier = _carrier(envelope.transportDocument)
    issuer_entry = trust.get(signed_issuance.platform)
    may_issue = signed_issuance.platform == first.eblPlatform or (
        carrier is not None and issuer_entry is not None and carrier in issuer_entry.carriers
    )
    if not may_issue:
        raise EnvelopeRefused(
            ResponseCode.BSIG,
            f"the issuance manifest is signed by platform {signed_issuance.platform}, which neither issued "
            f"the bill ({first.eblPlatform}) nor signs for its carrier {carrier}",
        )
    if issuance.documentChecksum != td_checksum:
        raise _benv("the issuance manifest is of another transport document")
    visualisation = manifest.eBLVisualisationByCarrier
    if issuance.eBLVisualisationByCarrierChecksum is not None:
        if visualisation is None:
            raise _benv("the carrier issued a visualisation of the eBL and the manifest does not send it")
        if visualisation.documentChecksum != issuance.eBLVisualisationByCarrierChecksum:
            raise _benv(
                "the manifest's eBLVisualisationByCarrier is not the visualisation the carrier issued"
            )
    elif visualisation is not None:
        raise _benv("the manifest sends an eBLVisualisationByCarrier the carrier did not issue")

    # 5. The last transaction: an action we take, to a member of ours.
    last = transactions[-1]
    if last.actionCode not in accepted_actions:
        raise _benv(f"this platform does not take an envelope ending in {last.actionCode.value}")
    if last.recipient is None:
        raise _benv(f"the last transaction ({last.actionCode.value}) names no recipient")
    if own_platform is not None and last.recipient.eblPlatform != own_platform:
        raise _benv(
            f"the envelope is addressed to platform {last.recipient.eblPlatform}, "
            f"this platform is {own_platform}"
        )
    member = recipients.member_for(to_json(last.recipient))
    if member is None:
        raise _benv(f"the recipient {last.recipient.partyName!r} is not a member of this platform")

    # 6. The additional documents announced: each once.
    expected = (*([visualisation] if visualisation else []), *(manifest.supportingDocuments or ()))
    seen: set[str] = set()
    for doc in expected:
        if doc.documentChecksum in seen:
            raise _benv(f"the manifest announces document {doc.documentChecksum} twice")
        seen.add(doc.documentChecksum)

    return CheckedEnvelope(
        sending_platform=sender,
        transport_document=envelope.transportDocument,
        transport_document_checksum=td_checksum,
        last_entry_checksum=entry_checksums[-1],
        chain=tuple(chain),
        entry_checksums=entry_checksums,
        entries=tuple(entries),
        manifest=manifest,
        last_transaction=last,
        recipient_member=member,
        action_code=last.actionCode,
        expected_documents=tuple(expected),
        issuance_manifest=issuance,
        issuing_platform=signed_issuance.platform,
        issuing_carrier=carrier,
    )


def compare_with_known(checked: CheckedEnvelope, known: Sequence[str]) -> ResponseCode | None:
    """Compare an envelope's chain with the chain we know for its document (the entry checksums of the
    last envelope we accepted or sent for it, first to last; empty when we know none).

    Returns:
        ``DUPE`` when its last entry is the last entry we accepted; ``DISE`` when the two chains part
        (an entry we know is not where the envelope has it: a double spend, or a rewritten history);
        None when the envelope's chain extends ours (or we know none): a new transfer.
    """
    if not known:
        return None
    incoming = checked.entry_checksums
    if incoming[-1] == known[-1]:
        return ResponseCode.DUPE
    if len(incoming) <= len(known) or tuple(incoming[: len(known)]) != tuple(known):
        return ResponseCode.DISE
    return None


def sign_finished_response(
    signer: JwsSigner,
    *,
    last_entry_checksum: str,
    code: ResponseCode,
    reason: str | None = None,
    missing: Sequence[str] = (),
    received: Sequence[str] = (),
    duplicate_of: str | None = None,
) -> str:
    """Our signed ``EnvelopeTransferFinishedResponse`` (its compact JWS, the response body).

    Args:
        signer: our platform's key.
        last_entry_checksum: the checksum of the last chain entry of the envelope answered.
        code: the response code.
        reason: free text, at most 255 characters (the YAML asks to leave it out with ``RECE``).
        missing: ``missingAdditionalDocumentChecksums``, with ``MDOC`` only (and then required).
        received: ``receivedAdditionalDocumentChecksums``, with ``RECE`` or ``DUPE`` only.
        duplicate_of: ``duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent``, with ``DUPE`` only:
            the last entry of the envelope accepted before.

    Raises:
        ValueError: a field given with a code it does not go with, or ``MDOC`` without ``missing``.
    """
    if missing and code is not ResponseCode.MDOC:
        raise ValueError("missingAdditionalDocumentChecksums goes with MDOC only")
    if code is ResponseCode.MDOC and not missing:
        raise ValueError("MDOC names the missing documents")
    if received and not code.accepted:
        raise ValueError("receivedAdditionalDocumentChecksums goes with RECE or DUPE only")
    if duplicate_of is not None and code is not ResponseCode.DUPE:
        raise ValueError("duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent goes with DUPE only")
    response = EnvelopeTransferFinishedResponse(
        lastEnvelopeTransferChainEntrySignedContentChecksum=last_entry_checksum,
        responseCode=code.value,
        duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent=duplicate_of,
        reason=reason,
        missingAdditionalDocumentChecksums=list(missing) or None,
        receivedAdditionalDocumentChecksums=list(received) or None,
    )
    return signer.sign(to_json(response))


def check_finished_response(
    jws: str,
    trust: TrustList,
    platform: str,
    *,
    last_entry_checksum: str | None = None,
    at: datetime | None = None,
) -> EnvelopeTransferFinishedResponse:
    """Verify the receiver's signed finished response.

    Args:
        jws: the response body (``EnvelopeTransferFinishedResponseSignedContent``).
        trust: the trust list.
        platform: the platform we sent the envelope to: it must have signed the response.
        last_entry_checksum: the checksum of the last entry we sent; when given, the response must
            answer it.
        at: the time to validate certificates at (default: now).

    Raises:
        SignatureRejected: the JWS is refused (with the cause).
        ResponseMismatchError: the payload is no ``EnvelopeTransferFinishedResponse``, answers another
            envelope, or is ``MDOC`` without the missing documents.
    """
    signed = trust.verify(jws, platform, at=at)
    try:
        response = EnvelopeTransferFinishedResponse.model_validate(signed.payload)
    except ValidationError as exc:
        raise ResponseMismatchError(
            f"the response is not an EnvelopeTransferFinishedResponse: {_first_error(exc)}"
        ) from None
    answered = response.lastEnvelopeTransferChainEntrySignedContentChecksum
    if last_entry_checksum is not None and answered != last_entry_checksum:
        raise ResponseMismatchError(f"the response answers entry {answered}, we sent {last_entry_checksum}")
    if response.responseCode == ResponseCode.MDOC and not response.missingAdditionalDocumentChecksums:
        raise ResponseMismatchError("an MDOC response names no missing document")
    return response
