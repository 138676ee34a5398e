"""The chain side of PINT: an eBL leaves this registry for another platform, or arrives from one.

:class:`PlatformBridge` sits next to the :class:`~registry.title.service.TitleService` (the gateway
reaches it as ``runtime.bridge``). The rule it keeps is the law's: a bill has exactly one holder across
platforms.

* :meth:`PlatformBridge.start_export` is the holder's action, signed with its key like a transfer (a
  ``StartExport`` title action through the outbox, so it is journaled and recovered like every other
  write): the record becomes ``EXPORT_PENDING`` and nothing but the bridge can act on it.
* :meth:`PlatformBridge.close_export` and :meth:`PlatformBridge.import_title` are the registry's own,
  sent as plain transactions by the bridge key, which alone holds ``CROSS_PLATFORM_ROLE`` (granted at
  deployment; governance can never grant it). Only the bridge knows the receiving platform's answer, so
  only it ends an export: RECE makes the record ``EXPORTED`` (held on the other platform, terminal
  here), anything else returns it to ``ACTIVE`` with the same holder.

The bridge's writes are idempotent, so a sender that crashed between the receiver's answer and its own
journal can simply call them again: closing an export already closed the same way, or importing a bill
already imported with the same last entry, answers the recorded outcome instead of reverting.

Checksums are the PINT ones: 64 lowercase hex digits (SHA-256), given with or without ``0x``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from registry.chain.deploy import Deployment
from registry.chain.errors import decode_revert
from registry.chain.events import REGISTRY_EVENTS, Log, decode_logs
from registry.chain.fees import FeePolicy
from registry.chain.ids import tdr_hash
from registry.chain.relayer import NonceManager
from registry.chain.rpc import rpc
from registry.chain.views import ChainHead
from registry.documents import CarrierCode, Document, extract_facts
from registry.errors import ConfigurationError, InvalidRequestError, NotFoundError, TransactionFailedError
from registry.keys import Signer
from registry.store.indexer import Indexer
from registry.store.queries import history
from registry.store.sender_lock import SenderLock
from registry.title.model import DEFAULT_WRITE, Operation, WriteOptions
from registry.title.ports import DocumentStore
from registry.types import Action, DocumentKind, EblId, Status

__all__ = [
    "CROSS_PLATFORM_ROLE",
    "Export",
    "PlatformBridge",
    "carrier_ref",
    "imported_ebl_id",
    "platform_party",
]

CROSS_PLATFORM_ROLE = keccak(text="CROSS_PLATFORM_ROLE")
"""The role the bridge key holds (``PlatformBridge.CROSS_PLATFORM_ROLE`` in the contract)."""

_BRIDGE_GAS = 400_000
"""Gas for one bridge transaction: an import of a new bill, the dearest, takes about 170,000."""


def platform_party(platform: str) -> ChecksumAddress:
    """The ``party`` a ``StartExport`` action carries: the DCSA platform code (1 to 4 ASCII characters,
    e.g. ``WAVE``), left-aligned in the 20 address bytes, the rest zero.

    Raises:
        InvalidRequestError: not a platform code.
    """
    code = _platform_bytes(platform)
    return to_checksum_address(code.ljust(20, b"\0"))


def carrier_ref(code: CarrierCode) -> bytes:
    """What names a foreign carrier on chain: keccak256 of ``"<code>@<codeListProvider>"``."""
    return keccak(f"{code.code}@{code.code_list_provider}".encode())


def imported_ebl_id(carrier: str | None, ref: bytes, tdr: bytes) -> EblId:
    """The id a new bill arriving from another platform gets (``importedEblIdOf`` in the contract):
    the issued-id formula for a member carrier, keccak256(abi.encode(address(0), carrierRef, tdrHash))
    for a foreign one."""
    if carrier:
        raw = abi_encode(["address", "bytes32"], [to_checksum_address(carrier), tdr])
    else:
        raw = abi_encode(["address", "bytes32", "bytes32"], ["0x" + "00" * 20, ref, tdr])
    return EblId(int.from_bytes(keccak(raw), "big"))


@dataclass(frozen=True)
class Export:
    """Where an eBL was last sent (its pending or closed export), from the chain."""

    ebl_id: EblId
    status: Status
    platform: str | None
    envelope_checksum: str | None


class PlatformBridge:
    """The registry's side of PINT on chain (see the module docstring).

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment.
        titles: the title service (the holder's signed ``StartExport`` goes through its outbox, and a
            bridge write answered final waits for its index barrier like every other write).
        bridge_key: the key holding ``CROSS_PLATFORM_ROLE`` (None: exports cannot be closed nor bills
            imported; starting an export is refused too, since nothing could ever end it).
        documents: where imported documents are kept (as issued ones are).
        carrier_owner: a carrier code's member organisation, if any (``SqlCarrierCodes.owner_of``).
        gas_price: fixed legacy gas price (wei); None follows the node.
        send_lock: serialises the bridge account's sends; the runtime's is on its database, so that
            several gateway workers never sign one nonce twice (default: within this process).
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        titles: _Titles,
        bridge_key: Signer | None,
        documents: DocumentStore,
        carrier_owner: Callable[[CarrierCode], str | None],
        *,
        gas_price: int | None = None,
        index: Indexer | None = None,
        send_lock: SenderLock | None = None,
    ) -> None:
        from registry.chain.artifacts import load_artifact

        self._w3 = w3
        self._index = index
        self._deployment = deployment
        self._titles = titles
        self._key = bridge_key
        self._documents = documents
        self._carrier_owner = carrier_owner
        self._registry: Contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        self._fees = FeePolicy(w3, gas_price=gas_price)
        self._nonces = NonceManager(w3, bridge_key.address) if bridge_key is not None else None
        self._send_lock = send_lock or SenderLock(None, bridge_key.address if bridge_key else "")
        self._checked_role = False

    @property
    def address(self) -> ChecksumAddress | None:
        """The bridge key's address (None without one)."""
        return self._key.address if self._key is not None else None

    # ------------------------------------------------------------------ the holder

    def start_export(
        self,
        org: str,
        ebl_id: int,
        *,
        platform: str,
        envelope_checksum: str,
        options: WriteOptions | None = None,
    ) -> Operation:
        """The holder sends the eBL to ``platform``: it becomes ``EXPORT_PENDING`` (frozen).

        Signed with the holder's custodial key, journaled and relayed like a transfer.

        Raises:
            InvalidRequestError: not a platform code or not a checksum.
            ConfigurationError: this registry has no bridge key holding ``CROSS_PLATFORM_ROLE``.
            ContractRevertError: not the holder, not ACTIVE, suspended ...
        """
        party = platform_party(platform)
        data = _checksum_bytes(envelope_checksum, "envelope_checksum")
        self._require_role()
        return self._titles.act(
            org, Action.START_EXPORT, ebl_id, party=party, data=data, options=options or DEFAULT_WRITE
        )

    # ------------------------------------------------------------------ the bridge key

    def close_export(self, ebl_id: int, *, accepted: bool, response_checksum: str | None) -> Operation:
        """End the pending export of ``ebl_id`` with the receiving platform's answer: ``accepted``
        (RECE) → ``EXPORTED``; otherwise ``ACTIVE`` again with the same holder. ``response_checksum``
        is the SHA-256 of the signed response (required when accepted; None when none arrived).

        Idempotent: an export already closed the same way answers final without a transaction.

        Raises:
            ContractRevertError: the eBL is not EXPORT_PENDING (``TitleWrongStatus``) ...
        """
        ebl = EblId(int(ebl_id))
        response = (
            _checksum_bytes(response_checksum, "response_checksum") if response_checksum else b"\0" * 32
        )
        status = Status(self._registry.functions.statusOf(ebl).call())
        action = Action.CLOSE_EXPORT if accepted else Action.CANCEL_EXPORT
        if status is Status.EXPORTED and accepted:
            return Operation("already-closed", action, ebl, "final", error_detail="already EXPORTED")
        if status is Status.ACTIVE and not accepted and not self.export_of(ebl).envelope_checksum:
            return Operation("already-cancelled", action, ebl, "final", error_detail="already ACTIVE")
        fn = self._registry.functions.closeExport if accepted else self._registry.functions.cancelExport
        return self._send(fn(ebl, response), action, ebl)

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
    ) -> Operation:
        """Record a bill that arrived from ``platform`` (after answering RECE), held by ``holder``.

        It keeps its carrier (a member carrier whose code the document names, else a foreign carrier
        named by its code) and its document hash. A bill exported from here before is the same record,
        re-activated (found by its document hash); otherwise a new record is written. ``endorsee``
        (default: the holder) is the consignee of a straight bill or the endorsee of a to-order one;
        ``blank_endorsed`` marks a bearer bill, ``endorsable`` False one last endorsed with a plain
        ENDORSE. The document is stored as issued ones are.

        Idempotent: a bill already imported with this ``last_entry_checksum`` answers final.

        Raises:
            InvalidDocumentError: the document has no carrier code or reference.
            ContractRevertError: holder or endorsee not an active member, the bill is held here
                (``TitleWrongStatus``), its id is another bill's (``TitleAlreadyIssued``) ...
        """
        facts = extract_facts(document.value)
        last = _checksum_bytes(last_entry_checksum, "last_entry_checksum")
        code = _platform_bytes(platform).ljust(4, b"\0")
        doc_hash = bytes.fromhex(document.hash)
        holder_org = to_checksum_address(holder)
        existing = self.find_by_document(document.hash)
        if existing is not None:
            status = Status(self._registry.functions.statusOf(existing).call())
            if status is not Status.EXPORTED and self._imported_with(existing, last):
                return Operation("already-imported", Action.IMPORT_TITLE, existing, "final")
        member = self._carrier_owner(facts.carrier_code)
        ref = b"\0" * 32 if member else carrier_ref(facts.carrier_code)
        tdr = tdr_hash(facts.reference)
        ebl = existing if existing is not None else imported_ebl_id(member, ref, tdr)
        kind = facts.kind
        imported = (
            doc_hash,
            tdr,
            to_checksum_address(member) if member else "0x" + "00" * 20,
            ref,
            holder_org,
            to_checksum_address(endorsee) if endorsee else holder_org,
            int(kind),
            bool(endorsable) and kind is DocumentKind.TO_ORDER,
            bool(blank_endorsed) and kind is DocumentKind.TO_ORDER,
            code,
            last,
        )
        self._documents.put(ebl, document.hash, dict(document.value), document.canonical)
        return self._send(self._registry.functions.importTitle(imported), Action.IMPORT_TITLE, ebl)

    # ------------------------------------------------------------------ reads

    def find_by_document(self, document_checksum: str) -> EblId | None:
        """The record a transport document checksum (PINT ``transportDocumentChecksum``) names here:
        issued, amended or imported, in any status; None when this registry never saw it."""
        found = self._registry.functions.eblIdOfDocument(
            _checksum_bytes(document_checksum, "document_checksum")
        ).call()
        return EblId(int(found)) if found else None

    def export_of(self, ebl_id: int) -> Export:
        """The eBL's status and its pending or closed export (platform None when there is none)."""
        ebl = EblId(int(ebl_id))
        status = Status(self._registry.functions.statusOf(ebl).call())
        platform, checksum = self._registry.functions.exportOf(ebl).call()
        code = bytes(platform).rstrip(b"\0").decode("ascii") or None
        envelope = bytes(checksum).hex() if any(bytes(checksum)) else None
        return Export(ebl, status, code, envelope)

    # ------------------------------------------------------------------ internals

    def _require_role(self) -> None:
        if self._checked_role:
            return
        if self._key is None:
            raise ConfigurationError("this registry runs without a bridge key: no bill can leave or arrive")
        if not self._registry.functions.hasRole(CROSS_PLATFORM_ROLE, self._key.address).call():
            raise ConfigurationError(
                f"the bridge key {self._key.address} does not hold CROSS_PLATFORM_ROLE on "
                f"{self._deployment.address} (it is granted only at deployment)"
            )
        self._checked_role = True

    def _imported_with(self, ebl: EblId, last: bytes) -> bool:
        """Whether the newest ``TitleImported`` of ``ebl`` carries ``last`` (a repeated import).

        Read from the archived blocks the index lists actions of ``ebl`` in, and from the node's logs
        after the index's block (the node may no longer serve old logs); without an index, from the
        node's logs since the deployment block.
        """
        since = self._deployment.block_number
        logs: list[Log] = []
        if self._index is not None:
            since = self._index.applied_block() + 1
            try:
                blocks = sorted({e.block_number for e in history(self._index.engine, int(ebl))})
            except NotFoundError:
                blocks = []
            for number in (n for n in blocks if n < since):
                block = self._index.archive.block(number)
                if block is not None:
                    logs += decode_logs(block.logs(self._deployment.address), REGISTRY_EVENTS)
        if since <= self._w3.eth.block_number:
            query = {"address": self._deployment.address, "fromBlock": hex(since), "toBlock": "latest"}
            logs += decode_logs(rpc(self._w3, "eth_getLogs", [query]), REGISTRY_EVENTS)
        imports = [lg for lg in logs if lg.name == "TitleImported" and int(lg.args["eblId"]) == int(ebl)]
        return bool(imports) and imports[-1].args["lastEntryChecksum"] == "0x" + last.hex()

    def _send(self, fn: object, action: Action, ebl: EblId) -> Operation:
        """Simulate, send from the bridge key and wait for the receipt; answer the final operation."""
        self._require_role()
        assert self._key is not None and self._nonces is not None
        sender = self._key.address
        data = fn._encode_transaction_data()  # type: ignore[attr-defined]
        call = {"from": sender, "to": self._deployment.address, "data": data}
        try:
            self._w3.eth.call(call)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            raise decode_revert(getattr(exc, "data", None)) from None
        with self._send_lock.held():
            if self._send_lock.shared:  # another worker may have sent from the bridge account since
                self._nonces.resync()
            raw = self._key.sign_transaction(
                {
                    "to": self._deployment.address,
                    "data": data,
                    "gas": _BRIDGE_GAS,
                    **self._fees.fields(),
                    "nonce": self._nonces.next(),
                    "chainId": self._deployment.chain_id,
                    "value": 0,
                }
            )
            try:
                tx_hash = self._w3.eth.send_raw_transaction(raw)
            except Exception:
                self._nonces.resync()
                raise
        receipt = self._w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        tx = "0x" + bytes(tx_hash).hex()
        block = int(receipt["blockNumber"])
        if receipt["status"] != 1:
            raise TransactionFailedError(f"bridge transaction {tx} ({action.name}) failed")
        self._titles.head.observe(block)
        barrier = self._titles.index_barrier
        if barrier is not None:
            barrier(block)
        return Operation(tx, action, ebl, "final", tx_hash=tx, block_number=block)


class _Titles(Protocol):
    """What the bridge uses of :class:`~registry.title.service.TitleService`."""

    @property
    def head(self) -> ChainHead: ...

    @property
    def index_barrier(self) -> Callable[[int], object] | None: ...

    def act(
        self,
        org: str,
        action: Action,
        ebl_id: int,
        *,
        party: str | None = None,
        data: bytes = ...,
        options: WriteOptions = ...,
    ) -> Operation: ...


def _platform_bytes(platform: str) -> bytes:
    if not isinstance(platform, str) or not 1 <= len(platform) <= 4 or not platform.isascii():
        raise InvalidRequestError(f"not an eBL platform code (1 to 4 ASCII characters): {platform!r}")
    if any(c.isspace() for c in platform):
        raise InvalidRequestError(f"an eBL platform code has no white space: {platform!r}")
    return platform.encode("ascii")


def _checksum_bytes(value: str, name: str) -> bytes:
    text = value.removeprefix("0x") if isinstance(value, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise InvalidRequestError(f"{name} is not a SHA-256 checksum (64 hex digits): {value!r}")
    raw = bytes.fromhex(text)
    if not any(raw):
        raise InvalidRequestError(f"{name} must not be zero")
    return raw
