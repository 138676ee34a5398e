"""The title commands: what carriers and holders do to an eBL, each one write.

A custodial command builds its EIP-712 message (a fresh nonce, the service's signature deadline), signs
it with the organisation's keystore key (:mod:`registry.title.signing`) and hands the signed entry to the
outbox (:mod:`registry.title.outbox`), which simulates, journals and relays it. A client-signed command
(:meth:`TitleCommands.prepare`, then :meth:`TitleCommands.submit_signed`) takes the client's own
signature instead, verified here before anything is relayed. Every command takes the same
:class:`~registry.title.model.WriteOptions` (idempotency key, wait) and answers an
:class:`~registry.title.model.Operation`; all of it runs on the caller's thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry import documents
from registry.chain import ids
from registry.chain.relayer import SignedEntry
from registry.documents import CarrierCode
from registry.errors import CarrierMismatchError
from registry.keys import Domain, IssuanceMessage, TitleActionMessage, recover_signer, verify_typed_signature
from registry.title.entries import NonceAllocator, request_hash, title_action_from_typed
from registry.title.model import DEFAULT_WRITE, Operation, WriteOptions
from registry.title.outbox import Outbox
from registry.title.ports import CarrierCodes, DocumentStore
from registry.title.signing import SigningKeys
from registry.types import Action, EblId

__all__ = ["TitleCommands"]

ZERO_ADDRESS = to_checksum_address("0x" + "00" * 20)
_ZERO32 = b"\0" * 32


class TitleCommands:
    """The carriers' and holders' commands (see the module docstring).

    Args:
        outbox: where signed entries go (simulate → journal → relay → finish).
        keys: the organisations' custodial keys.
        document_store: where issued documents are kept.
        carriers: each carrier's codes: a document is issued (or amended) only by the carrier it
            names (``carrierCode`` / ``carrierCodeListProvider``).
        domain: the EIP-712 domain of the registry.
        signature_ttl: seconds a custodial signature stays valid (its deadline).
    """

    def __init__(
        self,
        outbox: Outbox,
        keys: SigningKeys,
        document_store: DocumentStore,
        carriers: CarrierCodes,
        domain: Domain,
        signature_ttl: int,
    ) -> None:
        self._outbox = outbox
        self._keys = keys
        self._documents = document_store
        self._carriers = carriers
        self.domain = domain
        self.signature_ttl = signature_ttl
        self._nonces = NonceAllocator()

    # ================================================================== carrier

    def issue(
        self,
        carrier: str,
        document: Mapping[str, Any],
        issue_to: str,
        *,
        endorsee: str | None = None,
        issue_to_party: Mapping[str, Any] | None = None,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> Operation:
        """Issue an eBL from a DCSA 3.0 transport document (custodial: the carrier's key signs).

        Args:
            carrier: the issuing carrier organisation.
            document: the DCSA ``TransportDocument`` as issued.
            issue_to: the organisation that receives the eBL (first holder).
            endorsee: straight bill: the consignee organisation (required); to-order: the first
                endorsee (default: ``issue_to``).
            issue_to_party: the DCSA ``IssueToParty`` object of the issuance request, validated too.
            options: idempotency key (a retried request with the same key never issues twice) and wait.

        Raises:
            InvalidDocumentError: the document breaks the schema or a DCSA rule.
            CarrierMismatchError: the document names another carrier (``$.carrierCode``).
            ContractRevertError: the chain refuses (duplicate TDR or document, suspended member ...).
        """
        value = dict(document)
        facts, checked = documents.checked_for_issuance(value, issue_to=issue_to_party)  # walked once
        carrier_org = to_checksum_address(carrier)
        self._require_named_carrier(carrier_org, facts.carrier_code)
        tdr = ids.tdr_hash(facts.reference)
        canonical, doc_hash = checked.canonical, checked.digest  # stored below
        message = IssuanceMessage(
            tdr_hash=tdr,
            doc_hash=doc_hash,
            issue_to=to_checksum_address(issue_to),
            endorsee=to_checksum_address(endorsee) if endorsee else ZERO_ADDRESS,
            kind=int(facts.kind),
            nonce=self._nonces.next(),
            deadline=self._deadline(),
        )
        ebl = ids.ebl_id(carrier_org, tdr)
        entry = self._keys.sign_custodial(carrier_org, message)
        fingerprint = request_hash("issue", carrier_org, doc_hash.hex(), issue_to, endorsee or "")
        existing = self._outbox.replay(carrier_org, options.idempotency_key, fingerprint)
        if existing is not None:
            return existing

        def store_document() -> None:
            self._documents.put(ebl, doc_hash.hex(), value, canonical)

        return self._outbox.run(carrier_org, Action.ISSUE, ebl, entry, fingerprint, options, store_document)

    def accept_surrender(
        self, carrier: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """SACC: the issuing carrier accepts a surrender request."""
        return self.act(carrier, Action.ACCEPT_SURRENDER, ebl_id, options=options)

    def reject_surrender(
        self, carrier: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """SREJ: the issuing carrier rejects a surrender request; the bill returns to the requester."""
        return self.act(carrier, Action.REJECT_SURRENDER, ebl_id, options=options)

    def void(self, carrier: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE) -> Operation:
        """Void an eBL surrendered for amendment, without reissue."""
        return self.act(carrier, Action.VOID, ebl_id, options=options)

    def amend(
        self,
        carrier: str,
        ebl_id: int,
        document: Mapping[str, Any],
        *,
        endorsee: str | None = None,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> Operation:
        """Void an eBL surrendered for amendment and issue the amended document linked to it.

        The amended eBL's id is ``keccak256(abi.encode(ebl_id))``; the operation's ``ebl_id`` is the old one.
        The amended document must name the amending carrier too, and be a new document: a hash any eBL
        already carries is refused on chain (``TitleDuplicateDocument``).

        Raises:
            CarrierMismatchError: the amended document names another carrier (``$.carrierCode``).
        """
        value = dict(document)
        facts, checked = documents.checked_for_issuance(value)
        self._require_named_carrier(to_checksum_address(carrier), facts.carrier_code)
        canonical, doc_hash = checked.canonical, checked.digest
        new_id = ids.amended_ebl_id(ebl_id)

        def store_amended() -> None:
            self._documents.put(new_id, doc_hash.hex(), value, canonical)

        return self.act(
            carrier,
            Action.AMEND,
            ebl_id,
            party=endorsee,
            data=doc_hash,
            options=options,
            before_submit=store_amended,
        )

    def switch_to_paper(
        self, carrier: str, ebl_id: int, paper_document_hash: bytes, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """End an eBL surrendered with reason SWTP: the printed paper (with its change-of-medium statement)
        replaces it; ``paper_document_hash`` is the hash of that printed content."""
        return self.act(carrier, Action.SWITCH_TO_PAPER, ebl_id, data=paper_document_hash, options=options)

    # ================================================================== holders

    def transfer(
        self, holder: str, ebl_id: int, to: str, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """TRANSFER possession to another member."""
        return self.act(holder, Action.TRANSFER, ebl_id, party=to, options=options)

    def endorse(
        self,
        holder: str,
        ebl_id: int,
        endorsee: str,
        *,
        to_order: bool = True,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> Operation:
        """ENDORSE_TO_ORDER (default: the endorsee may endorse further) or ENDORSE (it may not)."""
        action = Action.ENDORSE_TO_ORDER if to_order else Action.ENDORSE
        return self.act(holder, action, ebl_id, party=endorsee, options=options)

    def endorse_in_blank(
        self, holder: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """BLANK_ENDORSE: the bill becomes a bearer bill."""
        return self.act(holder, Action.BLANK_ENDORSE, ebl_id, options=options)

    def nominate(
        self, endorsee: str, ebl_id: int, nominee: str | None, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """The endorsee, while another party holds, nominates the next endorsee (None cancels)."""
        return self.act(endorsee, Action.NOMINATE, ebl_id, party=nominee, options=options)

    def reject_transfer(
        self, holder: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """The recipient returns possession it has just received."""
        return self.act(holder, Action.REJECT, ebl_id, options=options)

    def surrender_for_delivery(
        self, holder: str, ebl_id: int, *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """SURRENDER_FOR_DELIVERY to the issuing carrier."""
        return self.act(holder, Action.SURRENDER_FOR_DELIVERY, ebl_id, options=options)

    def surrender_for_amendment(
        self, holder: str, ebl_id: int, reason_code: str = "", *, options: WriteOptions = DEFAULT_WRITE
    ) -> Operation:
        """SURRENDER_FOR_AMENDMENT with a DCSA reason code: ``SWTP`` (switch to paper), ``COD``, ``SWI``."""
        code = reason_code.encode("ascii")
        if len(code) > 4:
            raise ValueError("a DCSA reason code has at most 4 characters")
        data = code.ljust(32, b"\0")
        return self.act(holder, Action.SURRENDER_FOR_AMENDMENT, ebl_id, data=data, options=options)

    # ================================================================== generic paths

    def act(
        self,
        org: str,
        action: Action,
        ebl_id: int,
        *,
        party: str | None = None,
        data: bytes = _ZERO32,
        options: WriteOptions = DEFAULT_WRITE,
        before_submit: Callable[[], None] | None = None,
    ) -> Operation:
        """Any title action on an existing eBL, signed with the organisation's custodial key."""
        org_address = to_checksum_address(org)
        message = self._message(action, ebl_id, party, data)
        fingerprint = request_hash(action.name, org_address, str(ebl_id), str(party or ""), data.hex())
        existing = self._outbox.replay(org_address, options.idempotency_key, fingerprint)
        if existing is not None:
            return existing
        entry = self._keys.sign_custodial(org_address, message)
        ebl = EblId(int(ebl_id))
        return self._outbox.run(org_address, action, ebl, entry, fingerprint, options, before_submit)

    def prepare(
        self,
        action: Action,
        ebl_id: int,
        *,
        party: str | None = None,
        data: bytes = _ZERO32,
        deadline: int | None = None,
    ) -> dict[str, Any]:
        """The EIP-712 typed data a client signs with its own wallet (``eth_signTypedData_v4``)."""
        return self._message(action, ebl_id, party, data, deadline).to_typed_data(self.domain)

    def submit_signed(
        self,
        org: str,
        typed_data: Mapping[str, Any],
        signature: bytes,
        *,
        options: WriteOptions = DEFAULT_WRITE,
    ) -> Operation:
        """Relay an action the client signed itself; the gateway never sees its key.

        The signature is verified here first (well-formed, low-s, made by the claimed signer, for this
        registry's domain), and the signer must be an active key of ``org`` on chain.

        Raises:
            InvalidSignatureError: the signature or typed data is not acceptable.
        """
        org_address = to_checksum_address(org)
        message = title_action_from_typed(typed_data)
        # Recover over *our* domain, then check the client's typed data hashes to the same digest: a
        # signature for another chain or contract recovers to a different key and fails here.
        signer = recover_signer(message.digest(self.domain), signature)
        verify_typed_signature(typed_data, signature, signer)
        self._keys.require_org_key(org_address, signer)
        entry = SignedEntry(message, signer, bytes(signature))
        fingerprint = request_hash("signed", org_address, signature.hex())
        existing = self._outbox.replay(org_address, options.idempotency_key, fingerprint)
        if existing is not None:
            return existing
        action, ebl = Action(message.action), EblId(message.ebl_id)
        return self._outbox.run(org_address, action, ebl, entry, fingerprint, options)

    # ================================================================== internals

    def _deadline(self) -> int:
        return int(time.time()) + self.signature_ttl

    def _message(
        self, action: Action, ebl_id: int, party: str | None, data: bytes, deadline: int | None = None
    ) -> TitleActionMessage:
        """A fresh ``TitleAction`` with a new nonce and (by default) the service's signature deadline."""
        return TitleActionMessage(
            action=int(action),
            ebl_id=int(ebl_id),
            party=to_checksum_address(party) if party else ZERO_ADDRESS,
            data=data,
            nonce=self._nonces.next(),
            deadline=deadline or self._deadline(),
        )

    def _require_named_carrier(self, carrier: ChecksumAddress, named: CarrierCode) -> None:
        """The document's carrier (``carrierCode`` on ``carrierCodeListProvider``) must be one of the
        codes recorded for the issuing organisation at onboarding."""
        recorded = self._carriers.codes_of(carrier)
        if named in recorded:
            return
        paths = ["$.carrierCode"]
        if any(c.code == named.code for c in recorded):  # the right code on another code list
            paths.append("$.carrierCodeListProvider")
        raise CarrierMismatchError(carrier, str(named), [str(c) for c in recorded], paths)
