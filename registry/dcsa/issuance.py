"""A carrier's DCSA ``IssuanceRequest`` mapped onto our issue operation.

:meth:`DcsaIssuance.request` answers at once (the gateway's ``204``) and queues the
``IssuanceResponse`` in the callback outbox (:mod:`registry.dcsa.callbacks`):

* ``ISSU`` once the issuance is final on chain (the callback waits for the journaled operation;
  a failed one turns into ``REFU`` with the failure's words);
* ``BREQ`` when the content is at fault: the document breaks the schema or a DCSA rule, the signed
  issuance manifest's ``documentChecksum`` / ``issueToChecksum`` is not that of the request, or a
  straight bill's consignee is not identified on our platform;
* ``REFU`` when the ``issueTo`` party is not one of our members (another platform: PINT, not here).

Idempotency is the document checksum (SHA-256 over RFC 8785, as the manifest defines it): it is the
issue operation's idempotency key, so a carrier that retries after a lost answer issues once and gets
its ``204``; a request repeated after its ``204`` raises :class:`DcsaRequestConflictError` (the
standard's ``409``). Every refusal rule of ``/v1`` issuance holds, raised as the same errors: one
record per document and per reference (the chain's duplicate refusals) and the issuer is the carrier
the document names (:class:`~registry.errors.CarrierMismatchError`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import rfc8785
from sqlalchemy import Engine, select

from registry.dcsa.callbacks import CALLBACKS, ISSUANCE_RESPONSES, CallbackOutbox
from registry.dcsa.parties import member_of_issue_to
from registry.errors import DcsaRequestConflictError, InvalidDocumentError
from registry.title import TitleService, WriteOptions

__all__ = ["DcsaIssuance", "checksum"]


def checksum(value: Any) -> str:
    """SHA-256 (lowercase hex) over the RFC 8785 canonical JSON of ``value``."""
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def _manifest(jws: str) -> dict[str, Any] | None:
    """The payload of a compact JWS, unverified (None if it is not JSON). Its signature is the PINT
    slice's to verify against the carrier's keys; here we check that it speaks of this request."""
    try:
        payload = jws.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    return value if isinstance(value, dict) else None


class DcsaIssuance:
    """Issuance requests from carriers' systems (see the module docstring)."""

    def __init__(self, engine: Engine, title: TitleService, outbox: CallbackOutbox) -> None:
        self.engine, self.title, self.outbox = engine, title, outbox

    def request(self, carrier: str, request: Mapping[str, Any]) -> str:
        """Handle one ``IssuanceRequest`` from ``carrier``; returns the response code queued.

        Raises:
            DcsaRequestConflictError: this document was requested before (409).
            CarrierMismatchError: the document names another carrier.
            ContractRevertError: the chain refuses (a reference or document already recorded ...).
        """
        document: Mapping[str, Any] = request["document"]
        issue_to: Mapping[str, Any] = request["issueTo"]
        digest = checksum(document)
        dedupe = f"issuance:{digest}"
        reference = str(document.get("transportDocumentReference", ""))
        if self._queued(dedupe):
            raise DcsaRequestConflictError(f"the transport document {reference} was requested before")
        base: dict[str, Any] = {"transportDocumentReference": reference}
        if isinstance(document.get("transportDocumentSubReference"), str):
            base["transportDocumentSubReference"] = document["transportDocumentSubReference"]

        def answer(code: str, reason: str | None = None, operation: str | None = None) -> str:
            payload = dict(base, issuanceResponseCode=code)
            if reason:
                payload["reason"] = reason[:255].strip()
            if not self.outbox.enqueue(
                carrier, ISSUANCE_RESPONSES, payload, dedupe, await_operation=operation
            ):
                raise DcsaRequestConflictError(f"the transport document {reference} was requested before")
            return code

        manifest = _manifest(str(request.get("issuanceManifestSignedContent", "")))
        if manifest is not None:
            if manifest.get("documentChecksum") not in (None, digest):
                return answer("BREQ", "issuanceManifest documentChecksum is not the checksum of the document")
            if manifest.get("issueToChecksum") not in (None, checksum(issue_to)):
                return answer("BREQ", "issuanceManifest issueToChecksum is not the checksum of issueTo")
        platform = self.outbox.platform
        holder = member_of_issue_to(self.engine, platform, issue_to)
        if holder is None:
            name = issue_to.get("partyName", "")
            return answer("REFU", f"IssueTo party {name!r} not recognized by receiving platform {platform}")
        endorsee = None
        if document.get("isToOrder") is False:
            consignee = (document.get("documentParties") or {}).get("consignee") or {}
            endorsee = member_of_issue_to(self.engine, platform, dict(consignee, sendToPlatform=platform))
            if endorsee is None:
                return answer(
                    "BREQ", f"the consignee of a straight bill must be identified on platform {platform}"
                )
        try:
            op = self.title.issue(
                carrier,
                document,
                holder,
                endorsee=endorsee,
                issue_to_party=issue_to,
                options=WriteOptions(idempotency_key=f"dcsa:{digest}", wait=False),
            )
        except InvalidDocumentError as exc:
            return answer("BREQ", str(exc))
        return answer("ISSU", operation=op.operation_id)

    def _queued(self, dedupe: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(CALLBACKS.c.id).where(CALLBACKS.c.dedupe_key == dedupe)).first()
                is not None
            )
