"""The indexer's pure fold against the contract tests' rule model (:mod:`tests.contracts.model`).

Hypothesis drives random sequences of issuances, every title action, key rotation, suspension and pause,
by actors that are often the right party and often not, against the model. Every event the model says the
contract emits is encoded as the raw log the contract would write (from the compiled ABI), decoded with
:mod:`registry.chain.events` and folded with :func:`registry.store.indexer.fold.fold`. After every step:

* the folded title state of every eBL (status, kind, carrier, holder, endorsee, nominee, previous holder,
  surrender reason, document hash, predecessor, successor, paper hash, seq) equals the model's, and the
  fold holds exactly the eBLs the model holds (a refused action changes neither);
* folding the step's logs a second time changes nothing (re-applied ranges are idempotent);
* replaying an eBL's recorded events from its issuance (what a rollback does) gives the same state.

The run must fold every kind of title action at least once, so it cannot pass by folding nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Any

from eth_abi import encode
from eth_utils.crypto import keccak
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from registry.chain.abi import signature, type_string
from registry.chain.artifacts import load_artifact
from registry.chain.events import Log, decode_logs
from registry.store.indexer.fold import TitleRow, fold, replay
from registry.types import Action, DocumentKind, Role, Status
from tests.contracts import parties
from tests.contracts.model import SWTP, ZERO, ZERO32, Event, Issued, Model, Revert, Title

# ====================================================================== the model's cast

ORGS = {name: parties.org_address(name) for name in parties.CAST}
ROLES = {ORGS[name]: role for name, role in parties.CAST.items()}
KEYS = {org: [parties.test_key(name, n).address for n in range(2)] for name, org in ORGS.items()}
"""Two keys per organisation: the first registered at onboarding, the second one it may add."""
GOVERNANCE = parties.test_key("fold-governance").address
OUTSIDER_KEY = parties.test_key("fold-outsider").address
CARRIERS = [org for org, role in ROLES.items() if role is Role.CARRIER]
DOCS = [keccak(text=f"fold-doc-{i}") for i in range(16)]
TDRS = [keccak(text=f"fold-tdr-{i}") for i in range(3)]
TITLE_CODES = [int(a) for a in Action if Action.TRANSFER <= a <= Action.SWITCH_TO_PAPER]

ROLE_OF_ACTION = {
    **{int(a): "holder" for a in Action if Action.TRANSFER <= a <= Action.SURRENDER_FOR_AMENDMENT},
    int(Action.NOMINATE): "endorsee",
    **{int(a): "carrier" for a in Action if Action.ACCEPT_SURRENDER <= a <= Action.SWITCH_TO_PAPER},
}
"""Who may take each title action: an actor drawn as ``"right"`` is that party of the eBL."""
NEXT = {
    Status.ACTIVE: [int(a) for a in Action if Action.TRANSFER <= a <= Action.SURRENDER_FOR_AMENDMENT],
    Status.SURRENDER_REQUESTED: [int(Action.ACCEPT_SURRENDER), int(Action.REJECT_SURRENDER)],
    Status.SURRENDERED_FOR_AMENDMENT: [int(Action.VOID), int(Action.AMEND), int(Action.SWITCH_TO_PAPER)],
}
"""The actions an eBL's status admits: a code drawn as None is one of these, so runs reach deep states."""

FOLDED: Counter[Action] = Counter()
"""Title actions folded (ISSUE included) over the whole run, for the coverage check."""

# ====================================================================== model event → raw log → decoded log

_EVENTS = {e["name"]: e for e in load_artifact().abi if e.get("type") == "event"}
_TOPICS = {name: "0x" + keccak(text=signature(e)).hex() for name, e in _EVENTS.items()}


def _arguments(event: Event) -> tuple[str, dict[str, Any]]:
    """The event's name and its ABI arguments by parameter name, as the contract emits them."""
    if isinstance(event, Issued):
        return "Issued", {
            "eblId": event.ebl_id,
            "carrier": event.carrier,
            "holder": event.holder,
            "endorsee": event.endorsee,
            "kind": int(event.kind),
            "documentHash": event.document_hash,
            "tdrHash": event.tdr_hash,
            "predecessor": event.predecessor,
            "actorKey": event.actor_key,
        }
    return "ActionRecorded", {
        "eblId": event.ebl_id,
        "action": int(event.action),
        "actor": event.actor,
        "counterparty": event.counterparty,
        "actorKey": event.actor_key,
        "data": event.data,
        "seq": event.seq,
    }


def raw_log(event: Event, block: int, index: int) -> dict[str, Any]:
    """The ``eth_getLogs`` entry the registry writes for ``event``, encoded from the compiled ABI."""
    name, args = _arguments(event)
    inputs = _EVENTS[name]["inputs"]
    indexed = [p for p in inputs if p["indexed"]]
    data = [p for p in inputs if not p["indexed"]]
    topics = [_TOPICS[name]] + ["0x" + encode([type_string(p)], [args[p["name"]]]).hex() for p in indexed]
    return {
        "address": ZERO,
        "topics": topics,
        "data": "0x" + encode([type_string(p) for p in data], [args[p["name"]] for p in data]).hex(),
        "blockNumber": hex(block),
        "logIndex": hex(index),
        "transactionHash": "0x" + keccak(text=f"tx-{block}").hex(),
        "blockHash": "0x" + keccak(text=f"block-{block}").hex(),
        "removed": False,
    }


# ====================================================================== the model's title, spelled as indexed


def _none(address: str) -> str | None:
    return None if address == ZERO else address


def expected(t: Title) -> dict[str, Any]:
    """The model's title as the index spells it (enum names, ids as decimal strings, zero → None)."""
    return {
        "ebl_id": str(t.ebl_id),
        "status": t.status.name,
        "kind": t.kind.name,
        "carrier": t.carrier,
        "holder": t.holder,
        "endorsee": _none(t.endorsee),
        "nominee": _none(t.nominee),
        "previous_holder": _none(t.previous_holder),
        "surrender_reason": t.reason.name,
        "document_hash": "0x" + t.document_hash.hex(),
        "predecessor": str(t.predecessor) if t.predecessor else None,
        "successor": str(t.successor) if t.successor else None,
        "paper_hash": None if t.paper_hash == ZERO32 else "0x" + t.paper_hash.hex(),
        "seq": t.seq,
    }


FIELDS = tuple(expected(Title(0, DocumentKind.STRAIGHT, ZERO, ZERO, ZERO, ZERO32)))
"""The title fields both the index and the model keep."""


def folded(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a folded row the model also keeps."""
    return {k: row[k] for k in FIELDS}


def stored_event(lg: Log) -> dict[str, Any]:
    """An ``ActionRecorded`` log as the ``ebl_events`` row a rollback replays."""
    args = lg.args
    return {
        "action": Action(args["action"]).dcsa_code,
        "actor": args["actor"],
        "counterparty": args["counterparty"],
        "data": args["data"],
        "seq": args["seq"],
        "block_number": lg.block_number,
    }


# ====================================================================== the state machine

_blocks = itertools.count(1)
_orgs = st.sampled_from(sorted(ORGS.values()))
_ROLES = ["holder", "endorsee", "nominee", "previous_holder", "carrier"]
_CHANGES = ["add key", "revoke key", "suspend", "reinstate", "reinstate", "pause"]
"""Membership changes, weighted so that suspensions and pauses do not last most of a run."""
_party = st.one_of(st.sampled_from([*_ROLES, "zero"]), _orgs)


class FoldAgainstModel(RuleBasedStateMachine):
    """Folds what the model emits, step by step, and compares."""

    def __init__(self) -> None:
        super().__init__()
        keys = {org_keys[0]: org for org, org_keys in KEYS.items()}
        self.model = Model(GOVERNANCE, dict(ROLES), keys)
        self.rows: dict[str, TitleRow] = {}
        self.recorded: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ resolving roles

    def _org(self, role: str, t: Title | None) -> str:
        if role == "zero":
            return ZERO
        if role in ("holder", "endorsee", "nominee", "previous_holder", "carrier"):
            return getattr(t, role) if t is not None else ZERO
        return role

    def _key(self, org: str, revoked: bool) -> str:
        """An active key of ``org`` or, when ``revoked``, one it cannot act with (revoked or never added)."""
        if org not in KEYS:
            return OUTSIDER_KEY
        active = self.model.active_keys(org)
        if revoked or not active:
            unusable = [k for k in KEYS[org] if k not in active]
            return unusable[0] if unusable else active[0]
        return active[0]

    def _title(self, pick: int) -> Title:
        titles = list(self.model.titles.values())
        return titles[-1 - pick % len(titles)]

    # ------------------------------------------------------------------ folding

    def _fold(self, events: list[Event]) -> None:
        block = next(_blocks)
        logs = decode_logs([raw_log(e, block, i) for i, e in enumerate(events)])
        assert [lg.name for lg in logs] == [_arguments(e)[0] for e in events]
        for lg in logs:
            key = str(lg.args["eblId"])
            self.rows[key] = fold(self.rows.get(key), lg, 1_700_000_000 + block)
            if lg.name == "ActionRecorded":
                self.recorded.setdefault(key, []).append(stored_event(lg))
                FOLDED[Action(lg.args["action"])] += 1
            else:
                FOLDED[Action.ISSUE] += 1
        for lg in logs:  # the same range applied again changes nothing
            key = str(lg.args["eblId"])
            assert fold(self.rows[key], lg, 1_700_000_000 + block) is self.rows[key]

    def _run(self, call: Any, *args: Any) -> None:
        try:
            events = call(*args)
        except Revert:
            return  # the model is unchanged, and the chain emits nothing
        self._fold(events)

    # ------------------------------------------------------------------ rules

    @rule(
        carrier=st.sampled_from([*CARRIERS, *CARRIERS, ORGS["bank"]]),
        tdr=st.sampled_from(TDRS),
        doc=st.sampled_from(DOCS),
        issue_to=_orgs,
        endorsee=st.one_of(st.just(ZERO), _orgs),
        kind=st.sampled_from([1, 1, 1, 0, 0, 2]),
    )
    def issue(self, carrier: str, tdr: bytes, doc: bytes, issue_to: str, endorsee: str, kind: int) -> None:
        self._run(self.model.issue, self._key(carrier, False), tdr, doc, issue_to, endorsee, kind)

    @precondition(lambda self: bool(self.model.titles))
    @rule(
        pick=st.one_of(st.just(0), st.integers(0, 64)),
        code=st.one_of(st.none(), st.sampled_from(TITLE_CODES)),
        which=st.sampled_from(range(24)),
        actor=st.one_of(st.just("right"), st.just("right"), st.sampled_from(_ROLES), _orgs),
        revoked=st.booleans(),
        party=_party,
        data=st.sampled_from([ZERO32, SWTP, *DOCS[:6]]),
    )
    def act(
        self, pick: int, code: int | None, which: int, actor: str, revoked: bool, party: str, data: bytes
    ) -> None:
        """A title action on one of the eBLs (most often the newest), by the right party or another."""
        t = self._title(pick)
        ebl_id = t.ebl_id
        if code is None:
            codes = NEXT.get(t.status, TITLE_CODES)
            code = codes[which % len(codes)]
        org = self._org(ROLE_OF_ACTION[code] if actor == "right" else actor, t)
        key = self._key(org, revoked and which == 0)
        self._run(self.model.dispatch, key, code, ebl_id, self._org(party, t), data)
        if self.model.paused:  # a pause lasts one action: long ones would leave little to fold
            self._run(self.model.unpause, GOVERNANCE)

    @precondition(lambda self: any(t.live for t in self.model.titles.values()))
    @rule(pick=st.integers(0, 64), which=st.sampled_from(range(24)), to=_orgs, swtp=st.booleans())
    def legal_act(self, pick: int, which: int, to: str, swtp: bool) -> None:
        """An action the eBL's status admits, by the party entitled to it, with a plausible argument:
        most succeed, so runs reach the deep states (rejections, amendments, switches to paper)."""
        live = [t for t in self.model.titles.values() if t.live]
        t = live[-1 - pick % len(live)]
        codes = NEXT[t.status]
        code = codes[which % len(codes)]
        party, data = to, ZERO32
        if code == Action.TRANSFER and t.kind is DocumentKind.STRAIGHT:
            party = t.endorsee
        elif code == Action.SURRENDER_FOR_AMENDMENT:
            data = SWTP if swtp else DOCS[0]
        elif code == Action.AMEND:
            fresh = [d for d in DOCS if self.model.record_of_document(d) is None]
            party, data = ZERO, fresh[0] if fresh else DOCS[0]
        elif code == Action.SWITCH_TO_PAPER:
            data = keccak(text=f"paper-{t.ebl_id}")
        key = self._key(getattr(t, ROLE_OF_ACTION[code]), False)
        self._run(self.model.dispatch, key, code, t.ebl_id, party, data)

    @rule(
        org=_orgs,
        change=st.sampled_from(_CHANGES),
    )
    def membership(self, org: str, change: str) -> None:
        """Key rotation, suspension and pause: no title event, but they decide what is legal next."""
        if change in ("add key", "revoke key"):
            code = Action.ADD_KEY if change == "add key" else Action.REVOKE_KEY
            self._run(self.model.dispatch, self._key(org, False), int(code), 0, KEYS[org][1], ZERO32)
        elif change in ("suspend", "reinstate"):
            self._run(self.model.suspend if change == "suspend" else self.model.reinstate, GOVERNANCE, org)
        else:
            self._run(self.model.pause if change == "pause" else self.model.unpause, GOVERNANCE)

    # ------------------------------------------------------------------ checks

    @invariant()
    def folded_state_is_the_models(self) -> None:
        assert set(self.rows) == {str(i) for i in self.model.titles}
        for ebl_id, t in self.model.titles.items():
            assert folded(self.rows[str(ebl_id)]) == expected(t)

    @invariant()
    def replay_from_issuance_gives_the_same_state(self) -> None:
        for key, row in self.rows.items():
            assert replay(row, self.recorded.get(key, [])) == row


def test_the_fold_follows_the_contract_rule_model() -> None:
    """Random legal and illegal sequences: the folded title state equals the model's after every step."""
    FOLDED.clear()
    run_state_machine_as_test(
        FoldAgainstModel, settings=settings(max_examples=300, stateful_step_count=60, deadline=None)
    )
    assert set(FOLDED) == {a for a in Action if a <= Action.SWITCH_TO_PAPER}, FOLDED
