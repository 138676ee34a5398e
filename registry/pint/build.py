"""The sending side of PINT: build the envelope that hands a bill to another platform.

:func:`build_envelope` appends one chain entry (the new transactions, signed by our platform) to the
bill's prior chain and signs the manifest that binds the document, the last entry and the additional
documents. :func:`sign_issuance_manifest` makes the carrier's issuance manifest when the bill is issued
here. Nothing is sent: the caller POSTs :attr:`BuiltEnvelope.envelope`, PUTs each of
:attr:`BuiltEnvelope.documents`, then finishes the transfer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.documents.canonical import Document
from registry.errors import PintError
from registry.pint.checksums import bytes_checksum, checksum, jws_checksum
from registry.pint.envelope import (
    DocumentMetadata,
    EnvelopeManifest,
    EnvelopeTransferChainEntry,
    IssuanceManifest,
    Transaction,
    TransactionActionCode,
    to_json,
)
from registry.pint.jose import b64url_decode
from registry.pint.signer import JwsSigner

__all__ = ["BuiltEnvelope", "SupportingDocument", "build_envelope", "sign_issuance_manifest"]


@dataclass(frozen=True)
class SupportingDocument:
    """An additional document sent with an envelope (a supporting document or the carrier's
    visualisation of the eBL).

    Attributes:
        name: its file name (no leading or trailing white space).
        media_type: its media type (``application/pdf``).
        content: its bytes (sent base64-encoded, checksummed decoded).
    """

    name: str
    media_type: str
    content: bytes = field(repr=False)

    @property
    def checksum(self) -> str:
        """SHA-256 hex of :attr:`content`."""
        return bytes_checksum(self.content)

    @property
    def metadata(self) -> DocumentMetadata:
        """Its ``DocumentMetadata`` for the envelope manifest."""
        return DocumentMetadata(
            name=self.name, size=len(self.content), mediaType=self.media_type, documentChecksum=self.checksum
        )

    @property
    def body(self) -> str:
        """The request body of ``PUT .../additional-documents/{checksum}``: the base64 of the content
        (a JSON string)."""
        return base64.b64encode(self.content).decode("ascii")


@dataclass(frozen=True)
class BuiltEnvelope:
    """An envelope ready to send.

    Attributes:
        envelope: the ``EblEnvelope`` JSON body of ``POST /v3/envelopes``.
        last_entry_checksum: the checksum of the entry we signed (what the receiver's responses name).
        documents: the additional documents to PUT, the visualisation first when there is one.
    """

    envelope: dict[str, Any]
    last_entry_checksum: str
    documents: list[SupportingDocument]

    @property
    def chain(self) -> list[str]:
        """The whole ``envelopeTransferChain`` (the prior chain and our entry)."""
        chain: list[str] = self.envelope["envelopeTransferChain"]
        return chain


def _payload(compact: str) -> dict[str, Any]:
    """The payload of a JWS we hold (our own prior chain): not verified again."""
    value = json.loads(b64url_decode(compact.split(".")[1]))
    if not isinstance(value, dict):
        raise PintError("a prior chain entry's payload is not a JSON object")
    return value


def sign_issuance_manifest(
    signer: JwsSigner,
    *,
    document: dict[str, Any] | Document,
    issue_to: dict[str, Any],
    visualisation: SupportingDocument | None = None,
) -> str:
    """The ``issuanceManifestSignedContent`` of a bill issued here: the checksums of the document, of
    the ``issueTo`` party (RFC 8785) and of the visualisation, signed by the carrier's platform.

    Raises:
        InvalidDocumentError: the document or ``issue_to`` is not a JSON object within the limits.
    """
    manifest = IssuanceManifest(
        documentChecksum=checksum(document),
        issueToChecksum=checksum(issue_to),
        eBLVisualisationByCarrierChecksum=visualisation.checksum if visualisation else None,
    )
    return signer.sign(to_json(manifest))


def build_envelope(
    *,
    document: dict[str, Any] | Document,
    prior_chain: Sequence[str],
    transactions: Sequence[Transaction],
    issuance_manifest: str | None,
    supporting: Sequence[SupportingDocument],
    visualisation: SupportingDocument | None,
    signer: JwsSigner,
    platform: str,
) -> BuiltEnvelope:
    """Build the envelope that sends a bill on.

    Args:
        document: the transport document, unchanged since issuance.
        prior_chain: the chain the bill arrived with (empty when it was issued here).
        transactions: what happened here since (the last one names the recipient on the other
            platform); at least one. A bill issued here starts with ``ISSUE``.
        issuance_manifest: the carrier's ``issuanceManifestSignedContent``: required when
            ``prior_chain`` is empty (it goes into our entry, the first), ignored otherwise (it is in
            the first entry already).
        supporting: the supporting documents to send along.
        visualisation: the carrier's visualisation of the eBL, if it has one (it travels with every
            transfer of the bill).
        signer: our platform's key.
        platform: our eBL platform code (the ``eblPlatform`` of our entry).

    Raises:
        PintError: the transactions are empty, a first entry lacks ``ISSUE`` or the issuance manifest,
            or the prior chain is of another document.
        InvalidDocumentError: the document is not a JSON object within the limits.
    """
    if not transactions:
        raise PintError("a chain entry records at least one transaction")
    doc = Document.from_value(document)
    td_checksum = str(doc.hash)
    entry: dict[str, Any] = {"eblPlatform": platform, "transportDocumentChecksum": td_checksum}
    if prior_chain:
        last = _payload(prior_chain[-1])
        if last.get("transportDocumentChecksum") != td_checksum:
            raise PintError("the prior chain is of another transport document")
        entry["previousEnvelopeTransferChainEntrySignedContentChecksum"] = jws_checksum(prior_chain[-1])
    else:
        if transactions[0].actionCode is not TransactionActionCode.ISSUE:
            raise PintError("the first entry of a chain starts with the ISSUE transaction")
        if issuance_manifest is None:
            raise PintError("the first entry of a chain carries the carrier's issuance manifest")
        entry["issuanceManifestSignedContent"] = issuance_manifest
    entry["transactions"] = [to_json(tx) for tx in transactions]
    signed_entry = signer.sign(to_json(EnvelopeTransferChainEntry.model_validate(entry)))
    last_checksum = jws_checksum(signed_entry)
    manifest = EnvelopeManifest(
        transportDocumentChecksum=td_checksum,
        lastEnvelopeTransferChainEntrySignedContentChecksum=last_checksum,
        eBLVisualisationByCarrier=visualisation.metadata if visualisation else None,
        supportingDocuments=[doc_.metadata for doc_ in supporting] if supporting else None,
    )
    envelope = {
        "transportDocument": doc.value,
        "envelopeManifestSignedContent": signer.sign(to_json(manifest)),
        "envelopeTransferChain": [*prior_chain, signed_entry],
    }
    documents = [*([visualisation] if visualisation else []), *supporting]
    return BuiltEnvelope(envelope, last_checksum, documents)
