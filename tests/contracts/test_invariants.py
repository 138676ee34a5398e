"""Stateful property test of the title registry against a pure-Python model of its rules.

Hypothesis drives random sequences of every operation (issue, all holder and carrier title actions,
key rotation, suspension, pause, signed actions, batches, nonce cancellation) by random actors:
the holder, the endorsee, the carrier, members with nothing to do with the eBL, revoked or never
registered keys, governance and the non-member outsider. Each step predicts the outcome with
:mod:`tests.contracts.model` (success with its events, or the exact custom error and arguments),
performs it on the real anvil chain and compares.

Checked at every step:

* outcome: the exact custom error, or success with exactly the predicted ``Issued`` /
  ``ActionRecorded`` / ``BatchEntryFailed`` events (actor organisation and the key that authorised
  it included: only an active key of the entitled organisation ever moves title; governance and the
  outsider never do) and ERC-721 ``Transfer`` events;
* every eBL's full ``titleOf`` view equals the model's: status, holder (a member, exactly one while
  live), endorsee, carrier, nominee, flags, sequence, the document hash recorded at issuance (never
  changes, LR-10), predecessor / successor links, paper hash; terminal eBLs never change again;
* ERC-721 ``ownerOf`` / ERC-5192 ``locked`` (holder while live, ``TitleWrongStatus`` once terminal),
  ``balanceOf`` of every member and non-member = the model's count of live eBLs held;
* one record per document (MLETR art. 10): no two records the chain holds carry the same document
  hash, live or ended (so no two live ones do); ``eblIdOfDocument`` names, for every hash the example
  drew, the record carrying it, or zero for a hash only tried; three carriers issue fresh documents,
  copies of any record's document (their own or another carrier's, live or ended) and hashes that
  were refused before, and amendments draw those too;
* ids are never reused (``TitleAlreadyIssued``; amendment successor ids are fresh); used or cancelled
  nonces stay used (replays fail with ``TitleNonceUsed``), failed ones stay free (``nonceUsed``);
* organisation status and active key count, key records after key or governance steps, ``paused``.

Speed: the registry is driven through a minimal keep-alive JSON-RPC client, with raw transactions
signed locally (nonces tracked per key) and every post-step read in one JSON-RPC batch. Expected
failures are checked by ``eth_call`` (exact revert data); one in ten is also sent for real and must
be mined with status 0 and leave the chain unchanged. Each Hypothesis example runs in its own
``evm_snapshot`` / ``evm_revert``.

Step budget: see :mod:`tests.hypothesis_profiles` (``ci`` 10,000 steps, ``long`` 200,000); the test
asserts that at least that many steps ran and prints the throughput.

Known divergences between the contracts and their NatSpec are pinned by the plain ``xfail`` tests at
the end of this module; the model follows the contracts there (see comments in the model).
"""

from __future__ import annotations

import http.client
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlparse

import pytest
from eth_abi import decode, encode
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils import keccak, to_checksum_address
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import Web3

from registry.chain.build import load_artifact
from registry.chain.errors import decode_revert, type_string
from registry.types import Action, DocumentKind, OrgStatus, Role, Status, SurrenderReason
from tests import hypothesis_profiles
from tests.conftest import deploy_onboarded
from tests.contracts import parties
from tests.contracts.model import (
    FAR_FUTURE,
    SWTP,
    ZERO,
    ZERO32,
    Event,
    Issued,
    KeyStatus,
    Model,
    Recorded,
    Revert,
    Title,
    ebl_id_of,
    successor_id_of,
)
from tests.support.chains import TestChain, new_chain

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GAS = 1_000_000
BATCH_GAS = 4_000_000
GAS_PRICE = 5 * 10**9
EXPIRED = 1_000
"""A signature deadline long past (block timestamps follow the wall clock)."""
KEYS_PER_ORG = 4
"""Pool keys per member organisation: key 0 is registered at onboarding, the others may be added."""
TDRS_PER_CARRIER = 2
"""Transport document references a carrier draws from, so eBLs per example stay few and TDRs repeat."""

# ====================================================================== JSON-RPC and ABI plumbing


class RpcError(Exception):
    """A JSON-RPC error that is not a revert."""


class Rpc:
    """Minimal keep-alive JSON-RPC client: web3's middleware stack costs more than anvil itself."""

    def __init__(self, url: str) -> None:
        u = urlparse(url)
        self._conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=60)

    def close(self) -> None:
        self._conn.close()

    def _post(self, payload: object) -> Any:
        self._conn.request("POST", "/", json.dumps(payload), {"Content-Type": "application/json"})
        return json.loads(self._conn.getresponse().read())

    def request(self, method: str, *params: object) -> Any:
        """One call; raises :class:`RpcError` on an error response."""
        reply = self._post({"jsonrpc": "2.0", "id": 0, "method": method, "params": list(params)})
        if "error" in reply:
            raise RpcError(f"{method}: {reply['error']}")
        return reply["result"]

    def batch(self, calls: Sequence[tuple[str, list[object]]]) -> list[dict[str, Any]]:
        """Many calls in one HTTP round trip; the raw replies (``result`` or ``error``), in order."""
        if not calls:
            return []
        payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        replies: list[dict[str, Any]] = self._post(payload)
        return sorted(replies, key=lambda r: int(r["id"]))


class Abi:
    """Calldata encoding and event decoding for the registry, straight from the compiled ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._fns: dict[str, tuple[bytes, list[str]]] = {}
        for entry in abi:
            if entry["type"] == "function" and entry["name"] not in self._fns:
                types = [type_string(p) for p in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                self._fns[entry["name"]] = (selector, types)
        topics = {
            e["name"]: keccak(text=f"{e['name']}({','.join(type_string(p) for p in e['inputs'])})")
            for e in abi
            if e["type"] == "event"
        }
        self.topic_recorded = topics["ActionRecorded"]
        self.topic_issued = topics["Issued"]
        self.topic_batch_failed = topics["BatchEntryFailed"]
        self.topic_transfer = topics["Transfer"]

    def calldata(self, name: str, *args: object) -> str:
        selector, types = self._fns[name]
        return "0x" + (selector + encode(types, list(args))).hex()


@cache
def checksum(hex_address: str) -> str:
    """Checksummed form of a lower-case hex address (cached: checksumming hashes)."""
    return to_checksum_address(hex_address)


def _word_address(word: bytes) -> str:
    return checksum("0x" + word[12:].hex())


def _word_int(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _words(data: bytes) -> list[bytes]:
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def _revert_of(error: dict[str, Any]) -> Revert:
    """An ``eth_call`` error reply → the decoded custom error as a :class:`Revert` ("" = no data)."""
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it
        data = data.get("data")
    if error.get("code") != 3 and not data:
        raise RpcError(f"not a revert: {error}")
    decoded = decode_revert(data or "0x")
    name = getattr(decoded, "error_name", "")
    values = tuple(getattr(decoded, "args_by_name", {}).values())
    return Revert(name, *values)


def _same_revert(actual: Revert, expected: Revert) -> bool:
    return actual.name == expected.name and tuple(actual.values) == tuple(expected.values)


# ====================================================================== chain driver


class Chain:
    """Sends raw transactions signed with local keys (nonces tracked here) and makes calls."""

    def __init__(self, rpc: Rpc, registry: str, abi: Abi, keys: Sequence[LocalAccount]) -> None:
        self.rpc = rpc
        self.registry = registry
        self.abi = abi
        self.keys: dict[str, LocalAccount] = {str(k.address): k for k in keys}
        self.chain_id = int(rpc.request("eth_chainId"), 16)
        self.nonces: dict[str, int] = {}

    def snapshot(self) -> str:
        return str(self.rpc.request("evm_snapshot"))

    def revert(self, snapshot: str) -> None:
        assert self.rpc.request("evm_revert", snapshot) is True

    def reload_nonces(self) -> None:
        """Re-read every key's account nonce (``evm_revert`` rewinds them)."""
        replies = self.rpc.batch([("eth_getTransactionCount", [a, "latest"]) for a in self.keys])
        self.nonces = {a: int(r["result"], 16) for a, r in zip(self.keys, replies, strict=True)}

    def send(self, sender: str, data: str, gas: int = GAS) -> dict[str, Any]:
        """Sign, send and wait for the receipt (anvil automines) of a call to the registry."""
        tx: dict[str, Any] = {
            "to": self.registry,
            "data": data,
            "gas": gas,
            "gasPrice": GAS_PRICE,
            "nonce": self.nonces[sender],
            "chainId": self.chain_id,
            "value": 0,
        }
        raw = self.keys[sender].sign_transaction(tx).raw_transaction
        tx_hash = self.rpc.request("eth_sendRawTransaction", "0x" + raw.hex())
        self.nonces[sender] += 1
        while (receipt := self.rpc.request("eth_getTransactionReceipt", tx_hash)) is None:
            pass
        return dict(receipt)

    def call(self, sender: str, data: str) -> Revert | None:
        """``eth_call`` from ``sender``: the revert it would hit, or None if it would succeed."""
        reply = self.rpc.batch(
            [("eth_call", [{"from": sender, "to": self.registry, "data": data}, "latest"])]
        )[0]
        return _revert_of(reply["error"]) if "error" in reply else None

    def view_calls(self, calls: Sequence[str]) -> list[dict[str, Any]]:
        """Many registry views in one JSON-RPC batch; raw replies in order."""
        return self.rpc.batch([("eth_call", [{"to": self.registry, "data": c}, "latest"]) for c in calls])

    def events(self, receipt: dict[str, Any]) -> list[tuple[object, ...]]:
        """The registry's ActionRecorded / Issued / BatchEntryFailed events of a receipt, comparable."""
        out: list[tuple[object, ...]] = []
        for log in receipt["logs"]:
            if log["address"].lower() != self.registry.lower():
                continue
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            data = bytes.fromhex(log["data"][2:])
            w = _words(data)
            if topics[0] == self.abi.topic_recorded:
                out.append(
                    _event(
                        Recorded(
                            _word_int(topics[1]),
                            Action(_word_int(topics[2])),
                            _word_address(topics[3]),
                            _word_address(w[0]),
                            _word_address(w[1]),
                            w[2],
                            _word_int(w[3]),
                        )
                    )
                )
            elif topics[0] == self.abi.topic_issued:
                out.append(
                    _event(
                        Issued(
                            _word_int(topics[1]),
                            _word_address(topics[2]),
                            _word_address(topics[3]),
                            _word_address(w[0]),
                            DocumentKind(_word_int(w[1])),
                            w[2],
                            w[3],
                            _word_int(w[4]),
                            _word_address(w[5]),
                        )
                    )
                )
            elif topics[0] == self.abi.topic_batch_failed:
                nonce, reason = decode(["uint256", "bytes"], data)
                failed = _revert_of({"code": 3, "data": "0x" + reason.hex()})
                out.append(_failed(_word_int(topics[1]), _word_address(topics[2]), nonce, failed))
        return out

    def transfers(self, receipt: dict[str, Any]) -> list[tuple[str, str, int]]:
        """The registry's ERC-721 ``Transfer(from, to, tokenId)`` events of a receipt."""
        out = []
        for log in receipt["logs"]:
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            if log["address"].lower() == self.registry.lower() and topics[0] == self.abi.topic_transfer:
                out.append((_word_address(topics[1]), _word_address(topics[2]), _word_int(topics[3])))
        return out


def _event(e: Event) -> tuple[object, ...]:
    return (type(e).__name__, *vars(e).values())


def _failed(index: int, signer: str, nonce: int, error: Revert) -> tuple[object, ...]:
    return ("BatchEntryFailed", index, signer, nonce, error.name, tuple(error.values))


# ====================================================================== what Hypothesis draws

MEMBERS = tuple(parties.CAST)
"""Member organisation names: carrier, other_carrier, shipper, bank, consignee, buyer."""

OTHER_ACTORS = ("endorsee", "nominee", "previous", "member", "any-key", "governance", "outsider")
ACTOR_RELATIONS = ("holder", "carrier", *OTHER_ACTORS)
"""Who acts, relative to the target eBL ("member": any member org, "any-key": any key of the pool,
registered or not). An organisation acts through one of its registered keys, revoked ones included."""
LIKELY_ACTOR = {
    **dict.fromkeys((Action.NOMINATE,), "endorsee"),
    **dict.fromkeys(
        (Action.ACCEPT_SURRENDER, Action.REJECT_SURRENDER, Action.VOID, Action.AMEND, Action.SWITCH_TO_PAPER),
        "carrier",
    ),
}
"""The party entitled to act (holder unless listed), drawn half of the time so that life cycles progress."""
NEEDED_STATUS = {
    **dict.fromkeys((Action.ACCEPT_SURRENDER, Action.REJECT_SURRENDER), Status.SURRENDER_REQUESTED),
    **dict.fromkeys((Action.VOID, Action.AMEND, Action.SWITCH_TO_PAPER), Status.SURRENDERED_FOR_AMENDMENT),
}
"""Status an action needs (Active unless listed): half of the eBL picks prefer eBLs in it."""
NEXT_ACTIONS = {
    Status.ACTIVE: (
        Action.TRANSFER,
        Action.ENDORSE,
        Action.ENDORSE_TO_ORDER,
        Action.BLANK_ENDORSE,
        Action.NOMINATE,
        Action.REJECT,
        Action.SURRENDER_FOR_DELIVERY,
        Action.SURRENDER_FOR_AMENDMENT,
        Action.START_EXPORT,
    ),
    Status.EXPORT_PENDING: (Action.CLOSE_EXPORT, Action.CANCEL_EXPORT),  # a member's try: refused
    Status.SURRENDER_REQUESTED: (Action.ACCEPT_SURRENDER, Action.REJECT_SURRENDER),
    Status.SURRENDERED_FOR_AMENDMENT: (Action.VOID, Action.AMEND, Action.SWITCH_TO_PAPER),
}
"""Actions that can move a live eBL on from its status (the life-cycle rule draws among them)."""

PARTY_RELATIONS = (
    "endorsee",
    "endorsee",
    "endorsee",
    "holder",
    *MEMBERS,
    "nominee",
    "carrier",
    "previous",
    "outsider",
    "governance",
    "a-key",
    "zero",
)
"""Counterparty, relative to the target eBL; "a-key" is a member's key address (not an organisation)."""

KEY_TARGETS = ("own-next", "own-other", "own-self", "pool", "zero")
"""Key named by addKey / revokeKey: the acting org's next unused pool key, another of its keys ..."""

DATA_CHOICES = ("fresh", "SWTP", "COD", "SWI", "zero", "swtp", "issued", "tried")
"""bytes32 payload: a fresh hash, DCSA reason codes ("swtp" lower case is not SWTP), zero, the document
of some record ("issued": an amendment to it must be refused) or a hash drawn before that no record
carries ("tried": still free)."""

SIG_MODES = (
    "valid",
    "valid",
    "valid",
    "expired",
    "wrong-key",
    "malleated",
    "garbage",
    "bad-action",
    "replay",
    "resubmit",
)
"""How a signed action is made: expired deadline, signed by another key, high-s twin of a valid
signature, garbage bytes, a code that is no TitleAction ("bad-action"), an exact replay of a used
signature, or the resubmission of one that failed (its nonce is still unused)."""

TITLE_ACTIONS = tuple(a for a in Action if a is not Action.ISSUE)
PLATFORMS = (b"WAVE", b"BOLE", b"IDT\0")
"""Other platforms' DCSA codes, as bytes4."""

real_send = st.sampled_from((False,) * 9 + (True,))
"""Whether an expected failure is also sent as a real transaction (1 in 10)."""


class Signed(NamedTuple):
    """A ``SignedAction`` or ``SignedIssuance`` as the ABI encodes it: struct, signer, signature."""

    struct: tuple[Any, ...]
    signer: str
    signature: bytes


Prepared = tuple[Signed, Callable[[], "list[Event]"]]
"""A signed action and the model call that predicts its outcome (run when it is submitted)."""


@dataclass(frozen=True)
class OpSpec:
    """A title or key action as drawn: relations, resolved against the model when it runs."""

    action: Action
    actor: str
    ebl: int
    party: str
    data: str
    index: int
    send_failure: bool
    target: int | None = None
    """A fixed eBL id instead of ``ebl`` (set by the life-cycle rule, never drawn)."""


@dataclass(frozen=True)
class SignedSpec:
    """An action to sign, how to sign it, and which nonce (None: the signer's lowest unused)."""

    op: OpSpec
    mode: str
    nonce: int | None


@dataclass(frozen=True)
class IssueSpec:
    """An issuance as drawn."""

    actor: str
    index: int
    tdr: int
    doc: str
    issue_to: str
    endorsee: str
    kind: int
    send_failure: bool


def ops(*actions: Action) -> st.SearchStrategy[OpSpec]:
    """Strategy for one of ``actions`` by a random actor on a random eBL with a random counterparty.

    Half of the draws pick the party entitled to act, the rest anyone (including illegal actors).
    """
    key_actions = {Action.ADD_KEY, Action.REVOKE_KEY}
    return st.sampled_from(actions).flatmap(
        lambda a: st.builds(
            OpSpec,
            action=st.just(a),
            actor=st.sampled_from((LIKELY_ACTOR.get(a, "holder"),) * len(ACTOR_RELATIONS) + ACTOR_RELATIONS),
            ebl=st.integers(0, 7),
            party=st.sampled_from(KEY_TARGETS if a in key_actions else PARTY_RELATIONS),
            data=st.sampled_from(DATA_CHOICES),
            index=st.integers(0, 63),
            send_failure=real_send,
        )
    )


signed_specs = st.builds(
    SignedSpec,
    op=ops(*TITLE_ACTIONS),
    mode=st.sampled_from(SIG_MODES),
    nonce=st.one_of(st.none(), st.integers(0, 5), st.integers(0, 2**256 - 1)),
)

CARRIERS = ("carrier", "other_carrier", "third_carrier")
DOC_CHOICES = ("fresh",) * 6 + ("copy",) * 3 + ("tried", "zero")
"""Issued document: a fresh hash, a copy of some record's document (any carrier's, any status), a hash
drawn before that no record carries, or zero."""
issue_parties = st.sampled_from((*MEMBERS, *MEMBERS, "outsider", "governance", "a-key", "zero"))
issue_specs = st.builds(
    IssueSpec,
    actor=st.sampled_from((*CARRIERS, *CARRIERS, "member", "any-key", "governance")),
    index=st.integers(0, 63),
    tdr=st.integers(0, TDRS_PER_CARRIER - 1),
    doc=st.sampled_from(DOC_CHOICES),
    issue_to=issue_parties,
    endorsee=st.sampled_from(("zero", *MEMBERS, "outsider")),
    kind=st.sampled_from((DocumentKind.TO_ORDER, DocumentKind.STRAIGHT) * 6 + (2,)),
    send_failure=real_send,
)
first_issue_specs = st.builds(
    IssueSpec,
    actor=st.sampled_from(CARRIERS),
    index=st.just(0),
    tdr=st.just(0),
    doc=st.just("fresh"),
    issue_to=st.sampled_from(MEMBERS),
    endorsee=st.sampled_from(("zero",) * 4 + MEMBERS),
    kind=st.sampled_from((DocumentKind.TO_ORDER, DocumentKind.STRAIGHT)),
    send_failure=st.just(False),
)
"""A valid first issuance, so that no example wastes its steps on a registry without eBLs."""
governance_actors = st.sampled_from(("governance", "governance", "governance", "member", "outsider"))
unpausers = st.sampled_from(("governance",) * 4 + ("member",))


# ====================================================================== environment and statistics


@dataclass
class Env:
    """Everything the state machine needs from the pytest fixtures."""

    chain: Chain
    abi: Abi
    governance: LocalAccount
    outsider: parties.Party
    members: dict[str, parties.Party]
    pool: list[LocalAccount]
    """Every key that may act: each member's pool keys, governance, the outsider."""
    org_pool: dict[str, list[str]]
    """Organisation address → its pool key addresses (only key 0 is registered at onboarding)."""
    bridge: LocalAccount | None = None
    """The registry's bridge key (CROSS_PLATFORM_ROLE): ends exports, records arriving bills."""


@dataclass
class Stats:
    """What the run did, printed at the end (and the step count asserted)."""

    steps: int = 0
    examples: int = 0
    lengths: Counter[int] = field(default_factory=Counter)
    """Examples by number of steps run."""
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.__dict__.update(vars(Stats()))

    def record(self, label: str, error: Revert | None) -> None:
        self.outcomes[f"{label}:{'ok' if error is None else error.name}"] += 1


STATS = Stats()


# ====================================================================== the state machine


class RegistryMachine(RuleBasedStateMachine):
    """Random operations by random actors; the chain must behave exactly like the model."""

    env: ClassVar[Env]

    def __init__(self) -> None:
        super().__init__()
        env = self.env
        self.chain = env.chain
        self.snapshot = self.chain.snapshot()
        self.chain.reload_nonces()
        self.model = Model(
            governance=env.governance.address,
            members={p.org: p.role for p in env.members.values()},
            keys={p.address: p.org for p in env.members.values()},
            bridge=env.bridge.address if env.bridge is not None else ZERO,
        )
        self.fresh = 0
        self.drawn: list[bytes] = []
        """Every fresh hash drawn in this example (documents, paper hashes, payloads), in order."""
        self.used_signed: list[Prepared] = []
        self.failed_signed: list[Prepared] = []
        self.used_issuances: list[Prepared] = []
        self.touched_nonces: set[tuple[str, int]] = set()
        self.membership_dirty = True
        self.terminal_views: dict[int, tuple[object, ...]] = {}
        self.ever_issued: set[int] = set()
        self.pending_transfers: list[tuple[str, str, int]] = []
        STATS.examples += 1
        self.steps_before = STATS.steps

    def teardown(self) -> None:
        STATS.lengths[STATS.steps - self.steps_before] += 1
        self.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ resolving what was drawn

    def _fresh_hash(self) -> bytes:
        self.fresh += 1
        drawn = keccak(text=f"doc-{self.fresh}")
        self.drawn.append(drawn)
        return drawn

    def _document(self, choice: str, index: int) -> bytes:
        """A document hash: fresh, zero, a copy of the document some record carries ("copy" /
        "issued"), or one drawn before that no record carries ("tried"); fresh when there is none."""
        if choice == "zero":
            return ZERO32
        if choice in ("copy", "issued"):
            carried = [t.document_hash for t in self.model.titles.values()]
            if carried:
                return carried[index % len(carried)]
        if choice == "tried":
            free = [h for h in self.drawn if self.model.record_of_document(h) is None]
            if free:
                return free[index % len(free)]
        return self._fresh_hash()

    def _data(self, choice: str, index: int = 0) -> bytes:
        if choice in ("fresh", "issued", "tried"):
            return self._document(choice, index)
        if choice == "zero":
            return ZERO32
        if choice == "SWTP":
            return SWTP
        return choice.encode().ljust(32, b"\x00")

    def _ebl(self, index: int, action: Action | None = None) -> int:
        """A known eBL (newest first), or, for index 7 (or none known), an id that was never issued.

        Indexes 0-3 prefer eBLs in the status ``action`` needs, if there are any.
        """
        ids = list(self.model.titles)
        if action is not None and index < 4:
            needed = NEEDED_STATUS.get(action, Status.ACTIVE)
            ready = [i for i in ids if self.model.titles[i].status is needed]
            if ready:
                return ready[-1 - index % len(ready)]
        if ids and index < 7:
            return ids[-1 - index % len(ids)]
        if ids and self.fresh % 2 and successor_id_of(ids[0]) not in self.model.titles:
            return successor_id_of(ids[0])  # the would-be amendment of a live eBL
        return ebl_id_of(self.env.members["carrier"].org, keccak(text="never issued"))

    def _related_org(self, relation: str, title: Title | None, index: int) -> str | None:
        if title is not None and relation in ("holder", "endorsee", "nominee", "carrier", "previous"):
            org = {
                "holder": title.holder,
                "endorsee": title.endorsee,
                "nominee": title.nominee,
                "carrier": title.carrier,
                "previous": title.previous_holder,
            }[relation]
            return org if org != ZERO else None
        if relation in self.env.members:
            return self.env.members[relation].org
        if relation == "member":
            return self.env.members[MEMBERS[index % len(MEMBERS)]].org
        return None

    def _actor_key(self, relation: str, title: Title | None, index: int) -> str:
        """The acting key: one of the related organisation's registered keys (revoked ones too)."""
        if relation == "governance":
            return self.env.governance.address
        if relation == "outsider":
            return self.env.outsider.address
        if relation == "any-key":
            return self.env.pool[index % len(self.env.pool)].address
        org = self._related_org(relation, title, index)
        if org is None:  # no such party for this eBL: some member
            org = self.env.members[MEMBERS[index % len(MEMBERS)]].org
        keys = self.model.orgs[org].keys
        return keys[index % len(keys)]

    def _party(self, relation: str, title: Title | None, index: int) -> str:
        if relation == "zero":
            return ZERO
        if relation == "outsider":
            return self.env.outsider.org
        if relation == "governance":
            return self.env.governance.address
        if relation == "a-key":
            return self.env.members[MEMBERS[index % len(MEMBERS)]].address
        org = self._related_org(relation, title, index)
        if org is None:
            return self.env.members[MEMBERS[index % len(MEMBERS)]].org
        return org

    def _key_target(self, relation: str, actor_key: str, index: int) -> str:
        model = self.model
        org = model.keys.get(actor_key, (None, None))[0]
        if relation == "zero":
            return ZERO
        if relation == "own-self":
            return actor_key
        if org is not None and relation == "own-next":
            unused = [k for k in self.env.org_pool[org] if model.key_status(k) is KeyStatus.NONE]
            if unused:
                return unused[0]
        if org is not None and relation == "own-other":
            others = [k for k in model.active_keys(org) if k != actor_key]
            if others:
                return others[index % len(others)]
        # Any member pool key. Not governance's or the outsider's: an organisation *may* register
        # those (nothing forbids it), after which they would legitimately act for it.
        member_keys = [k for keys in self.env.org_pool.values() for k in keys]
        return member_keys[index % len(member_keys)]

    def _resolve(self, op: OpSpec) -> tuple[str, int, str, bytes]:
        """(acting key, eBL id, counterparty, data) for a drawn operation."""
        ebl_id = self._ebl(op.ebl, op.action) if op.target is None else op.target
        title = self.model.titles.get(ebl_id)
        key = self._actor_key(op.actor, title, op.index)
        if op.action in (Action.ADD_KEY, Action.REVOKE_KEY):
            party = self._key_target(op.party, key, op.index)
        elif op.action is Action.START_EXPORT and op.index % 4:
            party = "0x" + PLATFORMS[op.index % len(PLATFORMS)].ljust(20, b"\0").hex()
        else:
            party = self._party(op.party, title, op.index // 8)
        return key, ebl_id, party, self._data(op.data, op.index)

    # ------------------------------------------------------------------ performing and comparing

    def _predict(self, apply: Callable[[], list[Event]]) -> list[Event] | Revert:
        """Run a model operation: its events (state updated) or the Revert (state untouched)."""
        before, held_before = self.model.fingerprint(), self.model.possession()
        try:
            events = apply()
        except Revert as expected:
            assert self.model.fingerprint() == before, f"model bug: {expected} after a partial update"
            return expected
        # ERC-721 Transfer events follow from the change of possession (mint, move, burn)
        for ebl_id, holder in self.model.possession().items():
            if held_before.get(ebl_id) != holder:
                self.pending_transfers.append((held_before.get(ebl_id) or ZERO, holder or ZERO, ebl_id))
        return events

    def _perform(
        self,
        label: str,
        sender: str,
        calldata: str,
        expected: list[Event] | Revert,
        send_failure: bool,
        gas: int = GAS,
    ) -> None:
        """Do it on chain and compare: real transaction for a success, eth_call (+1/10 real) for a failure."""
        if isinstance(expected, Revert):
            actual = self.chain.call(sender, calldata)
            assert actual is not None, f"{label}: model expects {expected}, the chain accepts it"
            assert _same_revert(actual, expected), f"{label}: model expects {expected}, chain says {actual}"
            if send_failure:
                receipt = self.chain.send(sender, calldata, gas)
                assert receipt["status"] == "0x0", f"{label}: mined despite {expected}"
            STATS.record(label, expected)
            return
        outsiders = (self.env.governance.address, self.env.outsider.address)
        assert all(e.actor_key not in outsiders for e in expected), "governance or the outsider moved title"
        receipt = self.chain.send(sender, calldata, gas)
        if receipt["status"] != "0x1":
            raise AssertionError(
                f"{label}: model expects success, chain reverts {self.chain.call(sender, calldata)}"
            )
        actual_events = self.chain.events(receipt)
        assert actual_events == [_event(e) for e in expected], f"{label}: events differ"
        self._check_transfers(receipt)
        for e in expected:
            if isinstance(e, Issued):
                assert e.ebl_id not in self.ever_issued, "eBL id reused"
                self.ever_issued.add(e.ebl_id)
        STATS.record(label, None)

    def _check_transfers(self, receipt: dict[str, Any]) -> None:
        expected, self.pending_transfers = sorted(self.pending_transfers), []
        assert sorted(self.chain.transfers(receipt)) == expected, "ERC-721 Transfer events differ"

    def _direct(self, op: OpSpec) -> None:
        """A title or key action sent by the acting key itself."""
        key, ebl_id, party, data = self._resolve(op)
        if op.action is Action.START_EXPORT:
            code = bytes.fromhex(party[2:10])
            expected = self._predict(lambda: self.model.start_export_direct(key, ebl_id, code, data))
        elif op.action in (Action.CLOSE_EXPORT, Action.CANCEL_EXPORT):
            accepted = op.action is Action.CLOSE_EXPORT
            expected = self._predict(lambda: self.model.end_export(key, ebl_id, accepted, data))
        elif op.action is Action.IMPORT_TITLE:
            args = (data, data, ZERO, data, party, party, DocumentKind.TO_ORDER, True, False, b"WAVE", data)
            expected = self._predict(lambda: self.model.import_title(key, *args))
        else:
            expected = self._predict(lambda: self.model.dispatch(key, int(op.action), ebl_id, party, data))
        if op.action in (Action.ADD_KEY, Action.REVOKE_KEY):
            self.membership_dirty = True
        self._perform(
            op.action.name,
            key,
            direct_calldata(self.env.abi, op.action, ebl_id, party, data),
            expected,
            op.send_failure,
        )

    def _sign(self, spec: SignedSpec) -> Prepared:
        """A concrete ``SignedAction`` for a drawn spec, with its model prediction (not yet run).

        "replay" / "resubmit" with nothing to replay yet sign a fresh valid action instead.
        """
        if spec.mode == "replay" and self.used_signed:
            return self.used_signed[spec.op.index % len(self.used_signed)]
        if spec.mode == "resubmit" and self.failed_signed:
            return self.failed_signed[spec.op.index % len(self.failed_signed)]
        key, ebl_id, party, data = self._resolve(spec.op)
        code = int(spec.op.action)
        if spec.mode == "bad-action":
            code = (0, 16, 255)[spec.op.index % 3]  # Issue has its own struct; 16+ do not exist
        nonce = spec.nonce
        if nonce is None:
            nonce = next(n for n in range(10**6) if (key, n) not in self.model.used_nonces)
        deadline = EXPIRED if spec.mode == "expired" else FAR_FUTURE
        action = (code, ebl_id, party, data, nonce, deadline)
        digest = self.chain.view_calls([self.env.abi.calldata("digestTitleAction", action)])[0]["result"]
        signature, signature_ok = self._signature(key, bytes.fromhex(digest[2:]), spec.mode, spec.op.index)
        signed = Signed(action, key, signature)
        model = self.model

        def predict() -> list[Event]:
            return model.execute(
                key, code, ebl_id, party, data, nonce, deadline, int(time.time()), signature_ok
            )

        self.touched_nonces.add((key, nonce))
        return signed, predict

    def _effective_mode(self, spec: SignedSpec) -> str:
        """The signing mode actually used (for statistics): replays need something to replay."""
        pool = {"replay": self.used_signed, "resubmit": self.failed_signed}.get(spec.mode)
        return "valid" if pool is not None and not pool else spec.mode

    def _signature(self, signer: str, digest: bytes, mode: str, index: int) -> tuple[bytes, bool]:
        """Signature bytes for ``mode`` and whether the registry must accept them for ``signer``."""
        pool = self.env.pool
        own = self.chain.keys[signer].unsafe_sign_hash(Hash32(digest))
        if mode == "wrong-key":
            other = next(k for k in pool[index % len(pool) :] + pool if k.address != signer)
            return bytes(other.unsafe_sign_hash(Hash32(digest)).signature), False
        if mode == "malleated":  # same signature with s' = n - s: ECDSA.recover refuses high s
            s = SECP256K1_N - own.s
            v = 55 - own.v
            return own.r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v]), False
        if mode == "garbage":
            return bytes([index % 256]) * (65 if index % 2 else 64), False
        return bytes(own.signature), True

    def _record_signed(self, signed: Prepared, outcome: list[Event] | Revert) -> None:
        if isinstance(outcome, Revert):
            if signed not in self.failed_signed and signed not in self.used_signed:
                self.failed_signed.append(signed)
        else:
            if signed in self.failed_signed:
                self.failed_signed.remove(signed)
            self.used_signed.append(signed)

    # ------------------------------------------------------------------ rules: issuance

    def _issue(
        self, spec: IssueSpec, signed_mode: str | None = None, nonce_choice: int | None = None
    ) -> None:
        key = self._actor_key(spec.actor, None, spec.index)
        tdr = keccak(text=f"TDR-{spec.tdr}")
        doc = self._document(spec.doc, spec.index)
        issue_to = self._party(spec.issue_to, None, spec.index // 8)
        endorsee = self._party(spec.endorsee, None, spec.index // 64 + spec.tdr)
        if signed_mode is None:
            if spec.kind > DocumentKind.TO_ORDER:  # not a DocumentKind: the ABI decoder refuses it, no data
                expected: list[Event] | Revert = Revert("")
            else:
                expected = self._predict(
                    lambda: self.model.issue(key, tdr, doc, issue_to, endorsee, spec.kind)
                )
            calldata = self.env.abi.calldata("issue", tdr, doc, issue_to, endorsee, spec.kind)
            self._perform("ISSUE", key, calldata, expected, spec.send_failure)
            return
        # signed issuance: same nonce space as signed title actions
        if signed_mode == "replay" and self.used_issuances:
            signed, predict = self.used_issuances[spec.index % len(self.used_issuances)]
        else:
            nonce = nonce_choice
            if nonce is None:
                nonce = next(n for n in range(10**6) if (key, n) not in self.model.used_nonces)
            deadline = EXPIRED if signed_mode == "expired" else FAR_FUTURE
            issuance = (tdr, doc, issue_to, endorsee, spec.kind, nonce, deadline)
            digest = self.chain.view_calls([self.env.abi.calldata("digestIssuance", issuance)])[0]["result"]
            signature, ok = self._signature(key, bytes.fromhex(digest[2:]), signed_mode, spec.index)
            signed = Signed(issuance, key, signature)
            model = self.model

            def predict() -> list[Event]:
                return model.issue_signed(
                    key, tdr, doc, issue_to, endorsee, spec.kind, nonce, deadline, int(time.time()), ok
                )

            self.touched_nonces.add((key, nonce))
        expected = self._predict(predict)
        relayer = self.env.pool[spec.index % len(self.env.pool)].address
        self._perform(
            "ISSUE_SIGNED", relayer, self.env.abi.calldata("issueSigned", signed), expected, spec.send_failure
        )
        if not isinstance(expected, Revert):
            self.used_issuances.append((signed, predict))

    @initialize(spec=first_issue_specs)
    def first_issue(self, spec: IssueSpec) -> None:
        """Every example starts with a valid issuance by a carrier."""
        STATS.steps += 1
        self._issue(spec)

    @rule(spec=issue_specs)
    def issue(self, spec: IssueSpec) -> None:
        STATS.steps += 1
        self._issue(spec)

    @rule(spec=issue_specs, mode=st.sampled_from(SIG_MODES), nonce=st.one_of(st.none(), st.integers(0, 5)))
    def issue_signed(self, spec: IssueSpec, mode: str, nonce: int | None) -> None:
        STATS.steps += 1
        self._issue(spec, mode, nonce)

    # ------------------------------------------------------------------ rules: title actions sent directly

    @rule(op=ops(Action.TRANSFER))
    def transfer_possession(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.BLANK_ENDORSE))
    def endorse(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.NOMINATE))
    def nominate(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.REJECT))
    def reject_transfer(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.SURRENDER_FOR_DELIVERY))
    def request_surrender_for_delivery(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.SURRENDER_FOR_AMENDMENT))
    def request_surrender_for_amendment(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.ACCEPT_SURRENDER))
    def accept_surrender(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.REJECT_SURRENDER))
    def reject_surrender(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.VOID))
    def void_ebl(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.AMEND))
    def amend(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.SWITCH_TO_PAPER))
    def switch_to_paper(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    # ------------------------------------------------------------------ rules: life cycle

    def _life_cycle_op(self, op: OpSpec) -> OpSpec | None:
        """Re-aim a drawn op at a live eBL with an action its status allows, mostly by the party entitled."""
        live = [t for t in self.model.titles.values() if t.live]
        if not live:
            return None
        title = live[-1 - op.ebl % len(live)]
        choices = NEXT_ACTIONS[title.status]
        action = choices[op.index % len(choices)]
        if op.index % 5 == 0:  # now and then anyone, with any payload
            return replace(op, action=action, target=title.ebl_id)
        if title.status is Status.SURRENDERED_FOR_AMENDMENT:  # the carrier action the reason asks for
            fitting = {SurrenderReason.SWITCH_TO_PAPER: (Action.SWITCH_TO_PAPER,)}
            action = fitting.get(title.reason, (Action.VOID, Action.AMEND))[op.index % 2 - 1]
        data = {"zero": "fresh", "swtp": "SWTP"}.get(op.data, op.data)
        if action is Action.AMEND and op.index % 3 == 0:  # to a document some record carries: refused
            data = "issued"
        actor = LIKELY_ACTOR.get(action, "holder")
        return replace(op, action=action, actor=actor, data=data, target=title.ebl_id)

    @rule(op=ops(Action.TRANSFER))
    def advance_life_cycle(self, op: OpSpec) -> None:
        """The next step of some live eBL's life cycle, sent directly (weights the deep states)."""
        STATS.steps += 1
        aimed = self._life_cycle_op(op)
        self._direct(aimed or op)

    @rule(op=ops(Action.TRANSFER), relayer=st.integers(0, 63))
    def advance_life_cycle_signed(self, op: OpSpec, relayer: int) -> None:
        """The next step of some live eBL's life cycle, as a valid signed action via a relayer."""
        STATS.steps += 1
        aimed = self._life_cycle_op(op)
        self._execute(SignedSpec(aimed or op, "valid", None), relayer)

    # ------------------------------------------------------------------ rules: keys and governance

    @rule(op=ops(Action.ADD_KEY))
    def add_key(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    @rule(op=ops(Action.REVOKE_KEY))
    def revoke_key(self, op: OpSpec) -> None:
        STATS.steps += 1
        self._direct(op)

    def _governance(self, label: str, actor: str, index: int, fn: str, *args: object) -> None:
        sender = self._actor_key(actor, None, index)
        table: dict[str, Callable[..., list[Event]]] = {
            "suspendOrganisation": self.model.suspend,
            "reinstateOrganisation": self.model.reinstate,
            "pause": self.model.pause,
            "unpause": self.model.unpause,
        }
        model_fn = table[fn]
        expected = self._predict(lambda: model_fn(sender, *args))
        self.membership_dirty = True
        self._perform(label, sender, self.env.abi.calldata(fn, *args), expected, index % 10 == 0)

    @rule(actor=governance_actors, org=issue_parties, index=st.integers(0, 63))
    def suspend(self, actor: str, org: str, index: int) -> None:
        STATS.steps += 1
        self._governance("SUSPEND", actor, index, "suspendOrganisation", self._party(org, None, index))

    @rule(
        actor=st.sampled_from(("governance",) * 4 + ("member",)),
        org=st.sampled_from(("suspended",) * 12 + (*MEMBERS, "outsider")),
        index=st.integers(0, 63),
    )
    def reinstate(self, actor: str, org: str, index: int) -> None:
        STATS.steps += 1
        suspended = [o.address for o in self.model.orgs.values() if o.status is OrgStatus.SUSPENDED]
        if org == "suspended" and suspended:
            target = suspended[index % len(suspended)]
        else:
            target = self._party(org if org != "suspended" else "zero", None, index)
        self._governance("REINSTATE", actor, index, "reinstateOrganisation", target)

    @rule(
        pauser=governance_actors,
        while_paused=st.lists(ops(*TITLE_ACTIONS), min_size=1, max_size=2),
        unpauser=unpausers,
        index=st.integers(0, 63),
    )
    def pause_episode(self, pauser: str, while_paused: list[OpSpec], unpauser: str, index: int) -> None:
        """Pause (if the actor may), try a few actions, unpause (if the actor may): one step."""
        STATS.steps += 1
        self._governance("PAUSE", pauser, index, "pause")
        for op in while_paused:
            self._direct(op)
        self._governance("UNPAUSE", unpauser, index // 2, "unpause")

    @precondition(lambda self: self.model.paused)
    @rule(actor=unpausers, index=st.integers(0, 63))
    def unpause(self, actor: str, index: int) -> None:
        STATS.steps += 1
        self._governance("UNPAUSE", actor, index, "unpause")

    # ------------------------------------------------------------------ rules: signatures

    @rule(spec=signed_specs, relayer=st.integers(0, 63))
    def execute(self, spec: SignedSpec, relayer: int) -> None:
        """One signed action submitted by any relayer (member, governance or outsider)."""
        STATS.steps += 1
        self._execute(spec, relayer)

    def _execute(self, spec: SignedSpec, relayer: int) -> None:
        mode = self._effective_mode(spec)
        signed, predict = self._sign(spec)
        expected = self._predict(predict)
        self._record_signed((signed, predict), expected)
        if spec.op.action in (Action.ADD_KEY, Action.REVOKE_KEY):
            self.membership_dirty = True
        sender = self.env.pool[relayer % len(self.env.pool)].address
        self._perform(
            f"EXECUTE:{spec.op.action.name}:{mode}",
            sender,
            self.env.abi.calldata("execute", signed),
            expected,
            spec.op.send_failure,
        )

    @rule(entries=st.lists(signed_specs, min_size=1, max_size=4), relayer=st.integers(0, 63))
    def execute_batch(self, entries: list[SignedSpec], relayer: int) -> None:
        """A batch mixing valid and invalid entries: failures are skipped, the rest stands."""
        STATS.steps += 1
        expected_events: list[tuple[object, ...]] = []
        batch = []
        for i, spec in enumerate(entries):
            mode = self._effective_mode(spec)
            signed, predict = self._sign(spec)
            outcome = self._predict(predict)
            self._record_signed((signed, predict), outcome)
            batch.append(signed)
            if isinstance(outcome, Revert):
                expected_events.append(_failed(i, signed.signer, signed.struct[4], outcome))
            else:
                expected_events.extend(_event(e) for e in outcome)
            STATS.record(f"BATCH:{mode}", outcome if isinstance(outcome, Revert) else None)
            if spec.op.action in (Action.ADD_KEY, Action.REVOKE_KEY):
                self.membership_dirty = True
        sender = self.env.pool[relayer % len(self.env.pool)].address
        receipt = self.chain.send(sender, self.env.abi.calldata("executeBatch", batch), BATCH_GAS)
        assert receipt["status"] == "0x1", "executeBatch itself must never revert"
        assert self.chain.events(receipt) == expected_events, "batch events differ"
        self._check_transfers(receipt)

    @rule(
        actor=st.sampled_from(ACTOR_RELATIONS),
        index=st.integers(0, 63),
        nonce=st.one_of(st.none(), st.integers(0, 5)),
    )
    def invalidate_nonce(self, actor: str, index: int, nonce: int | None) -> None:
        """Anyone cancels one of its nonces (fresh: the next one it would sign with)."""
        STATS.steps += 1
        sender = self._actor_key(actor, None, index)
        if nonce is None:
            nonce = next(n for n in range(10**6) if (sender, n) not in self.model.used_nonces)
        expected = self._predict(lambda: self.model.invalidate_nonce(sender, nonce))
        self.touched_nonces.add((sender, nonce))
        self._perform(
            "INVALIDATE_NONCE",
            sender,
            self.env.abi.calldata("invalidateNonce", nonce),
            expected,
            index % 10 == 0,
        )

    # ------------------------------------------------------------------ rules: other platforms (PINT)

    def _bridge_sender(self, who: str, index: int) -> str:
        if who == "bridge" and self.env.bridge is not None:
            return self.env.bridge.address
        if who == "governance":
            return self.env.governance.address
        return self.env.pool[index % len(self.env.pool)].address

    @rule(
        ebl=st.integers(0, 7),
        accepted=st.booleans(),
        response=st.sampled_from(("fresh", "fresh", "zero")),
        who=st.sampled_from(("bridge",) * 6 + ("governance", "member")),
        index=st.integers(0, 63),
    )
    def end_export(self, ebl: int, accepted: bool, response: str, who: str, index: int) -> None:
        """The receiving platform answers: RECE (the bill is held there now) or a refusal."""
        STATS.steps += 1
        pending = [i for i, t in self.model.titles.items() if t.status is Status.EXPORT_PENDING]
        ebl_id = pending[ebl % len(pending)] if pending and ebl < 6 else self._ebl(ebl)
        sender = self._bridge_sender(who, index)
        data = self._data(response, index)
        expected = self._predict(lambda: self.model.end_export(sender, ebl_id, accepted, data))
        name = "closeExport" if accepted else "cancelExport"
        self._perform(name.upper(), sender, self.env.abi.calldata(name, ebl_id, data), expected, False)

    @rule(
        doc=st.sampled_from(("exported",) * 3 + ("abroad",) * 3 + ("held", "zero")),
        holder=st.sampled_from((*MEMBERS, *MEMBERS, "outsider")),
        endorsee=st.sampled_from(("holder",) * 4 + (*MEMBERS, "zero", "outsider")),
        carrier=st.sampled_from(("foreign", "foreign", *CARRIERS, "shipper")),
        kind=st.sampled_from((DocumentKind.TO_ORDER, DocumentKind.STRAIGHT)),
        endorsable=st.booleans(),
        blank=st.sampled_from((False, False, True)),
        platform=st.sampled_from((*PLATFORMS, b"\0" * 4)),
        last=st.sampled_from(("fresh",) * 5 + ("zero",)),
        who=st.sampled_from(("bridge",) * 6 + ("governance", "member")),
        index=st.integers(0, 63),
    )
    def import_title(
        self,
        doc: str,
        holder: str,
        endorsee: str,
        carrier: str,
        kind: DocumentKind,
        endorsable: bool,
        blank: bool,
        platform: bytes,
        last: str,
        who: str,
        index: int,
    ) -> None:
        """A bill arrives from another platform: one exported from here coming back, one new here, or
        (refused) one held here or with no document."""
        STATS.steps += 1
        model = self.model
        exported = [t.document_hash for t in model.titles.values() if t.status is Status.EXPORTED]
        held = [t.document_hash for t in model.titles.values() if t.live]
        if doc == "exported" and exported:
            doc_hash = exported[index % len(exported)]
        elif doc == "held" and held:
            doc_hash = held[index % len(held)]
        elif doc == "zero":
            doc_hash = ZERO32
        else:
            doc_hash = self._fresh_hash()
            model.abroad.setdefault(doc_hash, platform)  # held on that platform until it arrives
        holder_org = self.env.outsider.org if holder == "outsider" else self.env.members[holder].org
        endorsee_org = {
            "holder": holder_org,
            "zero": ZERO,
            "outsider": self.env.outsider.org,
        }.get(endorsee) or self.env.members[endorsee].org
        carrier_org = ZERO if carrier == "foreign" else self.env.members[carrier].org
        ref = keccak(text=f"carrier-{index % 3}@SMDG") if carrier_org == ZERO else ZERO32
        tdr = keccak(text=f"abroad-TDR-{index % TDRS_PER_CARRIER}")
        last_hash = self._data(last, index)
        sender = self._bridge_sender(who, index)
        args = (doc_hash, tdr, carrier_org, ref, holder_org, endorsee_org, kind, endorsable, blank)
        expected = self._predict(lambda: model.import_title(sender, *args, platform, last_hash))
        if isinstance(expected, Revert) and model.record_of_document(doc_hash) is None:
            model.abroad.pop(doc_hash, None)  # a refused arrival: the bill stays where it was
        calldata = self.env.abi.calldata(
            "importTitle", (*args[:6], int(kind), endorsable, blank, platform, last_hash)
        )
        self._perform("IMPORT_TITLE", sender, calldata, expected, False)

    @invariant()
    def one_holder_across_platforms(self) -> None:
        """The law: a bill not ended has exactly one holder across platforms, here or elsewhere."""
        model = self.model
        for t in model.titles.values():
            abroad = t.document_hash in model.abroad
            if t.status is Status.EXPORTED:
                assert abroad, f"eBL {t.ebl_id:#x} is exported but no platform holds it"
            else:
                assert not abroad, f"eBL {t.ebl_id:#x} is held here and on {model.abroad[t.document_hash]!r}"
            if t.live:
                assert t.holder in model.orgs, "a bill held here is held by a member"

    # ------------------------------------------------------------------ invariants

    @invariant()
    def chain_matches_model(self) -> None:
        """After every step, read everything back in one batch and compare with the model."""
        abi, model = self.env.abi, self.model
        ids = list(model.titles)
        orgs = [p.org for p in self.env.members.values()]
        non_members = [self.env.outsider.org, self.env.governance.address]
        keys = [k.address for k in self.env.pool] if self.membership_dirty else []
        nonces = sorted(self.touched_nonces)
        hashes = list(dict.fromkeys(self.drawn))
        calls = (
            [abi.calldata("titleOf", i) for i in ids]
            + [abi.calldata("ownerOf", i) for i in ids]
            + [abi.calldata("locked", i) for i in ids]
            + [abi.calldata("balanceOf", o) for o in orgs + non_members]
            + [abi.calldata("organisation", o) for o in orgs]
            + [abi.calldata("keyInfo", k) for k in keys]
            + [abi.calldata("nonceUsed", s, n) for s, n in nonces]
            + [abi.calldata("paused")]
            + [abi.calldata("eblIdOfDocument", h) for h in hashes]
        )
        replies = iter(self.chain.view_calls(calls))

        documents_on_chain: dict[bytes, list[int]] = {}
        for ebl_id in ids:
            t = model.titles[ebl_id]
            view = _title_view(next(replies))
            documents_on_chain.setdefault(view[VIEW_FIELDS.index("documentHash")], []).append(ebl_id)
            if view != _expected_view(t):
                diff = {
                    name: (chain, want)
                    for name, chain, want in zip(VIEW_FIELDS, view, _expected_view(t), strict=True)
                    if chain != want
                }
                raise AssertionError(f"titleOf({ebl_id:#x}) differs, field: (chain, model): {diff}")
            if t.live:
                # LR-03: exactly one holder, an organisation that is a member
                assert t.holder in model.orgs
            if t.status.is_terminal:
                # absorbing: once terminal, nothing about the record ever changes again
                assert self.terminal_views.setdefault(ebl_id, view) == view, "terminal eBL changed"
            STATS.statuses[t.status.name] += 1
        for ebl_id in ids:
            t = model.titles[ebl_id]
            reply = next(replies)
            if t.live:
                assert _word_address(bytes.fromhex(reply["result"][2:])) == t.holder, "ownerOf differs"
            else:
                assert _same_revert(_revert_of(reply["error"]), Revert("TitleWrongStatus", ebl_id, t.status))
        for ebl_id in ids:
            t = model.titles[ebl_id]
            reply = next(replies)
            if t.live:  # ERC-5192: a live eBL is always locked (title moves only by title actions)
                assert _word_int(bytes.fromhex(reply["result"][2:])) == 1, "locked() differs"
            else:
                assert _same_revert(_revert_of(reply["error"]), Revert("TitleWrongStatus", ebl_id, t.status))
        for org in orgs + non_members:
            balance = _word_int(bytes.fromhex(next(replies)["result"][2:]))
            assert balance == model.balance_of(org), (
                f"balanceOf({org}) = {balance}, model {model.balance_of(org)}"
            )
        for org in orgs:
            w = _words(bytes.fromhex(next(replies)["result"][2:]))
            o = model.orgs[org]
            assert (OrgStatus(_word_int(w[2])), _word_int(w[3])) == (o.status, len(model.active_keys(org)))
        for key in keys:
            w = _words(bytes.fromhex(next(replies)["result"][2:]))
            owner, status = model.keys.get(key, (ZERO, KeyStatus.NONE))
            assert (_word_address(w[0]), KeyStatus(_word_int(w[1]))) == (owner, status), f"keyInfo({key})"
        for signer, nonce in nonces:
            used = bool(_word_int(bytes.fromhex(next(replies)["result"][2:])))
            assert used == ((signer, nonce) in model.used_nonces), f"nonceUsed({signer}, {nonce})"
        assert bool(_word_int(bytes.fromhex(next(replies)["result"][2:]))) == model.paused
        # MLETR art. 10: one authoritative record per document, and a document hash is never freed
        shared = {h.hex(): found for h, found in documents_on_chain.items() if len(found) > 1}
        assert not shared, f"records sharing a document hash on chain: {shared}"
        for h in hashes:
            named = _word_int(bytes.fromhex(next(replies)["result"][2:]))
            assert named == (model.record_of_document(h) or 0), f"eblIdOfDocument({h.hex()}) = {named:#x}"
        self.membership_dirty = False
        self.touched_nonces.clear()


def direct_calldata(abi: Abi, action: Action, ebl_id: int, party: str, data: bytes) -> str:
    """Calldata of the sender-authorised function for ``action``."""
    match action:
        case Action.TRANSFER:
            return abi.calldata("transferPossession", ebl_id, party)
        case Action.ENDORSE:
            return abi.calldata("endorse", ebl_id, party)
        case Action.ENDORSE_TO_ORDER:
            return abi.calldata("endorseToOrder", ebl_id, party)
        case Action.BLANK_ENDORSE:
            return abi.calldata("endorseInBlank", ebl_id)
        case Action.NOMINATE:
            return abi.calldata("nominate", ebl_id, party)
        case Action.REJECT:
            return abi.calldata("rejectTransfer", ebl_id)
        case Action.SURRENDER_FOR_DELIVERY:
            return abi.calldata("requestSurrenderForDelivery", ebl_id)
        case Action.SURRENDER_FOR_AMENDMENT:
            return abi.calldata("requestSurrenderForAmendment", ebl_id, data)
        case Action.ACCEPT_SURRENDER:
            return abi.calldata("acceptSurrender", ebl_id)
        case Action.REJECT_SURRENDER:
            return abi.calldata("rejectSurrender", ebl_id)
        case Action.VOID:
            return abi.calldata("voidEbl", ebl_id)
        case Action.AMEND:
            return abi.calldata("amend", ebl_id, data, party)
        case Action.SWITCH_TO_PAPER:
            return abi.calldata("switchToPaper", ebl_id, data)
        case Action.ADD_KEY:
            return abi.calldata("addKey", party)
        case Action.REVOKE_KEY:
            return abi.calldata("revokeKey", party)
        case Action.START_EXPORT:
            return abi.calldata("startExport", ebl_id, bytes.fromhex(party[2:10]), data)
        case Action.CLOSE_EXPORT:
            return abi.calldata("closeExport", ebl_id, data)
        case Action.CANCEL_EXPORT:
            return abi.calldata("cancelExport", ebl_id, data)
        case Action.IMPORT_TITLE:
            return abi.calldata(
                "importTitle", (data, data, ZERO, data, party, party, 1, True, False, b"WAVE", data)
            )
    raise ValueError(action)


VIEW_FIELDS = (
    "status",
    "kind",
    "reason",
    "holder",
    "endorsee",
    "carrier",
    "nominee",
    "previousHolder",
    "endorsable",
    "blankEndorsed",
    "amended",
    "rejectable",
    "seq",
    "documentHash",
    "predecessor",
    "successor",
    "paperDocumentHash",
)
"""``TitleView`` field names, in ABI order."""


def _title_view(reply: dict[str, Any]) -> tuple[object, ...]:
    """Decode a ``titleOf`` reply (a static 17-word struct) without eth_abi's overhead."""
    assert "result" in reply, f"titleOf reverted for a known eBL: {reply.get('error')}"
    w = _words(bytes.fromhex(reply["result"][2:]))
    return (
        Status(_word_int(w[0])),
        DocumentKind(_word_int(w[1])),
        _word_int(w[2]),
        *(_word_address(x) for x in w[3:8]),
        *(bool(_word_int(x)) for x in w[8:12]),
        _word_int(w[12]),
        w[13],
        _word_int(w[14]),
        _word_int(w[15]),
        w[16],
    )


def _expected_view(t: Title) -> tuple[object, ...]:
    return (
        t.status,
        t.kind,
        int(t.reason),
        t.holder,
        t.endorsee,
        t.carrier,
        t.nominee,
        t.previous_holder,
        t.endorsable,
        t.blank,
        t.amended,
        t.rejectable,
        t.seq,
        t.document_hash,  # LR-10: the hash recorded at issuance, never changed by the model
        t.predecessor,
        t.successor,
        t.paper_hash,
    )


# ====================================================================== the test


@pytest.fixture(scope="module")
def anvil() -> Iterator[TestChain]:
    """A chain of this test's own. The derandomised machine then starts from exactly the onboarded
    state every time: on the session chain it started from whatever the test files that ran before it
    on the same xdist worker had left (other deployer nonces, blocks, balances), so its draws, and with
    them what it explored, changed with the suite's layout."""
    with new_chain() as node:
        yield node


@pytest.fixture(scope="module")
def w3(anvil: TestChain) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))


@pytest.fixture(scope="module")
def deployment(
    w3: Web3, governance: LocalAccount, bridge: LocalAccount, cast: dict[str, parties.Party]
) -> Any:
    return deploy_onboarded(w3, governance, bridge, cast)


@pytest.fixture(scope="module")
def registry(w3: Web3, deployment: Any) -> Any:
    return w3.eth.contract(address=deployment.address, abi=load_artifact().abi)


def test_registry_behaves_like_the_model(
    registry: Any,
    anvil: Any,
    cast: dict[str, parties.Party],
    governance: LocalAccount,
    bridge: LocalAccount,
) -> None:
    """Random operation sequences by random actors never make the chain diverge from the rules."""
    members = {name: p for name, p in cast.items() if p.role is not Role.NONE}
    org_pool: dict[str, list[str]] = {
        p.org: [parties.test_key(name, n).address for n in range(KEYS_PER_ORG)] for name, p in members.items()
    }
    pool = [parties.test_key(name, n) for name in members for n in range(KEYS_PER_ORG)]
    pool += [governance, cast["outsider"].key, bridge]
    rpc = Rpc(anvil.url)
    try:
        rpc.batch([("anvil_setBalance", [k.address, hex(10**24)]) for k in pool])
        abi = Abi(load_artifact().abi)
        chain = Chain(rpc, registry.address, abi, pool)
        RegistryMachine.env = Env(chain, abi, governance, cast["outsider"], members, pool, org_pool, bridge)
        STATS.reset()
        started = time.perf_counter()
        run_state_machine_as_test(RegistryMachine, settings=hypothesis_profiles.profile_settings())
        elapsed = time.perf_counter() - started
    finally:
        rpc.close()
    target = hypothesis_profiles.step_target()
    ok = sum(n for k, n in STATS.outcomes.items() if k.endswith(":ok"))
    print(
        f"\n[invariants] profile={hypothesis_profiles.PROFILE} examples={STATS.examples} steps={STATS.steps}"
        f" in {elapsed:.1f}s = {STATS.steps / elapsed:.0f} steps/s;"
        f" successful actions {ok}/{sum(STATS.outcomes.values())}"
    )
    print(f"[invariants] steps per example: {sorted(STATS.lengths.items())}")
    print(f"[invariants] statuses seen (per step, per eBL): {dict(STATS.statuses)}")
    print(f"[invariants] outcomes: {dict(sorted(STATS.outcomes.items()))}")
    assert STATS.steps >= target, f"only {STATS.steps} steps ran, profile needs {target}"
    # one record per document was tried where it can be broken: issue and signed issue in every run, and
    # amend in every run that reached bills surrendered for amendment often enough to draw a copy there.
    # The derandomised path still differs between environments (the fresh-clone CI run reached 22 such
    # states where a run in the working checkout reached 591, for reasons not yet found), so amending to
    # a carried document is also pinned by example in test_surrender_and_amendment.py.
    refused_copies = {
        "AMEND" if ":AMEND" in f":{k}" else k.split(":")[0]
        for k in STATS.outcomes
        if k.endswith(":TitleDuplicateDocument")
    }
    assert {"ISSUE", "ISSUE_SIGNED"} <= refused_copies, f"copies refused only by {refused_copies}"
    if STATS.statuses.get("SURRENDERED_FOR_AMENDMENT", 0) >= 100:
        assert "AMEND" in refused_copies, f"copies refused only by {refused_copies}"
