"""Offline verification of an audit bundle (:mod:`registry.proofs.bundle`): no node, no registry server.

In order, each failure a :class:`~registry.proofs.errors.BundleError` (or
:class:`~registry.proofs.errors.HeaderError`) whose ``reason`` names the check:

1. ``header`` / ``header_chain`` -- every header hashes to its block hash and is the parent of the next;
2. the trust root, one or both of:
   ``head_signature`` -- (given a JWK set) the head JWS verifies under it and names the newest header,
   this chain, registry and eBL;
   ``validator_set`` / ``commit_seals`` -- (given a QBFT validator set, :mod:`registry.proofs.seals`)
   every header's hash is the QBFT block hash, it lists the trusted set and a quorum of it sealed it;
   then no registry signature is needed;
3. per action: ``transaction`` -- the raw transaction hashes to ``txHash`` and is proven at ``txIndex``
   against the block's ``transactionsRoot``; ``receipt_proof`` -- the receipt is proven against its
   ``receiptsRoot`` and succeeded; ``event`` -- the receipt's log at ``receiptLogIndex`` is the
   registry's ``ActionRecorded`` for this eBL with exactly the stated action, actor, counterparty,
   acting key and sequence;
   ``action_key`` (and ``account_proof`` / ``storage_proof``) -- the ``keyProof`` shows the acting key
   registered to the acting organisation in the state of the action's block
   (:mod:`registry.proofs.key_proofs`);
   ``action_signature`` -- when the transaction is a relayed batch, the entry for the action is signed
   (EIP-712, the registry's domain) by the acting key (:mod:`registry.proofs.signed_actions`);
4. ``custody`` -- each actor was entitled at that moment (:mod:`registry.proofs.custody`);
5. ``document`` -- the document hashes to the ``documentHash`` of the proven ``Issued`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain.events import REGISTRY_EVENTS
from registry.documents import document_hash
from registry.errors import RegistryError
from registry.proofs.bundle import BUNDLE_TYPE, HEAD_TYPE
from registry.proofs.custody import Custody
from registry.proofs.errors import AttestationError, BundleError, ProofError, ProofReason
from registry.proofs.headers import Header
from registry.proofs.key_proofs import prove_key
from registry.proofs.receipts import decode_receipt, verify_indexed
from registry.proofs.seals import ValidatorTrust, verify_sealed
from registry.proofs.signed_actions import signed_entry
from registry.proofs.verify import _signed_payload
from registry.types import Action

__all__ = ["TimelineEntry", "VerifiedBundle", "verify_bundle"]

_BY_CODE = {a.dcsa_code: a for a in Action}
_TOPICS = {spec.name: topic for topic, spec in REGISTRY_EVENTS.items()}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One proven action, in DCSA words."""

    seq: int
    action: str
    actor: str | None
    counterparty: str | None
    actor_key: str | None
    block_number: int
    timestamp: int
    tx_hash: str

    def line(self) -> str:
        to = f" -> {self.counterparty}" if self.counterparty else ""
        return f"#{self.seq} block {self.block_number} t={self.timestamp} {self.action} {self.actor}{to}"


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """What a verified bundle proves."""

    ebl_id: int
    head: Header
    first: Header
    timeline: list[TimelineEntry]
    holder: str
    status: str
    kid: str | None
    """The attestation key that signed the head (None: not checked, the trust is QBFT seals only)."""
    unchecked: list[int] = field(default_factory=list)
    signed: int = 0
    """How many actions carried an EIP-712 signature (a relayed batch entry) that recovered to the key."""
    predecessor: int | None = None
    """The eBL this one amends (the proven ``Issued`` event's ``predecessor``), if any."""
    successor: int | None = None
    """The eBL that amends this one (the proven AMEND action's ``data``), if any."""
    trust: str = "registry signature"
    """What the headers' trust rests on: ``"registry signature (key K)"``, ``"QBFT seals of 4 validators
    ..."``, or both."""
    votes: list[str] = field(default_factory=list)
    """(QBFT) validator votes seen in the headers that did not change the set."""
    keys_proven: int = 0
    """How many acting keys the state of their block shows active for the acting organisation."""
    key_notes: list[str] = field(default_factory=list)
    """Acting keys revoked (or organisations suspended) by the end of their block: maybe after acting."""


def _refuse(reason: ProofReason, message: str) -> BundleError:
    return BundleError(message, reason)


def _get(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str = "bundle") -> Any:
    value = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _refuse("malformed", f"{where}: {name!r} is missing or of the wrong type")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or value != value.lower():
        raise _refuse("malformed", f"{what} is not lower-case 0x-hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise _refuse("malformed", f"{what} is not hex") from None


def _headers(
    bundle: Mapping[str, Any], jwks: Mapping[str, Any] | None, trust: ValidatorTrust | None
) -> tuple[dict[str, Header], Header, str | None, list[str], list[str]]:
    raw = _get(bundle, "headers", list)
    if not raw:
        raise _refuse("malformed", "the bundle has no headers")
    headers = [Header.from_json(h, qbft=True if trust is not None else None) for h in raw]
    for given, header in zip(raw, headers, strict=True):
        if given != header.to_json():  # one spelling only: no case or other variant goes unnoticed
            raise _refuse("header", f"header {header.number} is not in its canonical form")
    for older, newer in pairwise(headers):
        if newer.parent_hash != older.hash or newer.number != older.number + 1:
            raise _refuse("header_chain", f"header {newer.number} does not link to {older.hash}")
    newest = headers[-1]
    roots: list[str] = []
    votes: list[str] = []
    if trust is not None:
        try:
            trust.check_chain(bundle.get("chainId"))
            votes = verify_sealed(headers, trust).votes
        except ProofError as exc:
            raise _refuse(exc.reason, str(exc)) from None
        roots.append(trust.describe())
    kid = None
    if jwks is not None:
        kid = _check_head(bundle, jwks, newest)
        roots.append(f"registry signature (key {kid})")
    return {h.hash: h for h in headers}, newest, kid, roots, votes


def _check_head(bundle: Mapping[str, Any], jwks: Mapping[str, Any], newest: Header) -> str:
    try:
        head, kid, _alg = _signed_payload(_get(bundle, "head", str), jwks, HEAD_TYPE)
    except AttestationError as exc:
        raise _refuse("head_signature", f"the signed head: {exc}") from None
    stated = (bundle.get("chainId"), str(bundle.get("registry")), bundle.get("eblId"))
    if (head.get("hash"), head.get("number")) != (newest.hash, newest.number) or (
        head.get("chainId"),
        head.get("registry"),
        head.get("eblId"),
    ) != stated:
        raise _refuse("head_signature", "the signed head is not this bundle's newest header, chain or eBL")
    if head.get("actionCount") != len(_get(bundle, "actions", list)):
        raise _refuse("head_signature", "the signed head counts another number of actions (one is missing?)")
    return kid


def _check_action(
    a: Mapping[str, Any], headers: Mapping[str, Header], registry: str, ebl_id: int, where: str
) -> tuple[Header, dict[str, Any], dict[str, Any] | None]:
    header = headers.get(str(a.get("blockHash")))
    if header is None or header.number != a.get("blockNumber"):
        raise _refuse("header_chain", f"{where}: its block is not among the linked headers")
    index = _get(a, "txIndex", int, where)
    raw_tx = _bytes(a.get("rawTransaction"), f"{where} rawTransaction")
    if "0x" + keccak(raw_tx).hex() != _get(a, "txHash", str, where):
        raise _refuse("transaction", f"{where}: the raw transaction does not hash to txHash")
    tx_nodes = [_bytes(n, f"{where} proof node") for n in _get(a, "transactionProof", list, where)]
    root = bytes.fromhex(header.field("transactionsRoot")[2:])
    if verify_indexed(root, index, tx_nodes, "transaction", where) != raw_tx:
        raise _refuse("transaction", f"{where}: the proven transaction is not the raw transaction given")
    nodes = [_bytes(n, f"{where} proof node") for n in _get(a, "receiptProof", list, where)]
    value = verify_indexed(header.receipts_root, index, nodes, "receipt_proof", where)
    if value != _bytes(a.get("receipt"), f"{where} receipt"):
        raise _refuse("receipt_proof", f"{where}: the proven receipt is not the receipt given")
    receipt = decode_receipt(value, where)
    if receipt.status != 1:
        raise _refuse("receipt_proof", f"{where}: the transaction failed")
    logs = [lg for lg in receipt.logs if lg.address.lower() == registry.lower()]
    issued = None
    for lg in logs:
        if lg.topics and lg.topics[0] == _TOPICS["Issued"]:
            args = REGISTRY_EVENTS[lg.topics[0]].decode(lg.topics, lg.data)
            if args["eblId"] == ebl_id:
                issued = args
    position = _get(a, "receiptLogIndex", int, where)
    if not 0 <= position < len(receipt.logs):
        raise _refuse("event", f"{where}: the receipt has no log {position}")
    log = receipt.logs[position]
    spec = REGISTRY_EVENTS.get(log.topics[0]) if log.topics else None
    if (
        log.address.lower() != registry.lower()
        or spec is None
        or spec.name not in ("ActionRecorded", "Issued")
    ):
        raise _refuse("event", f"{where}: log {position} is not the registry's ActionRecorded or Issued")
    args = spec.decode(log.topics, log.data)
    if spec.name == "Issued":  # the index records issuance from Issued, as seq 0, carrier to first holder
        args = {**args, "action": int(Action.ISSUE), "actor": args["carrier"], "counterparty": args["holder"]}
        args["seq"] = 0
    return header, args, issued


def verify_bundle(
    bundle: Any, jwks: Mapping[str, Any] | None = None, *, validators: ValidatorTrust | None = None
) -> VerifiedBundle:
    """Check an audit bundle offline (see the module docstring for the checks, in order). The trust
    root is the registry's signature over the head (``jwks``), the QBFT validators' commit seals on
    every header (``validators``), or both; at least one must be given.

    Raises:
        ProofError: a check failed; ``reason`` says which.
    """
    if jwks is None and validators is None:
        raise _refuse("malformed", "nothing to trust the headers by: give a JWK set or a validator set")
    if isinstance(bundle, Mapping) and bundle.get("type") == "ebl-audit-bundle/1":
        raise _refuse(
            "malformed",
            "an ebl-audit-bundle/1 predates the proofs of each acting key; "
            f"fetch the bundle again as {BUNDLE_TYPE}",
        )
    if not isinstance(bundle, Mapping) or bundle.get("type") != BUNDLE_TYPE:
        raise _refuse("malformed", f"not an {BUNDLE_TYPE}")
    try:
        ebl_id = int(_get(bundle, "eblId", str))
        registry = to_checksum_address(_get(bundle, "registry", str))
    except ValueError:
        raise _refuse("malformed", "eblId or registry is malformed") from None
    headers, newest, kid, roots, votes = _headers(bundle, jwks, validators)
    actions = _get(bundle, "actions", list)
    custody: Custody | None = None
    timeline: list[TimelineEntry] = []
    doc_hash = None
    predecessor: int | None = None
    signed_count = 0
    keys_proven = 0
    key_notes: list[str] = []
    successor: int | None = None
    for i, a in enumerate(actions):
        where = f"action {i}"
        if not isinstance(a, Mapping):
            raise _refuse("malformed", f"{where} is not an object")
        header, args, issued = _check_action(a, headers, registry, ebl_id, where)
        action = _BY_CODE.get(str(a.get("action")))
        stated = (action, a.get("actor"), a.get("counterparty"), a.get("actorKey"), a.get("seq"))
        proven = (Action(args["action"]), args["actor"], args["counterparty"], args["actorKey"], args["seq"])
        if args["eblId"] != ebl_id or stated != proven:
            raise _refuse("event", f"{where}: the proven event is {proven}, not {stated}")
        if args["actor"] is not None:
            if "keyProof" not in a:  # null says the builder's node no longer held the state; absent is a cut
                raise _refuse("account_proof", f"{where}: no keyProof")
            try:
                note = prove_key(header, registry, args["actor"], args["actorKey"], a.get("keyProof"), where)
            except ProofError as exc:
                raise _refuse(exc.reason, str(exc)) from None
            keys_proven += note is None
            key_notes += [] if note is None else [note]
        signed = signed_entry(
            _bytes(a["rawTransaction"], where),
            registry=registry,
            chain_id=_get(bundle, "chainId", int),
            ebl_id=ebl_id,
            action=proven[0],
            actor_key=args["actorKey"],
            where=where,
            doc_hash=issued["documentHash"] if issued is not None and proven[0] is Action.ISSUE else None,
            amends=(issued["predecessor"] or None)
            if issued is not None and proven[0] is Action.ISSUE
            else None,
        )
        if signed is not None:
            signed_count += 1
        if args["seq"] != i:
            raise _refuse("event", f"{where}: its sequence number is {args['seq']} (an action is missing)")
        if issued is not None and custody is None:
            custody = Custody(issued["carrier"], issued["holder"], issued["endorsee"], issued["kind"])
            doc_hash = issued["documentHash"]
            predecessor = issued["predecessor"] or None
        if custody is None:
            raise _refuse("custody", f"{where}: the bill's issuance is not the first action proven")
        custody.apply(args["seq"], proven[0], args["actor"], args["counterparty"])
        if proven[0] is Action.AMEND:
            successor = int(args["data"], 16)
        timeline.append(
            TimelineEntry(
                args["seq"],
                proven[0].dcsa_code,
                args["actor"],
                args["counterparty"],
                args["actorKey"],
                header.number,
                header.timestamp,
                str(a["txHash"]),
            )
        )
    if custody is None:
        raise _refuse("custody", "the bundle proves no issuance")
    try:
        computed = document_hash(bundle.get("document"))
    except RegistryError:
        raise _refuse("document", "the document is not a valid document") from None
    if "0x" + computed != doc_hash:
        raise _refuse("document", f"the document hashes to {computed}, not to the issued {doc_hash}")
    return VerifiedBundle(
        ebl_id,
        newest,
        headers[str(actions[0]["blockHash"])],
        timeline,
        custody.holder,
        custody.status,
        kid,
        custody.unchecked,
        signed_count,
        predecessor,
        successor,
        " and ".join(roots),
        votes,
        keys_proven,
        key_notes,
    )
