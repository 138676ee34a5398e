"""A pure-Python model of the title registry rules, for the stateful property test.

The model mirrors the documented rules (``ITitleRegistry`` / ``IMembership`` NatSpec) check for check,
in the order the contracts apply them, so it predicts not only *whether* a call fails but the exact
custom error and its arguments. Every operation either raises :class:`Revert` before touching any
state, or applies its effects and returns the events it expects the chain to emit. It therefore
doubles as its own "what would happen" oracle: an operation that raises left the model unchanged.

Parties are checksummed addresses. Balances are not stored; they are derived from the titles, so
"ERC-721 ``balanceOf`` equals the number of live eBLs held" is checked against an independent count.

One record per document (MLETR art. 10: an electronic transferable record is *the* authoritative
record of its document). The model keeps no document index: which record carries a document is
read off the records themselves (:meth:`Model.record_of_document`). A document is identified by its
hash for good, so a hash any record carries, of any carrier and in any status, can never be issued
or amended to again; a hash only ever *tried* (a refused issuance) stays free. An amendment is a
new document, and so is a paper bill brought back to electronic form (its change-of-medium
statement changes the hash), so nothing ever needs a hash freed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from eth_abi import encode
from eth_utils import keccak

from registry.types import Action, DocumentKind, OrgStatus, Role, Status, SurrenderReason

__all__ = [
    "ADMIN_ROLE",
    "FAR_FUTURE",
    "PAUSER_ROLE",
    "SWTP",
    "ZERO",
    "ZERO32",
    "Issued",
    "KeyStatus",
    "Model",
    "Recorded",
    "Revert",
    "Title",
    "ebl_id_of",
    "successor_id_of",
]

ZERO = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32
SWTP = b"SWTP".ljust(32, b"\x00")
"""The DCSA reason code that turns a surrender for amendment into a switch to paper."""
ADMIN_ROLE = ZERO32
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
FAR_FUTURE = 2**255
"""A signature deadline that never expires."""

TITLE_ACTION_CODES = range(int(Action.TRANSFER), int(Action.START_EXPORT) + 1)
"""Action codes a signed ``TitleAction`` may carry (``Issue`` has its own signed struct; the bridge's
CLOSE_EXPORT, CANCEL_EXPORT and IMPORT_TITLE are never signed)."""
CROSS_PLATFORM_ROLE = keccak(text="CROSS_PLATFORM_ROLE")
NO_PLATFORM = b"\x00" * 4


class KeyStatus(IntEnum):
    """Standing of a signing key (``TitleTypes.KeyStatus``)."""

    NONE = 0
    ACTIVE = 1
    REVOKED = 2


class Revert(Exception):
    """The model's prediction that a call reverts with custom error ``name(*values)``."""

    def __init__(self, name: str, *values: object) -> None:
        super().__init__(name, *values)
        self.name = name
        self.values = values

    def __str__(self) -> str:
        return f"{self.name}{self.values!r}"


def ebl_id_of(carrier: str, tdr_hash: bytes) -> int:
    """``eblIdOf``: keccak256(abi.encode(carrier organisation, tdrHash))."""
    return int.from_bytes(keccak(encode(["address", "bytes32"], [carrier, tdr_hash])), "big")


def successor_id_of(ebl_id: int) -> int:
    """Id of the amended reissue of ``ebl_id``: keccak256(abi.encode(eblId))."""
    return int.from_bytes(keccak(encode(["uint256"], [ebl_id])), "big")


@dataclass(frozen=True)
class Recorded:
    """An expected ``ActionRecorded`` event."""

    ebl_id: int
    action: Action
    actor: str
    counterparty: str
    actor_key: str
    data: bytes
    seq: int


@dataclass(frozen=True)
class Issued:
    """An expected ``Issued`` event."""

    ebl_id: int
    carrier: str
    holder: str
    endorsee: str
    kind: DocumentKind
    document_hash: bytes
    tdr_hash: bytes
    predecessor: int
    actor_key: str


Event = Recorded | Issued


@dataclass
class Org:
    """A member organisation."""

    address: str
    role: Role
    status: OrgStatus = OrgStatus.ACTIVE
    keys: list[str] = field(default_factory=list)
    """Every key ever registered for it, in registration order (revoked ones included)."""


@dataclass
class Title:
    """One eBL title record, fields as ``titleOf`` returns them."""

    ebl_id: int
    kind: DocumentKind
    carrier: str
    holder: str
    endorsee: str
    document_hash: bytes
    status: Status = Status.ACTIVE
    reason: SurrenderReason = SurrenderReason.NONE
    nominee: str = ZERO
    previous_holder: str = ZERO
    endorsable: bool = False
    blank: bool = False
    amended: bool = False
    rejectable: bool = False
    seq: int = 0
    predecessor: int = 0
    successor: int = 0
    paper_hash: bytes = ZERO32
    export_platform: bytes = NO_PLATFORM
    export_envelope: bytes = ZERO32

    @property
    def live(self) -> bool:
        """Held here: not ended (terminal) and not held on another platform (Exported)."""
        return self.status.is_held_here

    @property
    def entitled(self) -> bool:
        """The holder may deal with title: it is the consignee / endorsee, or the bill is blank-endorsed."""
        return self.blank or self.endorsee == self.holder


def platform_of(party: str) -> bytes:
    """The platform code a signed StartExport carries in ``party`` (4 bytes left-aligned, rest zero)."""
    raw = bytes.fromhex(party[2:])
    if raw[:4] == NO_PLATFORM or any(raw[4:]):
        raise Revert("BridgeInvalidPlatform", party)
    return raw[:4]


def imported_id_of(carrier: str, carrier_ref: bytes, tdr_hash: bytes) -> int:
    """The id of a bill new here arriving from another platform (``importedEblIdOf``)."""
    if carrier != ZERO:
        return ebl_id_of(carrier, tdr_hash)
    raw = encode(["address", "bytes32", "bytes32"], [ZERO, carrier_ref, tdr_hash])
    return int.from_bytes(keccak(raw), "big")


class CrossPlatform:
    """The PINT rules, mixed into :class:`Model`: written from the law (a bill has exactly one holder
    across platforms), then checked against the contract's order of checks."""

    def start_export(self: Model, key: str, ebl_id: int, platform: bytes, envelope: bytes) -> list[Event]:
        if envelope == ZERO32:
            raise Revert("TitleZeroHash")
        org, t = self._holder_action(key, ebl_id)
        t.status = Status.EXPORT_PENDING
        t.nominee = ZERO
        t.rejectable = False
        t.export_platform, t.export_envelope = platform, envelope
        seq = self._commit(t)
        return [Recorded(ebl_id, Action.START_EXPORT, org, ZERO, key, envelope, seq)]

    def start_export_direct(
        self: Model, key: str, ebl_id: int, platform: bytes, envelope: bytes
    ) -> list[Event]:
        """``startExport(eblId, platform, envelopeChecksum)`` sent by the holder's key itself."""
        if platform == NO_PLATFORM:
            raise Revert("BridgeInvalidPlatform", ZERO)
        return self.start_export(key, ebl_id, platform, envelope)

    def end_export(self: Model, sender: str, ebl_id: int, accepted: bool, response: bytes) -> list[Event]:
        self._only_role(sender, CROSS_PLATFORM_ROLE)
        self._require_not_paused()
        if accepted and response == ZERO32:
            raise Revert("TitleZeroHash")
        t = self._existing(ebl_id)
        if t.status is not Status.EXPORT_PENDING:
            raise Revert("TitleWrongStatus", ebl_id, t.status)
        seq = self._commit(t)
        if accepted:
            t.status = Status.EXPORTED
            self.abroad[t.document_hash] = t.export_platform  # held there now, not here
        else:
            t.status = Status.ACTIVE  # the same holder, who never stopped holding
            t.export_platform, t.export_envelope = NO_PLATFORM, ZERO32
        action = Action.CLOSE_EXPORT if accepted else Action.CANCEL_EXPORT
        return [Recorded(ebl_id, action, ZERO, t.holder, sender, response, seq)]

    def import_title(
        self: Model,
        sender: str,
        doc: bytes,
        tdr: bytes,
        carrier: str,
        carrier_ref: bytes,
        holder: str,
        endorsee: str,
        kind: DocumentKind,
        endorsable: bool,
        blank: bool,
        platform: bytes,
        last: bytes,
    ) -> list[Event]:
        self._only_role(sender, CROSS_PLATFORM_ROLE)
        self._require_not_paused()
        if doc == ZERO32 or last == ZERO32:
            raise Revert("TitleZeroHash")
        if platform == NO_PLATFORM:
            raise Revert("BridgeInvalidPlatform", ZERO)
        self._active_member(holder)
        existing = self.record_of_document(doc)
        if existing is not None:
            t = self.titles[existing]
            if t.status is not Status.EXPORTED:  # held here (or ended): it cannot arrive
                raise Revert("TitleWrongStatus", existing, t.status)
            ebl_id, record_kind = existing, t.kind
        else:
            if carrier != ZERO:
                c = self._registered(carrier)
                if c.role is not Role.CARRIER:
                    raise Revert("MembershipRoleRequired", carrier, Role.CARRIER)
            ebl_id, record_kind, t = imported_id_of(carrier, carrier_ref, tdr), kind, None
            if ebl_id in self.titles:
                raise Revert("TitleAlreadyIssued", ebl_id)
        to_order = record_kind is DocumentKind.TO_ORDER
        if to_order and blank:
            new_endorsee = ZERO
        else:
            if endorsee == ZERO:
                raise Revert("TitleInvalidCounterparty", ebl_id, endorsee)
            if endorsee != holder:
                self._active_member(endorsee)
            new_endorsee = endorsee
        # effects: from here nothing reverts
        if t is None:
            t = Title(ebl_id, record_kind, carrier, holder, new_endorsee, doc)
            self.titles[ebl_id] = t
            seq = 0
        else:
            t.seq += 1
            seq = t.seq
            t.export_platform, t.export_envelope = NO_PLATFORM, ZERO32
        self.abroad.pop(doc, None)
        t.holder, t.endorsee, t.previous_holder, t.nominee = holder, new_endorsee, ZERO, ZERO
        t.status, t.reason, t.rejectable = Status.ACTIVE, SurrenderReason.NONE, False
        t.blank = to_order and blank
        t.endorsable = to_order and (blank or endorsable)
        return [Recorded(ebl_id, Action.IMPORT_TITLE, ZERO, holder, sender, last, seq)]


class Model(CrossPlatform):
    """Registry state and rules. Methods named after contract functions; ``key`` is the acting key."""

    def __init__(
        self, governance: str, members: dict[str, Role], keys: dict[str, str], bridge: str = ZERO
    ) -> None:
        """``members``: organisation → role; ``keys``: each organisation's initial key → organisation;
        ``bridge``: the registry's bridge key (CROSS_PLATFORM_ROLE)."""
        self.governance = governance
        self.bridge = bridge
        self.abroad: dict[bytes, bytes] = {}
        """The law's other side: document → the platform holding the bill while it is not held here."""
        self.orgs: dict[str, Org] = {org: Org(org, role) for org, role in members.items()}
        self.keys: dict[str, tuple[str, KeyStatus]] = {}
        for key, org in keys.items():
            self.keys[key] = (org, KeyStatus.ACTIVE)
            self.orgs[org].keys.append(key)
        self.titles: dict[int, Title] = {}
        self.paused = False
        self.used_nonces: set[tuple[str, int]] = set()

    # ------------------------------------------------------------------ derived views

    def fingerprint(self) -> tuple[object, ...]:
        """Everything the model holds, comparable: proves that a predicted revert changed nothing."""
        return (
            tuple(tuple(vars(t).values()) for t in self.titles.values()),
            tuple((o.status, len(o.keys)) for o in self.orgs.values()),
            tuple(self.keys.items()),
            len(self.used_nonces),
            self.paused,
            tuple(self.abroad.items()),
        )

    def possession(self) -> dict[int, str | None]:
        """Holder of every eBL while it is live (None once terminal): what ERC-721 ``ownerOf`` shows."""
        return {i: (t.holder if t.live else None) for i, t in self.titles.items()}

    def balance_of(self, org: str) -> int:
        """Number of live eBLs ``org`` holds (ERC-721 ``balanceOf``)."""
        return sum(1 for t in self.titles.values() if t.live and t.holder == org)

    def record_of_document(self, doc_hash: bytes) -> int | None:
        """The record that carries this document, if any: at most one ever does (MLETR art. 10)."""
        carrying = [t.ebl_id for t in self.titles.values() if t.document_hash == doc_hash]
        assert len(carrying) <= 1, f"model bug: {len(carrying)} records carry document {doc_hash.hex()}"
        return carrying[0] if carrying else None

    def _require_new_document(self, doc_hash: bytes) -> None:
        """A document becomes a record once: the one authoritative record of it may already exist,
        live or ended, by this carrier or another."""
        existing = self.record_of_document(doc_hash)
        if existing is not None:
            raise Revert("TitleDuplicateDocument", doc_hash, existing)

    def key_status(self, key: str) -> KeyStatus:
        return self.keys.get(key, (ZERO, KeyStatus.NONE))[1]

    def active_keys(self, org: str) -> list[str]:
        return [k for k in self.orgs[org].keys if self.key_status(k) is KeyStatus.ACTIVE]

    # ------------------------------------------------------------------ shared checks

    def _require_not_paused(self) -> None:
        if self.paused:
            raise Revert("EnforcedPause")

    def _actor(self, key: str) -> str:
        """Acting key → its active organisation (``Membership._actor``)."""
        org, status = self.keys.get(key, (ZERO, KeyStatus.NONE))
        if status is not KeyStatus.ACTIVE:
            raise Revert("MembershipUnauthorizedKey", key)
        if self.orgs[org].status is not OrgStatus.ACTIVE:
            raise Revert("MembershipOrganisationNotActive", org)
        return org

    def _registered(self, org: str) -> Org:
        if org not in self.orgs:
            raise Revert("MembershipUnknownOrganisation", org)
        return self.orgs[org]

    def _active_member(self, org: str) -> Org:
        o = self._registered(org)
        if o.status is not OrgStatus.ACTIVE:
            raise Revert("MembershipOrganisationNotActive", org)
        return o

    def _existing(self, ebl_id: int) -> Title:
        if ebl_id not in self.titles:
            raise Revert("TitleUnknownEbl", ebl_id)
        return self.titles[ebl_id]

    def _live(self, ebl_id: int) -> Title:
        t = self._existing(ebl_id)
        if t.status is not Status.ACTIVE:
            raise Revert("TitleWrongStatus", ebl_id, t.status)
        return t

    def _holder_action(self, key: str, ebl_id: int) -> tuple[str, Title]:
        self._require_not_paused()
        org = self._actor(key)
        t = self._live(ebl_id)
        if t.holder != org:
            raise Revert("TitleNotHolder", ebl_id, org)
        return org, t

    def _carrier_action(self, key: str, ebl_id: int, required: Status) -> tuple[str, Title]:
        self._require_not_paused()
        org = self._actor(key)
        t = self._existing(ebl_id)
        if t.status is not required:
            raise Revert("TitleWrongStatus", ebl_id, t.status)
        if t.carrier != org:
            raise Revert("TitleNotIssuingCarrier", ebl_id, org)
        return org, t

    @staticmethod
    def _commit(t: Title) -> int:
        """Every recorded action bumps the sequence; terminal records are never written again."""
        assert t.live, f"model bug: writing terminal eBL {t.ebl_id:#x}"
        t.seq += 1
        return t.seq

    # ------------------------------------------------------------------ issuance

    def issue(
        self, key: str, tdr_hash: bytes, doc_hash: bytes, issue_to: str, endorsee: str, kind: int
    ) -> list[Event]:
        """``issue`` / the issuance part of ``issueSigned``."""
        self._require_not_paused()
        carrier = self._actor(key)
        if self.orgs[carrier].role is not Role.CARRIER:
            raise Revert("MembershipRoleRequired", carrier, Role.CARRIER)
        if doc_hash == ZERO32:
            raise Revert("TitleZeroHash")
        if kind > DocumentKind.TO_ORDER:
            raise Revert("TitleInvalidKind", kind)
        ebl_id = ebl_id_of(carrier, tdr_hash)
        if ebl_id in self.titles:
            raise Revert("TitleAlreadyIssued", ebl_id)
        self._require_new_document(doc_hash)
        self._active_member(issue_to)
        if kind == DocumentKind.STRAIGHT:
            if endorsee == ZERO:
                raise Revert("TitleInvalidCounterparty", ebl_id, ZERO)
            self._active_member(endorsee)
        else:
            if endorsee == ZERO:
                endorsee = issue_to
            if endorsee != issue_to:
                self._active_member(endorsee)
        kind = DocumentKind(kind)
        self.titles[ebl_id] = Title(
            ebl_id,
            kind,
            carrier,
            holder=issue_to,
            endorsee=endorsee,
            document_hash=doc_hash,
            endorsable=kind is DocumentKind.TO_ORDER,
        )
        return [Issued(ebl_id, carrier, issue_to, endorsee, kind, doc_hash, tdr_hash, 0, key)]

    # ------------------------------------------------------------------ holder actions

    def transfer_possession(self, key: str, ebl_id: int, to: str) -> list[Event]:
        """TRANSFER: holder only; a straight bill only to its consignee."""
        org, t = self._holder_action(key, ebl_id)
        self._active_member(to)
        if to == t.holder:
            raise Revert("TitleInvalidCounterparty", ebl_id, to)
        if t.kind is DocumentKind.STRAIGHT and to != t.endorsee:
            raise Revert("TitleStraightBillRecipient", ebl_id, to)
        t.previous_holder, t.holder = t.holder, to
        t.nominee = ZERO
        t.rejectable = True
        return [Recorded(ebl_id, Action.TRANSFER, org, to, key, ZERO32, self._commit(t))]

    def endorse(self, key: str, ebl_id: int, endorsee: str, mode: Action) -> list[Event]:
        """ENDORSE, ENDORSE_TO_ORDER or BLANK_ENDORSE of a to-order bill."""
        org, t = self._holder_action(key, ebl_id)
        if t.kind is not DocumentKind.TO_ORDER:
            raise Revert("TitleNotEndorsable", ebl_id)
        if mode is Action.BLANK_ENDORSE:
            endorsee = ZERO
        else:
            self._active_member(endorsee)
            if endorsee == t.endorsee:
                raise Revert("TitleInvalidCounterparty", ebl_id, endorsee)
        if t.entitled:
            if not t.endorsable:
                raise Revert("TitleNotEndorsable", ebl_id)
        elif t.nominee == ZERO or endorsee != t.nominee:
            raise Revert("TitleNotEntitled", ebl_id, org)
        t.endorsee = endorsee
        if mode is Action.BLANK_ENDORSE:
            t.blank, t.endorsable = True, True
        elif mode is Action.ENDORSE_TO_ORDER:
            t.blank, t.endorsable = False, True
        else:
            t.blank, t.endorsable = False, False
        t.rejectable = False
        t.nominee = ZERO
        return [Recorded(ebl_id, mode, org, endorsee, key, ZERO32, self._commit(t))]

    def nominate(self, key: str, ebl_id: int, nominee: str) -> list[Event]:
        """NOMINATE: the endorsee of an endorsable, not blank-endorsed bill names the next endorsee."""
        self._require_not_paused()
        org = self._actor(key)
        t = self._live(ebl_id)
        if t.kind is not DocumentKind.TO_ORDER or not t.endorsable or t.blank:
            raise Revert("TitleNotEndorsable", ebl_id)
        if t.endorsee != org:
            raise Revert("TitleNotEndorsee", ebl_id, org)
        if nominee != ZERO:
            self._active_member(nominee)
        t.nominee = nominee
        if t.holder == org:
            t.rejectable = False  # a holder that nominates has acted on the bill: it can no longer reject
        return [Recorded(ebl_id, Action.NOMINATE, org, nominee, key, ZERO32, self._commit(t))]

    def reject_transfer(self, key: str, ebl_id: int) -> list[Event]:
        """REJECT: the holder returns possession it has just received to the sender."""
        org, t = self._holder_action(key, ebl_id)
        if not t.rejectable:
            raise Revert("TitleNothingToReject", ebl_id)
        sender = t.previous_holder
        self._active_member(sender)  # possession never moves to a suspended organisation
        t.holder, t.previous_holder = sender, org
        t.nominee = ZERO
        t.rejectable = False
        return [Recorded(ebl_id, Action.REJECT, org, sender, key, ZERO32, self._commit(t))]

    def request_surrender(self, key: str, ebl_id: int, action: Action, reason_code: bytes) -> list[Event]:
        """SURRENDER_FOR_DELIVERY (entitled holder) or SURRENDER_FOR_AMENDMENT (holder)."""
        org, t = self._holder_action(key, ebl_id)
        if action is Action.SURRENDER_FOR_DELIVERY:
            if not t.entitled:
                raise Revert("TitleNotEntitled", ebl_id, org)
            reason = SurrenderReason.DELIVERY
        else:
            reason = SurrenderReason.SWITCH_TO_PAPER if reason_code == SWTP else SurrenderReason.AMENDMENT
        self._active_member(t.carrier)  # possession goes to the issuing carrier
        t.reason = reason
        t.previous_holder, t.holder = t.holder, t.carrier
        t.status = Status.SURRENDER_REQUESTED
        t.nominee = ZERO
        t.rejectable = False
        return [Recorded(ebl_id, action, org, t.carrier, key, reason_code, self._commit(t))]

    # ------------------------------------------------------------------ carrier actions

    def accept_surrender(self, key: str, ebl_id: int) -> list[Event]:
        """SACC: delivery ends the record; an amendment / switch-to-paper request waits for the carrier."""
        org, t = self._carrier_action(key, ebl_id, Status.SURRENDER_REQUESTED)
        seq = self._commit(t)
        if t.reason is SurrenderReason.DELIVERY:
            t.status = Status.SURRENDERED
        else:
            t.status = Status.SURRENDERED_FOR_AMENDMENT
        return [Recorded(ebl_id, Action.ACCEPT_SURRENDER, org, t.previous_holder, key, ZERO32, seq)]

    def reject_surrender(self, key: str, ebl_id: int) -> list[Event]:
        """SREJ: possession returns to the requester."""
        org, t = self._carrier_action(key, ebl_id, Status.SURRENDER_REQUESTED)
        requester = t.previous_holder
        self._active_member(requester)
        t.holder, t.previous_holder = requester, t.carrier
        t.status = Status.ACTIVE
        t.reason = SurrenderReason.NONE
        return [Recorded(ebl_id, Action.REJECT_SURRENDER, org, requester, key, ZERO32, self._commit(t))]

    def void_ebl(self, key: str, ebl_id: int) -> list[Event]:
        """VOID an eBL surrendered for amendment, without reissue."""
        org, t = self._carrier_action(key, ebl_id, Status.SURRENDERED_FOR_AMENDMENT)
        if t.reason is not SurrenderReason.AMENDMENT:
            raise Revert("TitleWrongSurrenderReason", ebl_id)
        seq = self._commit(t)
        t.status = Status.VOIDED
        return [Recorded(ebl_id, Action.VOID, org, ZERO, key, ZERO32, seq)]

    def amend(self, key: str, ebl_id: int, doc_hash: bytes, endorsee: str) -> list[Event]:
        """AMEND: void and reissue the amended document to the party that surrendered it."""
        if doc_hash == ZERO32:
            raise Revert("TitleZeroHash")
        org, t = self._carrier_action(key, ebl_id, Status.SURRENDERED_FOR_AMENDMENT)
        if t.reason is not SurrenderReason.AMENDMENT:
            raise Revert("TitleWrongSurrenderReason", ebl_id)
        self._require_new_document(doc_hash)  # the predecessor's own document included
        if endorsee != ZERO:
            self._active_member(endorsee)
        elif t.endorsee != ZERO:
            self._active_member(t.endorsee)  # the kept consignee / endorsee must still receive title
        self._active_member(t.previous_holder)  # the party that surrendered it receives the reissue
        new_id = successor_id_of(ebl_id)
        assert new_id not in self.titles, "amendment successor id reused"
        seq = self._commit(t)
        t.status = Status.VOIDED
        t.successor = new_id
        n = Title(
            new_id,
            t.kind,
            t.carrier,
            holder=t.previous_holder,
            endorsee=t.endorsee if endorsee == ZERO else endorsee,
            document_hash=doc_hash,
            amended=True,
            predecessor=ebl_id,
        )
        if endorsee == ZERO:
            n.endorsable, n.blank = t.endorsable, t.blank
        else:
            n.endorsable = t.kind is DocumentKind.TO_ORDER
        self.titles[new_id] = n
        return [
            Recorded(ebl_id, Action.AMEND, org, n.holder, key, new_id.to_bytes(32, "big"), seq),
            Issued(new_id, t.carrier, n.holder, n.endorsee, n.kind, doc_hash, ZERO32, ebl_id, key),
        ]

    def switch_to_paper(self, key: str, ebl_id: int, paper_hash: bytes) -> list[Event]:
        """SWTP: an eBL surrendered with reason SWTP is replaced by paper."""
        if paper_hash == ZERO32:
            raise Revert("TitleZeroHash")
        org, t = self._carrier_action(key, ebl_id, Status.SURRENDERED_FOR_AMENDMENT)
        if t.reason is not SurrenderReason.SWITCH_TO_PAPER:
            raise Revert("TitleWrongSurrenderReason", ebl_id)
        seq = self._commit(t)
        t.status = Status.SWITCHED_TO_PAPER
        t.paper_hash = paper_hash
        return [Recorded(ebl_id, Action.SWITCH_TO_PAPER, org, t.previous_holder, key, paper_hash, seq)]

    # ------------------------------------------------------------------ keys and governance

    def add_key(self, key: str, new_key: str) -> list[Event]:
        """An organisation adds a signing key (never one used before, by anyone)."""
        org = self._actor(key)
        if new_key == ZERO:
            raise Revert("MembershipZeroAddress")
        if self.key_status(new_key) is not KeyStatus.NONE:
            raise Revert("MembershipKeyExists", new_key)
        self.keys[new_key] = (org, KeyStatus.ACTIVE)
        self.orgs[org].keys.append(new_key)
        return []

    def revoke_key(self, key: str, old_key: str) -> list[Event]:
        """An organisation revokes one of its active keys, never its last one."""
        org = self._actor(key)
        owner, status = self.keys.get(old_key, (ZERO, KeyStatus.NONE))
        if owner != org or status is not KeyStatus.ACTIVE:
            raise Revert("MembershipKeyNotOwned", org, old_key)
        if len(self.active_keys(org)) == 1:
            raise Revert("MembershipLastKey", org, old_key)
        self.keys[old_key] = (org, KeyStatus.REVOKED)
        return []

    def _only_role(self, sender: str, role: bytes) -> None:
        holder = self.bridge if role == CROSS_PLATFORM_ROLE else self.governance
        if sender != holder:
            raise Revert("AccessControlUnauthorizedAccount", sender, role)

    def suspend(self, sender: str, org: str) -> list[Event]:
        self._only_role(sender, ADMIN_ROLE)
        o = self._registered(org)
        if o.status is not OrgStatus.ACTIVE:
            raise Revert("MembershipOrganisationNotActive", org)
        o.status = OrgStatus.SUSPENDED
        return []

    def reinstate(self, sender: str, org: str) -> list[Event]:
        self._only_role(sender, ADMIN_ROLE)
        o = self._registered(org)
        if o.status is OrgStatus.ACTIVE:
            raise Revert("MembershipOrganisationExists", org)
        o.status = OrgStatus.ACTIVE
        return []

    def pause(self, sender: str) -> list[Event]:
        self._only_role(sender, PAUSER_ROLE)
        if self.paused:
            raise Revert("EnforcedPause")
        self.paused = True
        return []

    def unpause(self, sender: str) -> list[Event]:
        self._only_role(sender, PAUSER_ROLE)
        if not self.paused:
            raise Revert("ExpectedPause")
        self.paused = False
        return []

    # ------------------------------------------------------------------ signatures

    def invalidate_nonce(self, sender: str, nonce: int) -> list[Event]:
        """Anyone may burn one of its own nonces (no membership needed, available while paused)."""
        self._use_nonce(sender, nonce)
        return []

    def _use_nonce(self, signer: str, nonce: int) -> None:
        if (signer, nonce) in self.used_nonces:
            raise Revert("TitleNonceUsed", signer, nonce)
        self.used_nonces.add((signer, nonce))

    def _check_signature(self, signer: str, nonce: int, deadline: int, now: int, signature_ok: bool) -> None:
        if now > deadline:
            raise Revert("TitleExpiredSignature", deadline)
        if not signature_ok:
            raise Revert("TitleInvalidSignature", signer)
        if (signer, nonce) in self.used_nonces:
            raise Revert("TitleNonceUsed", signer, nonce)

    def execute(
        self,
        signer: str,
        code: int,
        ebl_id: int,
        party: str,
        data: bytes,
        nonce: int,
        deadline: int,
        now: int,
        signature_ok: bool,
    ) -> list[Event]:
        """``execute`` / one ``executeBatch`` entry: deadline, signature, nonce, then the action.

        The nonce is spent only if the whole action succeeds (a failing entry rolls back alone).
        """
        self._check_signature(signer, nonce, deadline, now, signature_ok)
        events = self.dispatch(signer, code, ebl_id, party, data)
        self._use_nonce(signer, nonce)
        return events

    def issue_signed(
        self,
        signer: str,
        tdr_hash: bytes,
        doc_hash: bytes,
        issue_to: str,
        endorsee: str,
        kind: int,
        nonce: int,
        deadline: int,
        now: int,
        signature_ok: bool,
    ) -> list[Event]:
        """``issueSigned``: the same nonce space as signed title actions."""
        self._check_signature(signer, nonce, deadline, now, signature_ok)
        events = self.issue(signer, tdr_hash, doc_hash, issue_to, endorsee, kind)
        self._use_nonce(signer, nonce)
        return events

    def dispatch(self, key: str, code: int, ebl_id: int, party: str, data: bytes) -> list[Event]:
        """Run action ``code`` for ``key`` (what both the direct functions and signed actions do)."""
        if code not in TITLE_ACTION_CODES:
            raise Revert("TitleInvalidAction", code)
        action = Action(code)
        match action:
            case Action.TRANSFER:
                return self.transfer_possession(key, ebl_id, party)
            case Action.ENDORSE | Action.ENDORSE_TO_ORDER | Action.BLANK_ENDORSE:
                return self.endorse(key, ebl_id, party, action)
            case Action.NOMINATE:
                return self.nominate(key, ebl_id, party)
            case Action.REJECT:
                return self.reject_transfer(key, ebl_id)
            case Action.SURRENDER_FOR_DELIVERY:
                return self.request_surrender(key, ebl_id, action, ZERO32)
            case Action.SURRENDER_FOR_AMENDMENT:
                return self.request_surrender(key, ebl_id, action, data)
            case Action.ACCEPT_SURRENDER:
                return self.accept_surrender(key, ebl_id)
            case Action.REJECT_SURRENDER:
                return self.reject_surrender(key, ebl_id)
            case Action.VOID:
                return self.void_ebl(key, ebl_id)
            case Action.AMEND:
                return self.amend(key, ebl_id, data, party)
            case Action.SWITCH_TO_PAPER:
                return self.switch_to_paper(key, ebl_id, data)
            case Action.ADD_KEY:
                return self.add_key(key, party)
            case Action.REVOKE_KEY:
                return self.revoke_key(key, party)
            case _:
                return self.start_export(key, ebl_id, platform_of(party), data)
