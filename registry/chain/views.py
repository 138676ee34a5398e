"""Anchored reads of the registry's title state in one JSON-RPC round trip.

A bank verifies title on its hot path, and the indexer reconciles thousands of eBLs against the chain;
both read ``titleOf``. web3's contract-call path (ABI lookup per call, middleware, formatters, an
``eth_chainId`` round trip) costs several milliseconds per call, so ``titleOf`` is encoded and decoded
with the codecs :mod:`registry.chain.abi` derives from the compiled artifact's ABI, and its
``TitleView`` is read by component name.

:class:`ChainHead` caches the newest block for a fraction of a block time, so a verification costs one
``eth_call`` pinned to a block number (a cache hit) instead of ``eth_getBlockByNumber`` + ``eth_call``.
Every answer still names the exact block it was read at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.abi import TITLE_OF, TITLE_VIEW
from registry.chain.errors import rpc_revert
from registry.chain.rpc import call_request, rpc_batch
from registry.errors import ChainError, StateNotKeptError
from registry.types import DocumentKind, EblId, OrgAddress, Status, SurrenderReason

__all__ = ["BlockRef", "ChainHead", "TitleReader", "TitleState"]

_STATE_NOT_KEPT = ("BlockOutOfRange", "missing trie node", "historical state", "world state not available")
"""How nodes say a block's state is gone: anvil (``--prune-history``), geth, geth/Besu."""


def _address(value: str) -> OrgAddress | None:
    if int(value, 16) == 0:
        return None
    return OrgAddress(to_checksum_address(value))


def _hash(word: bytes) -> str | None:
    return "0x" + word.hex() if any(word) else None


_TITLE_FIELDS = TITLE_VIEW.fields(
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
"""``TitleView``'s components by name, in :class:`TitleState`'s field order."""


@dataclass(frozen=True, slots=True)
class TitleState:
    """One eBL's ``TitleView`` as the chain returns it (addresses checksummed, zero address → None)."""

    ebl_id: EblId
    status: Status
    kind: DocumentKind
    reason: SurrenderReason
    holder: OrgAddress
    endorsee: OrgAddress | None
    carrier: OrgAddress | None
    """None for a bill of a foreign carrier, imported from another platform."""
    nominee: OrgAddress | None
    previous_holder: OrgAddress | None
    endorsable: bool
    blank_endorsed: bool
    amended: bool
    rejectable: bool
    seq: int
    document_hash: str
    predecessor: EblId | None
    successor: EblId | None
    paper_document_hash: str | None

    @classmethod
    def decode(cls, ebl_id: int, result: str) -> TitleState:
        (view,) = TITLE_OF.decode_output(bytes.fromhex(result.removeprefix("0x")))
        (
            status,
            kind,
            reason,
            holder_word,
            endorsee,
            carrier_word,
            nominee,
            previous_holder,
            endorsable,
            blank_endorsed,
            amended,
            rejectable,
            seq,
            document_hash,
            predecessor,
            successor,
            paper_document_hash,
        ) = _TITLE_FIELDS(view)
        holder, carrier = _address(holder_word), _address(carrier_word)
        assert holder is not None  # every eBL has one (a foreign carrier's has no carrier here)
        return cls(
            ebl_id=EblId(ebl_id),
            status=Status(status),
            kind=DocumentKind(kind),
            reason=SurrenderReason(reason),
            holder=holder,
            endorsee=_address(endorsee),
            carrier=carrier,
            nominee=_address(nominee),
            previous_holder=_address(previous_holder),
            endorsable=bool(endorsable),
            blank_endorsed=bool(blank_endorsed),
            amended=bool(amended),
            rejectable=bool(rejectable),
            seq=int(seq),
            document_hash="0x" + bytes(document_hash).hex(),
            predecessor=EblId(predecessor) if predecessor else None,
            successor=EblId(successor) if successor else None,
            paper_document_hash=_hash(bytes(paper_document_hash)),
        )


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block a read was anchored at."""

    number: int
    hash: str
    timestamp: int


class TitleReader:
    """``titleOf`` at a given block, one eth_call per eBL (or one JSON-RPC batch for many)."""

    def __init__(self, w3: Web3, registry_address: str) -> None:
        self._w3 = w3
        self._address = to_checksum_address(registry_address)

    def _request(self, ebl_id: int, block: int | str) -> tuple[RPCEndpoint, list[Any]]:
        return call_request(self._address, TITLE_OF.encode(int(ebl_id)), block)

    def title_of(self, ebl_id: int, block: int | str = "latest") -> TitleState | None:
        """The eBL's state at ``block``; None if no such eBL exists there.

        Raises:
            StateNotKeptError: the node no longer keeps the state at ``block``.
            ChainError: the node failed, or the call reverted for another reason (decoded).
        """
        method, params = self._request(ebl_id, block)
        return self._decode(ebl_id, block, dict(self._w3.provider.make_request(method, params)))

    def titles_of(self, ebl_ids: Sequence[int], block: int | str) -> dict[int, TitleState]:
        """Every given eBL that exists at ``block``, read in JSON-RPC batches of up to 500 calls."""
        responses = rpc_batch(self._w3, [self._request(e, block) for e in ebl_ids])
        out: dict[int, TitleState] = {}
        for ebl_id, response in zip(ebl_ids, responses, strict=True):
            state = self._decode(ebl_id, block, response)
            if state is not None:
                out[ebl_id] = state
        return out

    @staticmethod
    def _decode(ebl_id: int, block: int | str, response: dict[str, Any]) -> TitleState | None:
        error = response.get("error")
        if error is not None:
            revert = rpc_revert(error)
            if revert is None and any(s in str(error) for s in _STATE_NOT_KEPT):
                raise StateNotKeptError(block, str(error)[:200])
            if revert is None:
                raise ChainError(f"titleOf({ebl_id}) failed: {error}")
            if getattr(revert, "error_name", "") == "TitleUnknownEbl":
                return None
            raise revert
        return TitleState.decode(ebl_id, str(response["result"]))


class ChainHead:
    """The chain's newest block, cached for at most ``max_age`` seconds.

    One thread refreshes at a time; the others wait for its answer rather than asking the node too.
    :meth:`observe` tells it a newer block exists (e.g. an operation just became final there), so the
    next read never anchors below a block a client has already been told about.
    """

    def __init__(self, w3: Web3, max_age: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        self._w3 = w3
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._head: BlockRef | None = None
        self._fetched = float("-inf")
        self._seen = -1

    def latest(self) -> BlockRef:
        head = self._fresh()
        if head is not None:
            return head
        with self._lock:
            head = self._fresh()  # another thread may have refreshed while this one waited
            if head is not None:
                return head
            reply = self._w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), ["latest", False])
            block = reply.get("result")
            if not block:
                raise ChainError(f"eth_getBlockByNumber(latest) failed: {reply.get('error')}")
            head = BlockRef(int(block["number"], 16), str(block["hash"]), int(block["timestamp"], 16))
            self._head, self._fetched = head, self._clock()
            self._seen = min(self._seen, head.number)  # a restored chain may really be lower
            return head

    def _fresh(self) -> BlockRef | None:
        head = self._head
        if head is None or head.number < self._seen or self._clock() - self._fetched >= self._max_age:
            return None
        return head

    def observe(self, number: int | None) -> None:
        """A block at ``number`` exists: the next :meth:`latest` refreshes if its cache is older."""
        if number is not None and number > self._seen:
            self._seen = number
