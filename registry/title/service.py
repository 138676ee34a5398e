"""The title service: every high-level eBL operation, used alike by the gateway and the CLI.

Each write follows one path:

1. build the EIP-712 message and sign it — with the organisation's keystore key (custodial) or take
   the client's own signature (client-signed, verified here before anything is relayed);
2. simulate it against the chain (``eth_call``) so an illegal request fails at once with its decoded
   custom error (not holder, wrong state, suspended member ...) and is never journaled;
3. write it to the operation journal (``pending``) — from here on it is acknowledged and will not be lost;
4. hand it to the relayer (``submitted``), which batches it; the entry's future moves the journal to
   ``final`` or ``failed``.

:meth:`TitleService.recover` resubmits what the journal holds unfinished after a crash. Resubmission
is safe: each entry carries its own nonce, which the contract spends on the first execution, so an
entry executes at most once, and the journal makes sure it executes at least once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import encode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy.engine import Engine
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from registry import documents
from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.errors import rpc_revert
from registry.chain.relayer import EntryResult, Relayer, SignedEntry
from registry.chain.views import ChainHead, TitleReader, rpc
from registry.documents import CarrierCode
from registry.errors import (
    CarrierMismatchError,
    ChainError,
    ConfigurationError,
    ContractRevertError,
    InvalidSignatureError,
    NoMatchingEblError,
    NotFoundError,
    TransactionFailedError,
    UnknownKeyError,
)
from registry.keys import (
    Domain,
    IssuanceMessage,
    KeyStore,
    TitleActionMessage,
    recover_signer,
    verify_typed_signature,
)
from registry.store import queries
from registry.store.queries import EventRecord
from registry.title.gate import WriteGate
from registry.title.ports import CarrierCodes, DocumentStore, Journal, JournalEntry, OperationStatus
from registry.types import Action, DocumentKind, EblId, KeyStatus, OrgAddress, Status

__all__ = ["NonceAllocator", "Operation", "TitleService", "Verification", "amended_ebl_id"]

ZERO_ADDRESS = to_checksum_address("0x" + "00" * 20)
_ZERO32 = b"\0" * 32
_EXECUTE = keccak(text="execute(((uint8,uint256,address,bytes32,uint256,uint256),address,bytes))")[:4]
_ISSUE_SIGNED = keccak(
    text="issueSigned(((bytes32,bytes32,address,address,uint8,uint256,uint256),address,bytes))"
)[:4]


@dataclass(frozen=True)
class Operation:
    """Where one accepted operation stands."""

    operation_id: str
    action: Action
    ebl_id: EblId
    status: OperationStatus
    tx_hash: str | None = None
    block_number: int | None = None
    error_code: str | None = None
    error_detail: str | None = None

    @property
    def successor_ebl_id(self) -> EblId | None:
        """For an AMEND, the amended eBL's id (known before the operation is final); else None."""
        return amended_ebl_id(self.ebl_id) if self.action is Action.AMEND else None

    @classmethod
    def from_journal(cls, entry: JournalEntry) -> Operation:
        """The public view of a journal row."""
        return cls(
            entry.operation_id,
            entry.action,
            entry.ebl_id,
            entry.status,
            entry.tx_hash,
            entry.block_number,
            entry.error_code,
            entry.error_detail,
        )


@dataclass(frozen=True)
class Verification:
    """A bank's answer: the authoritative title state of one eBL, anchored at one block."""

    ebl_id: EblId
    status: Status
    live: bool
    holder: OrgAddress
    endorsee: OrgAddress | None
    carrier: OrgAddress
    kind: DocumentKind
    blank_endorsed: bool
    document_hash: str
    presented_hash: str | None
    document_matches: bool | None
    amended: bool
    predecessor: EblId | None
    successor: EblId | None
    paper_document_hash: str | None
    block_number: int
    block_hash: str
    block_time: datetime


def amended_ebl_id(ebl_id: int) -> EblId:
    """The id of the eBL an amendment of ``ebl_id`` issues: ``keccak256(abi.encode(ebl_id))``."""
    return EblId(int.from_bytes(keccak(encode(["uint256"], [int(ebl_id)])), "big"))


class NonceAllocator:
    """Unordered EIP-712 nonces that never repeat across restarts and pack 256 to a storage word.

    High bits: milliseconds at start-up and 24 random bits (several processes never collide);
    low 32 bits: a counter, so consecutive nonces share the contract's bitmap word and a batch of one
    signer's entries pays for one word write.
    """

    def __init__(self) -> None:
        self._base = (time.time_ns() // 1_000_000) << 56 | secrets.randbits(24) << 32
        self._counter = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """A fresh nonce."""
        with self._lock:
            self._counter += 1
            return self._base | self._counter


class TitleService:
    """High-level title operations over one deployed registry.

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment.
        relayer: a started relayer.
        journal: the operation journal.
        document_store: where issued documents are kept.
        keystore: custodial keys (None: client-signed operations only).
        carriers: each carrier's codes: a document is issued (or amended) only by the carrier it
            names (``carrierCode`` / ``carrierCodeListProvider``).
        index: the database the indexer writes (for :meth:`history`).
        signature_ttl: seconds a custodial signature stays valid (its deadline).
        result_timeout: seconds a waiting call blocks before returning the operation as submitted.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        relayer: Relayer,
        journal: Journal,
        document_store: DocumentStore,
        keystore: KeyStore | None = None,
        *,
        carriers: CarrierCodes,
        index: Engine | None = None,
        signature_ttl: int = 3600,
        result_timeout: float = 120.0,
        head_max_age: float = 0.25,
    ) -> None:
        self._w3 = w3
        self.deployment = deployment
        self._relayer = relayer
        self._journal = journal
        self._documents = document_store
        self._keystore = keystore
        self._carriers = carriers
        self._index = index
        self.signature_ttl = signature_ttl
        self.result_timeout = result_timeout
        self.domain = Domain(deployment.chain_id, deployment.address)
        self.registry: Contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        self.head = ChainHead(w3, max_age=head_max_age)
        self._titles = TitleReader(w3, deployment.address)
        self._nonces = NonceAllocator()
        self._key_cache: dict[str, ChecksumAddress] = {}
        self.writes = WriteGate()
        """Closed by the runtime while it recovers what the chain lost (see :mod:`registry.title.gate`)."""
        self.index_barrier: Callable[[int], object] | None = None
        """Called with the block an operation became final in before :meth:`wait` answers it final: the
        runtime sets it to wait until its index holds that block, so history and visibility already
        show the write (read your own writes). None: no index follows the chain in this process."""
        self._futures: dict[str, Future[EntryResult]] = {}
        self._operation_of: dict[Future[EntryResult], str] = {}
        # Futures whose outcome was journaled with their whole transaction (see _journal_resolved).
        self._batched: weakref.WeakSet[Future[EntryResult]] = weakref.WeakSet()
        on_resolved = getattr(relayer, "on_resolved", None)
        if on_resolved is not None:
            on_resolved(self._journal_resolved)

    # ================================================================== carrier

    def issue(
        self,
        carrier: str,
        document: Mapping[str, Any],
        issue_to: str,
        *,
        endorsee: str | None = None,
        issue_to_party: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        wait: bool = True,
    ) -> Operation:
        """Issue an eBL from a DCSA 3.0 transport document (custodial: the carrier's key signs).

        Args:
            carrier: the issuing carrier organisation.
            document: the DCSA ``TransportDocument`` as issued.
            issue_to: the organisation that receives the eBL (first holder).
            endorsee: straight bill: the consignee organisation (required); to-order: the first
                endorsee (default: ``issue_to``).
            issue_to_party: the DCSA ``IssueToParty`` object of the issuance request, validated too.
            idempotency_key: a retried request with the same key never issues twice.
            wait: block until the operation is final (else return it ``submitted``).

        Raises:
            InvalidDocumentError: the document breaks the schema or a DCSA rule.
            CarrierMismatchError: the document names another carrier (``$.carrierCode``).
            ContractRevertError: the chain refuses (duplicate TDR or document, suspended member ...).
        """
        facts = documents.validate_for_issuance(dict(document), issue_to=issue_to_party)
        carrier_org = to_checksum_address(carrier)
        self._require_named_carrier(carrier_org, facts.carrier_code)
        tdr = documents.tdr_hash(facts.reference)
        canonical, doc_hash = documents.canonical_form(dict(document))  # stored below
        message = IssuanceMessage(
            tdr_hash=tdr,
            doc_hash=doc_hash,
            issue_to=to_checksum_address(issue_to),
            endorsee=to_checksum_address(endorsee) if endorsee else ZERO_ADDRESS,
            kind=int(facts.kind),
            nonce=self._nonces.next(),
            deadline=self._deadline(),
        )
        ebl = documents.ebl_id(carrier_org, tdr)
        entry = self._sign_custodial(carrier_org, message)
        request_hash = _request_hash("issue", carrier_org, doc_hash.hex(), issue_to, endorsee or "")
        existing = self._replay(carrier_org, idempotency_key, request_hash)
        if existing is not None:
            return existing

        def store_document() -> None:
            self._documents.put(ebl, doc_hash.hex(), dict(document), canonical)

        return self._run(
            carrier_org, Action.ISSUE, ebl, entry, idempotency_key, request_hash, wait, store_document
        )

    def accept_surrender(self, carrier: str, ebl_id: int, **kw: Any) -> Operation:
        """SACC: the issuing carrier accepts a surrender request."""
        return self.act(carrier, Action.ACCEPT_SURRENDER, ebl_id, **kw)

    def reject_surrender(self, carrier: str, ebl_id: int, **kw: Any) -> Operation:
        """SREJ: the issuing carrier rejects a surrender request; the bill returns to the requester."""
        return self.act(carrier, Action.REJECT_SURRENDER, ebl_id, **kw)

    def void(self, carrier: str, ebl_id: int, **kw: Any) -> Operation:
        """Void an eBL surrendered for amendment, without reissue."""
        return self.act(carrier, Action.VOID, ebl_id, **kw)

    def amend(
        self,
        carrier: str,
        ebl_id: int,
        document: Mapping[str, Any],
        *,
        endorsee: str | None = None,
        **kw: Any,
    ) -> Operation:
        """Void an eBL surrendered for amendment and issue the amended document linked to it.

        The amended eBL's id is ``keccak256(abi.encode(ebl_id))``; the operation's ``ebl_id`` is the old one.
        The amended document must name the amending carrier too, and be a new document: a hash any eBL
        already carries is refused on chain (``TitleDuplicateDocument``).

        Raises:
            CarrierMismatchError: the amended document names another carrier (``$.carrierCode``).
        """
        facts = documents.validate_for_issuance(dict(document))
        self._require_named_carrier(to_checksum_address(carrier), facts.carrier_code)
        canonical, doc_hash = documents.canonical_form(dict(document))
        new_id = amended_ebl_id(ebl_id)

        def store_amended() -> None:
            self._documents.put(new_id, doc_hash.hex(), dict(document), canonical)

        return self.act(
            carrier, Action.AMEND, ebl_id, party=endorsee, data=doc_hash, before_submit=store_amended, **kw
        )

    def switch_to_paper(self, carrier: str, ebl_id: int, paper_document_hash: bytes, **kw: Any) -> Operation:
        """End an eBL surrendered with reason SWTP: the printed paper (with its change-of-medium statement)
        replaces it; ``paper_document_hash`` is the hash of that printed content."""
        return self.act(carrier, Action.SWITCH_TO_PAPER, ebl_id, data=paper_document_hash, **kw)

    # ================================================================== holders

    def transfer(self, holder: str, ebl_id: int, to: str, **kw: Any) -> Operation:
        """TRANSFER possession to another member."""
        return self.act(holder, Action.TRANSFER, ebl_id, party=to, **kw)

    def endorse(
        self, holder: str, ebl_id: int, endorsee: str, *, to_order: bool = True, **kw: Any
    ) -> Operation:
        """ENDORSE_TO_ORDER (default: the endorsee may endorse further) or ENDORSE (it may not)."""
        action = Action.ENDORSE_TO_ORDER if to_order else Action.ENDORSE
        return self.act(holder, action, ebl_id, party=endorsee, **kw)

    def endorse_in_blank(self, holder: str, ebl_id: int, **kw: Any) -> Operation:
        """BLANK_ENDORSE: the bill becomes a bearer bill."""
        return self.act(holder, Action.BLANK_ENDORSE, ebl_id, **kw)

    def nominate(self, endorsee: str, ebl_id: int, nominee: str | None, **kw: Any) -> Operation:
        """The endorsee, while another party holds, nominates the next endorsee (None cancels)."""
        return self.act(endorsee, Action.NOMINATE, ebl_id, party=nominee, **kw)

    def reject_transfer(self, holder: str, ebl_id: int, **kw: Any) -> Operation:
        """The recipient returns possession it has just received."""
        return self.act(holder, Action.REJECT, ebl_id, **kw)

    def surrender_for_delivery(self, holder: str, ebl_id: int, **kw: Any) -> Operation:
        """SURRENDER_FOR_DELIVERY to the issuing carrier."""
        return self.act(holder, Action.SURRENDER_FOR_DELIVERY, ebl_id, **kw)

    def surrender_for_amendment(
        self, holder: str, ebl_id: int, reason_code: str = "", **kw: Any
    ) -> Operation:
        """SURRENDER_FOR_AMENDMENT with a DCSA reason code: ``SWTP`` (switch to paper), ``COD``, ``SWI``."""
        code = reason_code.encode("ascii")
        if len(code) > 4:
            raise ValueError("a DCSA reason code has at most 4 characters")
        return self.act(holder, Action.SURRENDER_FOR_AMENDMENT, ebl_id, data=code.ljust(32, b"\0"), **kw)

    # ================================================================== generic paths

    def act(
        self,
        org: str,
        action: Action,
        ebl_id: int,
        *,
        party: str | None = None,
        data: bytes = _ZERO32,
        idempotency_key: str | None = None,
        wait: bool = True,
        before_submit: Callable[[], None] | None = None,
    ) -> Operation:
        """Any title action on an existing eBL, signed with the organisation's custodial key."""
        org_address = to_checksum_address(org)
        message = self._message(action, ebl_id, party, data)
        request_hash = _request_hash(action.name, org_address, str(ebl_id), str(party or ""), data.hex())
        existing = self._replay(org_address, idempotency_key, request_hash)
        if existing is not None:
            return existing
        entry = self._sign_custodial(org_address, message)
        return self._run(
            org_address, action, EblId(int(ebl_id)), entry, idempotency_key, request_hash, wait, before_submit
        )

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
        idempotency_key: str | None = None,
        wait: bool = True,
    ) -> Operation:
        """Relay an action the client signed itself; the gateway never sees its key.

        The signature is verified here first (well-formed, low-s, made by the claimed signer, for this
        registry's domain), and the signer must be an active key of ``org`` on chain.

        Raises:
            InvalidSignatureError: the signature or typed data is not acceptable.
        """
        org_address = to_checksum_address(org)
        message = _title_action_from_typed(typed_data)
        # Recover over *our* domain, then check the client's typed data hashes to the same digest: a
        # signature for another chain or contract recovers to a different key and fails here.
        signer = recover_signer(message.digest(self.domain), signature)
        verify_typed_signature(typed_data, signature, signer)
        self._require_org_key(org_address, signer)
        entry = SignedEntry(message, signer, bytes(signature))
        request_hash = _request_hash("signed", org_address, signature.hex())
        existing = self._replay(org_address, idempotency_key, request_hash)
        if existing is not None:
            return existing
        action = Action(message.action)
        return self._run(
            org_address, action, EblId(message.ebl_id), entry, idempotency_key, request_hash, wait
        )

    # ================================================================== reads

    def operation(self, operation_id: str) -> Operation:
        """Where an operation stands (``NotFoundError`` if unknown)."""
        return Operation.from_journal(self._journal.get(operation_id))

    def wait(self, operation_id: str, timeout: float | None = None) -> Operation:
        """Block until an operation submitted by this process is final or failed (and, when final, in
        the index: :attr:`index_barrier`)."""
        future = self._futures.get(operation_id)
        if future is not None:
            future.exception(timeout=timeout or self.result_timeout)  # waits; errors are journaled
            if future not in self._batched:
                self._finish(operation_id, future)
        return self._indexed(self.operation(operation_id))

    def _indexed(self, op: Operation) -> Operation:
        """``op``, once a final one is in the index too (see :attr:`index_barrier`)."""
        if self.index_barrier is not None and op.status == "final" and op.block_number is not None:
            self.index_barrier(op.block_number)
        return op

    def verify(
        self,
        ebl_id: int | None = None,
        *,
        document: Mapping[str, Any] | None = None,
        document_text: str | bytes | None = None,
    ) -> Verification:
        """The authoritative title state of an eBL, read from the chain at one block.

        The block is the newest one the service knows, at most ``head_max_age`` seconds old and never
        older than a block an operation of this service became final in; the answer names it.

        Give an eBL id, the presented document (parsed or as JSON text, in any key order or whitespace),
        or both: with a document, the answer says whether it hashes to the issued document hash.

        Raises:
            NotFoundError: no eBL with that id.
            NoMatchingEblError: no id given, and no eBL was issued with that document.
            InvalidDocumentError: the presented JSON cannot be parsed.
        """
        presented: str | None = None
        if document_text is not None:
            presented = documents.hash_json_text(document_text)
        elif document is not None:
            presented = documents.document_hash(dict(document))
        block = self.head.latest()
        if ebl_id is None:
            if presented is None:
                raise ValueError("verify needs an eBL id or a document")
            # The chain names the one record a document hash was ever issued as (eblIdOfDocument).
            found = self.registry.functions.eblIdOfDocument(bytes.fromhex(presented.removeprefix("0x"))).call(
                block_identifier=block.number
            )
            if not found:
                raise NoMatchingEblError(presented)
            ebl_id = EblId(int(found))
        title = self._titles.title_of(int(ebl_id), block.number)
        if title is None:
            raise NotFoundError("eBL", ebl_id)
        issued_hash = title.document_hash.removeprefix("0x")
        return Verification(
            ebl_id=title.ebl_id,
            status=title.status,
            live=title.status is Status.ACTIVE,
            holder=title.holder,
            endorsee=title.endorsee,
            carrier=title.carrier,
            kind=title.kind,
            blank_endorsed=title.blank_endorsed,
            document_hash=issued_hash,
            presented_hash=presented,
            document_matches=None if presented is None else presented == issued_hash,
            amended=title.amended,
            predecessor=title.predecessor,
            successor=title.successor,
            paper_document_hash=(
                title.paper_document_hash.removeprefix("0x") if title.paper_document_hash else None
            ),
            block_number=block.number,
            block_hash=block.hash,
            block_time=datetime.fromtimestamp(block.timestamp, UTC),
        )

    def history(self, ebl_id: int) -> list[EventRecord]:
        """Every recorded action on an eBL, issuance first, from the index (never a scan of the chain).

        Raises:
            NotFoundError: the eBL is not (yet) indexed.
        """
        if self._index is None:
            raise ConfigurationError("this title service was built without an index database")
        return queries.history(self._index, int(ebl_id))

    # ================================================================== recovery

    def recover(self, *, recheck_final_since: datetime | None = None, min_age: float = 0.0) -> int:
        """Resubmit every journaled operation that is not final; returns how many were resubmitted.

        An entry whose nonce is already spent on chain executed before the crash: it is marked final.
        An entry past its signature deadline can never execute: it is marked failed.

        Args:
            recheck_final_since: also re-check the operations that became final since then (the chain
                may have lost them: an embedded chain restored from a state dump older than their
                block). One whose transaction is no longer on chain and whose nonce is unused is
                reopened and resubmitted, in journal order with the unfinished ones.
            min_age: skip operations updated less than this many seconds ago (a periodic retry must not
                race a request that is just submitting its own operation). Operations this process is
                already tracking are always skipped.
        """
        rows = [r for r in self._journal.unfinished() if r.operation_id not in self._futures]
        if min_age > 0:
            cutoff = datetime.now(UTC).timestamp() - min_age
            rows = [r for r in rows if r.updated_at is None or _timestamp(r.updated_at) <= cutoff]
        if recheck_final_since is not None:
            rows += self._lost_final(recheck_final_since)
        rows.sort(key=lambda r: _timestamp(r.created_at) if r.created_at is not None else 0.0)
        now = time.time()
        resubmitted = 0
        for row in rows:
            entry = _entry_from_dict(row.entry)
            if self.registry.functions.nonceUsed(entry.signer, entry.message.nonce).call():
                if row.status != "final":
                    self._journal.mark(
                        row.operation_id, "final", error_detail="recovered: executed before restart"
                    )
                continue
            if entry.message.deadline < now:
                self._journal.reopen(row.operation_id, "expired before it could be executed")
                self._journal.mark(
                    row.operation_id,
                    "failed",
                    error_code="TitleExpiredSignature",
                    error_detail="the signature expired before the operation could be (re)submitted",
                )
                continue
            if row.status == "final":
                self._journal.reopen(
                    row.operation_id, "resubmitted: the chain lost the block it was final in"
                )
            future = self._relayer.submit(entry)
            self._track(row.operation_id, future)
            resubmitted += 1
        return resubmitted

    def _lost_final(self, since: datetime) -> list[JournalEntry]:
        """Operations final since ``since`` whose transaction the chain no longer has.

        A receipt found by transaction hash is not proof: a node restored from a state dump can still
        answer for a transaction of a block it lost (anvil keeps it by hash), so the receipt's block
        must be at or below the head and be the block the chain now has at that height.
        """
        by_tx: dict[str | None, list[JournalEntry]] = {}
        for row in self._journal.final_since(since):
            if row.operation_id not in self._futures:
                by_tx.setdefault(row.tx_hash, []).append(row)
        lost: list[JournalEntry] = []
        head = int(rpc(self._w3, "eth_blockNumber", []), 16)
        block_hashes: dict[int, str | None] = {}
        for tx_hash, rows in by_tx.items():
            if tx_hash is not None:
                receipt = rpc(self._w3, "eth_getTransactionReceipt", [tx_hash])
                if receipt and self._on_canonical_chain(receipt, head, block_hashes):
                    continue  # still on chain
            lost += rows  # no receipt, a stale one, or final without one: recover() checks each nonce
        return lost

    def _on_canonical_chain(
        self, receipt: Mapping[str, Any], head: int, block_hashes: dict[int, str | None]
    ) -> bool:
        number = int(receipt["blockNumber"], 16)
        if number > head:
            return False
        if number not in block_hashes:
            block = rpc(self._w3, "eth_getBlockByNumber", [hex(number), False])
            block_hashes[number] = str(block["hash"]).lower() if block else None
        return block_hashes[number] == str(receipt["blockHash"]).lower()

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

    def signing_key(self, org: ChecksumAddress) -> ChecksumAddress:
        """The organisation's custodial key that is active both in the keystore and on chain."""
        cached = self._key_cache.get(org)
        if cached is not None:
            return cached
        if self._keystore is None:
            raise UnknownKeyError(f"no custodial key for {org}: this registry runs without a keystore")
        for info in self._keystore.list_keys(org):
            if not info.is_active:
                continue
            chain_org, status = self.registry.functions.keyInfo(info.address).call()
            if chain_org == org and KeyStatus(status) is KeyStatus.ACTIVE:
                self._key_cache[org] = info.address
                return info.address
        raise UnknownKeyError(f"no active custodial key of {org} is registered on chain")

    def forget_key(self, org: str) -> None:
        """Drop the cached custodial key of an organisation (after a rotation)."""
        self._key_cache.pop(to_checksum_address(org), None)

    def _sign_custodial(
        self, org: ChecksumAddress, message: TitleActionMessage | IssuanceMessage
    ) -> SignedEntry:
        key = self.signing_key(org)
        assert self._keystore is not None
        signature = self._keystore.signer(key).sign_digest(message.digest(self.domain))
        return SignedEntry(message, key, signature)

    def _require_org_key(self, org: ChecksumAddress, key: ChecksumAddress) -> None:
        chain_org, status = self.registry.functions.keyInfo(key).call()
        if chain_org == org and KeyStatus(status) is KeyStatus.ACTIVE:
            return
        if chain_org == org:  # the organisation's own key, revoked
            raise InvalidSignatureError("mismatch", f"the signature is by {key}, a revoked key of {org}")
        if KeyStatus(status) is not KeyStatus.NONE:
            raise InvalidSignatureError(
                "mismatch",
                f"the signature is by {key}, a key of another organisation ({chain_org}), not {org}",
            )
        # A key nobody registered: almost always the right key over different data, because every
        # change to the signed message changes the address the signature recovers to.
        raise InvalidSignatureError(
            "mismatch",
            f"the signature does not recover to an active key of {org} (it recovers to {key}, which "
            "is no registered key): the typed data signed is not the typed data submitted. Sign and "
            "submit the typed data exactly as prepare returned it; a wallet or JSON parser that turns "
            "the uint256 decimal strings into numbers rounds them and alters the message",
        )

    def _simulate(self, entry: SignedEntry) -> None:
        if entry.kind == "issuance":
            data = _ISSUE_SIGNED + encode(
                ["((bytes32,bytes32,address,address,uint8,uint256,uint256),address,bytes)"],
                [entry.as_tuple()],
            )
        else:
            data = _EXECUTE + encode(
                ["((uint8,uint256,address,bytes32,uint256,uint256),address,bytes)"], [entry.as_tuple()]
            )
        # One raw eth_call: web3's call path (formatters, middleware) costs more than the call itself.
        reply = self._w3.provider.make_request(
            RPCEndpoint("eth_call"), [{"to": self.deployment.address, "data": "0x" + data.hex()}, "latest"]
        )
        error = reply.get("error")
        if error is None:
            return
        revert = rpc_revert(error)
        if revert is not None:
            raise revert
        raise ChainError(f"simulating the operation failed: {error}")

    def _replay(self, org: ChecksumAddress, key: str | None, request_hash: str) -> Operation | None:
        if key is None:
            return None
        found = self._journal.find_idempotent(org, key, request_hash)
        return self._indexed(Operation.from_journal(found)) if found is not None else None

    def _run(
        self,
        org: ChecksumAddress,
        action: Action,
        ebl_id: EblId,
        entry: SignedEntry,
        idempotency_key: str | None,
        request_hash: str,
        wait: bool,
        before_submit: Callable[[], None] | None = None,
    ) -> Operation:
        """Simulate, journal and hand to the relayer, all inside the write gate (closed while the
        runtime recovers what the chain lost, so no new write runs ahead of what it resubmits)."""
        with self.writes.passage():
            self._simulate(entry)
            if before_submit is not None:
                before_submit()
            # Journaled (one write, already as submitted) with its signed entry before the relayer sees it.
            operation_id = str(uuid.uuid4())
            row = self._journal.record(
                JournalEntry(
                    operation_id=operation_id,
                    org=org,
                    action=action,
                    ebl_id=ebl_id,
                    entry=_entry_to_dict(entry),
                    status="submitted",
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                )
            )
            if row.operation_id != operation_id or row.operation_id in self._futures:
                return Operation.from_journal(row)  # an idempotent replay raced us
            try:
                future = self._relayer.submit(entry)
            except ChainError as exc:
                self._journal.mark(row.operation_id, "failed", error_code=exc.code, error_detail=str(exc))
                raise
            self._track(row.operation_id, future)
        if wait:
            return self.wait(row.operation_id)
        return Operation.from_journal(row)

    def _track(self, operation_id: str, future: Future[EntryResult]) -> None:
        self._futures[operation_id] = future
        self._operation_of[future] = operation_id
        future.add_done_callback(lambda f: self._done(operation_id, f))

    def _done(self, operation_id: str, future: Future[EntryResult]) -> None:
        self._operation_of.pop(future, None)
        if future in self._batched:  # already journaled with its whole transaction
            self._futures.pop(operation_id, None)
        else:
            self._finish(operation_id, future)

    def _journal_resolved(self, results: Sequence[tuple[Future[EntryResult], EntryResult]]) -> None:
        """Relayer listener: journal every entry of one transaction that took effect in one write,
        before their futures resolve (so a waiter wakes to a final journal row). Failed entries are
        left to :meth:`_finish`, one by one."""
        finals: list[tuple[str, str, int]] = []
        done: list[Future[EntryResult]] = []
        for future, result in results:
            operation_id = self._operation_of.get(future)
            if operation_id is not None and result.ok:
                finals.append((operation_id, result.tx_hash, result.block_number))
                done.append(future)
        if not finals:
            return
        self._journal.mark_final_many(finals)
        self.head.observe(max(block for _, _, block in finals))
        for future in done:
            self._batched.add(future)

    def _finish(self, operation_id: str, future: Future[EntryResult]) -> None:
        """Write a finished entry's outcome to the journal (idempotent: the callback and a waiter may
        both call it)."""
        try:
            result = future.result()
        except (ContractRevertError, TransactionFailedError) as exc:
            name = getattr(exc, "error_name", "") or exc.code  # as for a reverted result below
            self._journal.mark(operation_id, "failed", error_code=name, error_detail=str(exc))
        except Exception as exc:
            # The relayer could not send, or dropped the transaction when the chain restarted: nothing
            # says the entry cannot execute. Leave it pending; recover() (the runtime's periodic retry)
            # checks its nonce on chain and resubmits it.
            self._journal.mark(operation_id, "pending", error_detail=f"{type(exc).__name__}: {exc}")
        else:
            self.head.observe(result.block_number)
            if result.ok:
                self._journal.mark(
                    operation_id, "final", tx_hash=result.tx_hash, block_number=result.block_number
                )
            elif _spent_by_earlier_submission(result.error, operation_id, self._journal):
                # A resubmitted copy found its own nonce spent: an earlier submission executed it.
                self._journal.mark(
                    operation_id, "final", error_detail="executed by an earlier submission of the same entry"
                )
            else:
                error = result.error
                assert error is not None
                self._journal.mark(
                    operation_id,
                    "failed",
                    tx_hash=result.tx_hash,
                    block_number=result.block_number,
                    error_code=getattr(error, "error_name", "") or error.code,
                    error_detail=str(error),
                )
        self._futures.pop(operation_id, None)


def _timestamp(moment: datetime) -> float:
    """Unix seconds of a journal timestamp (SQLite hands them back without a time zone: UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _spent_by_earlier_submission(error: Exception | None, operation_id: str, journal: Journal) -> bool:
    """True when an entry failed only because its own nonce was already spent (``TitleNonceUsed`` for
    the entry's signer and nonce): a copy submitted before (and lost from view in a restart) ran."""
    if getattr(error, "error_name", "") != "TitleNonceUsed":
        return False
    args = getattr(error, "args_by_name", {}) or {}
    entry = journal.get(operation_id).entry
    return str(args.get("signer", "")).lower() == str(entry["signer"]).lower() and int(
        args.get("nonce", -1)
    ) == int(entry["message"]["nonce"])


def _request_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _entry_to_dict(entry: SignedEntry) -> dict[str, Any]:
    message = entry.message
    fields = {attr: getattr(message, attr) for _, attr, _ in message.FIELDS}
    return {
        "kind": entry.kind,
        "message": {k: ("0x" + v.hex()) if isinstance(v, bytes) else v for k, v in fields.items()},
        "signer": entry.signer,
        "signature": "0x" + entry.signature.hex(),
    }


def _entry_from_dict(data: Mapping[str, Any]) -> SignedEntry:
    fields: dict[str, Any] = {
        k: bytes.fromhex(v[2:]) if isinstance(v, str) and v.startswith("0x") and len(v) == 66 else v
        for k, v in data["message"].items()
    }
    message: TitleActionMessage | IssuanceMessage = (
        IssuanceMessage(**fields) if data["kind"] == "issuance" else TitleActionMessage(**fields)
    )
    return SignedEntry(message, to_checksum_address(data["signer"]), bytes.fromhex(data["signature"][2:]))


def _title_action_from_typed(typed: Mapping[str, Any]) -> TitleActionMessage:
    try:
        return TitleActionMessage.from_typed_data(typed)
    except (TypeError, ValueError) as exc:
        raise InvalidSignatureError("typed_data", f"malformed TitleAction typed data: {exc}") from None
