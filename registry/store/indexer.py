"""Fold the registry's events into the database: organisations, keys, eBL title state and history.

How it works
------------

:meth:`Indexer.sync` reads the registry's logs with raw ``eth_getLogs`` calls over block ranges of
``batch_blocks``, starting after the checkpoint (first run: at the deployment block). Each log is
decoded by topic from the compiled ABI (32-byte words sliced directly, ``eth_abi`` only for dynamic
types), and the range is applied in (block, log index) order inside **one database transaction**
that also moves the checkpoint; a crash therefore loses nothing and duplicates nothing. Block
timestamps are fetched once per block, in one batched JSON-RPC call per range, and cached.

Idempotency: events are inserted with ``ON CONFLICT (tx_hash, log_index) DO NOTHING`` and an eBL's
state only advances on an event whose ``seq`` is above the stored one, so applying a range twice
changes nothing.

Event → state rules (mirroring ``contracts/TitleRegistry.sol``):

* ``Issued``: new row, status ACTIVE, holder = "issue to", endorsee, kind, document hash; an
  amended reissue carries its ``predecessor``. Recorded in history as ``ISSUE`` (seq 0; actor =
  carrier, counterparty = first holder, data = document hash).
* ``ActionRecorded``: TRANSFER moves the holder to the counterparty; ENDORSE / ENDORSE_TO_ORDER set
  the endorsee, BLANK_ENDORSE clears it; NOMINATE sets (or clears) the nominee; REJECT returns the
  holder to the counterparty (the sender); SURRENDER_FOR_DELIVERY / _AMENDMENT move the holder to the
  carrier, status SURRENDER_REQUESTED (reason from the action and its data: ``"SWTP"`` = switch to
  paper); SACC ends in SURRENDERED (delivery) or SURRENDERED_FOR_AMENDMENT; SREJ returns it to the
  requester, ACTIVE; VOID → VOIDED; AMEND → VOIDED with ``successor`` = data; SWTP →
  SWITCHED_TO_PAPER with ``paper_hash`` = data. The event's ``seq`` becomes the eBL's seq.
* Membership events maintain ``organisations`` and ``org_keys``. ERC-721 ``Transfer``,
  ``BatchEntryFailed`` and ``NonceInvalidated`` carry nothing the title state needs and are skipped
  (they are counted as seen).

Reorgs (minimal): the checkpoint stores the hash of its block. When the chain's block at that height
has another hash (or is gone: a chain restored from an older state dump), the indexer rolls back
``reorg_depth`` blocks (never above the chain's head): events above the rollback block are
deleted, eBLs issued above it are deleted, and every other eBL they touched is rebuilt by replaying
its remaining events from the issuance state; keys and organisations registered above it are
deleted, revocations above it undone, and organisation standings changed above it re-read from the
chain at the rollback block. Then it checks the block hash the newest kept event was indexed from
against the chain and rolls back further, event block by event block, until the chain still has
that block; the index then ends there (block hashes chain, so everything older is on chain too,
while the blocks above it may be new). Membership changes in blocks without a title event are only
covered down to ``reorg_depth``; :meth:`Indexer.check_consistency` reveals stale rows and
:meth:`Indexer.rebuild` repairs them.

One database indexes one registry deployment, with one writer at a time (the API and other readers
may share the database freely; SQLite runs in WAL mode for that).

Read your own writes: :meth:`Indexer.applied_block` is the newest block this indexer has applied (in
memory, no query) and :meth:`Indexer.wait_applied` blocks until it reaches a given block, so a write
answered ``final`` can wait until the index shows it (the runtime's follower syncs on demand).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import Connection, Engine, RowMapping, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.errors import type_string
from registry.chain.views import TitleReader, rpc, rpc_batch
from registry.errors import ChainError, StoreError
from registry.store.db import write_lock
from registry.store.models import Ebl, EblEvent, IndexerCheckpoint, Organisation, OrgKey
from registry.types import Action, DocumentKind, KeyStatus, OrgStatus, Role, Status, SurrenderReason

__all__ = ["Discrepancy", "Indexer"]

log = logging.getLogger(__name__)

EBLS: Table = Ebl.__table__  # type: ignore[assignment]
EVENTS: Table = EblEvent.__table__  # type: ignore[assignment]
ORGS: Table = Organisation.__table__  # type: ignore[assignment]
KEYS: Table = OrgKey.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = IndexerCheckpoint.__table__  # type: ignore[assignment]

ZERO32 = "0x" + "00" * 32
_SWTP = b"SWTP".ljust(32, b"\0")
_ACTIONS = tuple(Action)
ACTION_BY_CODE = {a.dcsa_code: a for a in Action}
"""Stored action code (DCSA spelling) → :class:`~registry.types.Action`."""
_KINDS = tuple(DocumentKind)
_ROLES = tuple(Role)
_MUTABLE = (
    "status",
    "holder",
    "endorsee",
    "nominee",
    "previous_holder",
    "surrender_reason",
    "successor",
    "paper_hash",
    "seq",
    "updated_block",
)
_IN_CHUNK = 500


# --- decoding --------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _address(word: bytes) -> str | None:
    """Checksummed address from a 32-byte word (or 20 raw bytes); None for the zero address."""
    raw = word[-20:]
    if not any(raw):
        return None
    return to_checksum_address(raw)


def _convert(abi_type: str, word: bytes) -> Any:
    if abi_type == "address":
        return _address(word)
    if abi_type.startswith(("uint", "int")):
        return int.from_bytes(word, "big", signed=abi_type.startswith("int"))
    if abi_type == "bool":
        return word[-1] != 0
    return "0x" + word.hex()  # bytes32


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]
    static: bool

    def decode(self, topics: Sequence[str], data_hex: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(self.indexed, topics[1:], strict=True):
            args[name] = _convert(typ, bytes.fromhex(topic[2:]))
        data = bytes.fromhex(data_hex[2:])
        if self.static:
            for i, (name, typ) in enumerate(self.data):
                args[name] = _convert(typ, data[32 * i : 32 * i + 32])
        else:
            values = abi_decode([t for _, t in self.data], data)
            for (name, typ), value in zip(self.data, values, strict=True):
                args[name] = _convert(typ, value.rjust(32, b"\0")) if typ == "address" else value
        return args


def _event_specs(abi: Iterable[Mapping[str, Any]]) -> dict[str, _EventSpec]:
    """topic0 (0x-hex) → decoder, for every event in the ABI."""
    specs: dict[str, _EventSpec] = {}
    for entry in abi:
        if entry.get("type") != "event" or entry.get("anonymous"):
            continue
        inputs = entry["inputs"]
        signature = f"{entry['name']}({','.join(type_string(p) for p in inputs)})"
        indexed = tuple((p["name"], type_string(p)) for p in inputs if p["indexed"])
        data = tuple((p["name"], type_string(p)) for p in inputs if not p["indexed"])
        static = all(t in ("address", "bool", "bytes32") or t.startswith(("uint", "int")) for _, t in data)
        specs["0x" + keccak(text=signature).hex()] = _EventSpec(entry["name"], indexed, data, static)
    return specs


@dataclass(frozen=True)
class _Log:
    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str | None = None


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    """One field in which the index disagrees with the chain's ``titleOf`` (``field="exists"``: presence)."""

    ebl_id: int
    field: str
    indexed: object
    chain: object


# --- state folding ---------------------------------------------------------------------------


def _issued_state(args: Mapping[str, Any], block: int, time: int) -> dict[str, Any]:
    predecessor = int(args["predecessor"])
    return {
        "ebl_id": str(args["eblId"]),
        "status": Status.ACTIVE.name,
        "kind": _KINDS[args["kind"]].name,
        "carrier": args["carrier"],
        "holder": args["holder"],
        "endorsee": args["endorsee"],
        "nominee": None,
        "previous_holder": None,
        "surrender_reason": SurrenderReason.NONE.name,
        "issued_holder": args["holder"],
        "issued_endorsee": args["endorsee"],
        "document_hash": args["documentHash"],
        "tdr_hash": args["tdrHash"],
        "predecessor": str(predecessor) if predecessor else None,
        "successor": None,
        "paper_hash": None,
        "seq": 0,
        "issued_block": block,
        "issued_time": time,
        "updated_block": block,
    }


def _apply_action(
    state: dict[str, Any], action: Action, actor: str, counterparty: str | None, data: str, seq: int
) -> None:
    """Advance one eBL's state (a dict of ``ebls`` columns) by one ``ActionRecorded``."""
    if action is Action.TRANSFER:
        state["previous_holder"], state["holder"] = state["holder"], counterparty
        state["nominee"] = None
    elif action in (Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.BLANK_ENDORSE):
        state["endorsee"] = None if action is Action.BLANK_ENDORSE else counterparty
        state["nominee"] = None
    elif action is Action.NOMINATE:
        state["nominee"] = counterparty
    elif action is Action.REJECT:
        state["previous_holder"], state["holder"] = actor, counterparty
        state["nominee"] = None
    elif action in (Action.SURRENDER_FOR_DELIVERY, Action.SURRENDER_FOR_AMENDMENT):
        if action is Action.SURRENDER_FOR_DELIVERY:
            reason = SurrenderReason.DELIVERY
        elif bytes.fromhex(data[2:]) == _SWTP:
            reason = SurrenderReason.SWITCH_TO_PAPER
        else:
            reason = SurrenderReason.AMENDMENT
        state["surrender_reason"] = reason.name
        state["previous_holder"], state["holder"] = state["holder"], state["carrier"]
        state["status"] = Status.SURRENDER_REQUESTED.name
        state["nominee"] = None
    elif action is Action.ACCEPT_SURRENDER:
        delivery = state["surrender_reason"] == SurrenderReason.DELIVERY.name
        state["status"] = (Status.SURRENDERED if delivery else Status.SURRENDERED_FOR_AMENDMENT).name
    elif action is Action.REJECT_SURRENDER:
        state["holder"], state["previous_holder"] = counterparty, state["carrier"]
        state["status"] = Status.ACTIVE.name
        state["surrender_reason"] = SurrenderReason.NONE.name
    elif action is Action.VOID:
        state["status"] = Status.VOIDED.name
    elif action is Action.AMEND:
        state["status"] = Status.VOIDED.name
        state["successor"] = str(int(data, 16))
    elif action is Action.SWITCH_TO_PAPER:
        state["status"] = Status.SWITCHED_TO_PAPER.name
        state["paper_hash"] = data
    state["seq"] = seq


def _replay(conn: Connection, ebl_id: str) -> dict[str, Any] | None:
    """Recompute one eBL's state from its issuance columns and its stored events (seq order)."""
    row = conn.execute(select(EBLS).where(EBLS.c.ebl_id == ebl_id)).mappings().first()
    if row is None:
        return None
    state = dict(row)
    state.update(
        status=Status.ACTIVE.name,
        holder=row["issued_holder"],
        endorsee=row["issued_endorsee"],
        nominee=None,
        previous_holder=None,
        surrender_reason=SurrenderReason.NONE.name,
        successor=None,
        paper_hash=None,
        seq=0,
        updated_block=row["issued_block"],
    )
    events = conn.execute(
        select(EVENTS).where(EVENTS.c.ebl_id == ebl_id, EVENTS.c.seq > 0).order_by(EVENTS.c.seq)
    ).mappings()
    for ev in events:
        _apply_action(
            state, ACTION_BY_CODE[ev["action"]], ev["actor"], ev["counterparty"], ev["data"], ev["seq"]
        )
        state["updated_block"] = ev["block_number"]
    return state


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- the indexer -----------------------------------------------------------------------------


class Indexer:
    """Keeps the database's chain index in step with one registry deployment.

    Args:
        w3: web3 connected to the registry's chain.
        deployment: where the registry lives (address, chain id, deployment block).
        engine: a migrated database (:func:`registry.store.db.migrate`).
        name: checkpoint name; default ``"<chain id>:<address>"``.
        reorg_depth: blocks rolled back when the checkpoint's block hash changed.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        engine: Engine,
        *,
        name: str | None = None,
        reorg_depth: int = 12,
    ) -> None:
        self._w3 = w3
        self._deployment = deployment
        self._engine = engine
        self.name = name or f"{deployment.chain_id}:{deployment.address}"
        self.reorg_depth = reorg_depth
        abi = load_artifact().abi
        self._specs = _event_specs(abi)
        self._titles = TitleReader(w3, deployment.address)
        self._contract = w3.eth.contract(address=deployment.address, abi=abi)
        self._block_times: dict[int, int] = {}
        self._upsert_dialect = engine.dialect.name
        self._progress = threading.Condition()
        self._applied: int | None = None  # newest block applied, once known (see applied_block)

    # ------------------------------------------------------------------ public API

    def checkpoint(self) -> tuple[int, str] | None:
        """(last applied block, its hash), or None before the first sync."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(CHECKPOINTS.c.last_block, CHECKPOINTS.c.last_block_hash).where(
                    CHECKPOINTS.c.name == self.name
                )
            ).first()
        return (int(row[0]), str(row[1])) if row else None

    def applied_block(self) -> int:
        """The newest block whose events the index holds (-1 before anything is applied): in memory
        after this indexer's first sync, read from the checkpoint before it."""
        applied = self._applied
        if applied is None:
            checkpoint = self.checkpoint()
            applied = checkpoint[0] if checkpoint else -1
        return applied

    def wait_applied(self, block: int, timeout: float) -> bool:
        """Block until the index holds every event up to ``block`` (True), or ``timeout`` seconds pass
        (False). Another thread must be syncing: this only waits."""
        with self._progress:
            return self._progress.wait_for(lambda: self.applied_block() >= block, timeout)

    def _advance(self, block: int) -> None:
        with self._progress:
            if self._applied is None or block > self._applied:
                self._applied = block
                self._progress.notify_all()

    def sync(self, to_block: int | None = None, batch_blocks: int = 2000) -> int:
        """Apply every registry event up to ``to_block`` (default: latest); returns the logs applied.

        Raises:
            ChainError: when the node answers a JSON-RPC call with an error.
        """
        if batch_blocks < 1:
            raise ValueError("batch_blocks must be at least 1")
        head = int(rpc(self._w3, "eth_blockNumber", []), 16) if to_block is None else to_block
        start = self._resume_block()
        applied = 0
        while start <= head:
            end = min(start + batch_blocks - 1, head)
            applied += self._sync_range(start, end)
            start = end + 1
        self._advance(start - 1)  # the checkpoint: every block up to here is applied
        return applied

    def rebuild(self, to_block: int | None = None, batch_blocks: int = 2000) -> int:
        """Drop all indexed chain data and re-sync from the deployment block; returns the logs applied."""
        with self._progress:
            self._applied = None
        with self._engine.begin() as conn:
            for table in (EVENTS, EBLS, KEYS, ORGS):
                conn.execute(delete(table))
            conn.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.name == self.name))
        return self.sync(to_block, batch_blocks)

    def check_consistency(self, ebl_ids: Iterable[int] | None = None) -> list[Discrepancy]:
        """Compare indexed state with the chain's ``titleOf`` at the checkpoint block.

        Compares status, kind, carrier, holder, endorsee, nominee, document hash, seq, predecessor,
        successor and paper hash; an eBL known to only one side is reported with ``field="exists"``.
        With ``ebl_ids`` None, every indexed eBL is checked (streamed in chunks; ``titleOf`` calls
        go out as JSON-RPC batches).
        """
        checkpoint = self.checkpoint()
        block = hex(checkpoint[0]) if checkpoint else "latest"
        found: list[Discrepancy] = []
        for wanted, rows in self._ebl_chunks(ebl_ids):
            indexed = {int(r["ebl_id"]): r for r in rows}
            views = self._title_views(wanted, block)
            for ebl_id in wanted:
                view, row = views.get(ebl_id), indexed.get(ebl_id)
                if view is None or row is None:
                    if (view is None) != (row is None):
                        found.append(Discrepancy(ebl_id, "exists", row is not None, view is not None))
                    continue
                found += [
                    Discrepancy(ebl_id, field, row[field], value)
                    for field, value in view.items()
                    if row[field] != value
                ]
        return found

    def _ebl_chunks(self, ebl_ids: Iterable[int] | None) -> Iterator[tuple[list[int], Sequence[RowMapping]]]:
        """(wanted ids, their indexed rows) in chunks: the given ids, or every indexed eBL by keyset."""
        if ebl_ids is not None:
            ids = [int(i) for i in ebl_ids]
            for chunk in _chunks([str(i) for i in ids]):
                with self._engine.connect() as conn:
                    rows = conn.execute(select(EBLS).where(EBLS.c.ebl_id.in_(chunk))).mappings().all()
                yield [int(i) for i in chunk], rows
            return
        last = ""
        while True:
            with self._engine.connect() as conn:
                rows = (
                    conn.execute(
                        select(EBLS).where(EBLS.c.ebl_id > last).order_by(EBLS.c.ebl_id).limit(_IN_CHUNK)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            last = rows[-1]["ebl_id"]
            yield [int(r["ebl_id"]) for r in rows], rows

    def _title_views(self, ebl_ids: Sequence[int], block: str) -> dict[int, dict[str, Any]]:
        """The chain's ``titleOf`` of each id at ``block``, as ``ebls`` column values; absent ids left out."""
        return {
            ebl_id: {
                "status": t.status.name,
                "kind": t.kind.name,
                "holder": t.holder,
                "endorsee": t.endorsee,
                "carrier": t.carrier,
                "nominee": t.nominee,
                "seq": t.seq,
                "document_hash": t.document_hash,
                "predecessor": str(t.predecessor) if t.predecessor else None,
                "successor": str(t.successor) if t.successor else None,
                "paper_hash": t.paper_document_hash,
            }
            for ebl_id, t in self._titles.titles_of(ebl_ids, block).items()
        }

    # ------------------------------------------------------------------ JSON-RPC

    def _blocks(self, numbers: Iterable[int]) -> dict[int, tuple[int, str]]:
        """(timestamp, hash) of each block, in one batched JSON-RPC call."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in wanted]
        responses = rpc_batch(self._w3, requests, _IN_CHUNK)
        out: dict[int, tuple[int, str]] = {}
        for n, response in zip(wanted, responses, strict=True):
            block = response.get("result")
            if not block:
                raise ChainError(f"block {n} not available: {response.get('error')}")
            out[n] = (int(block["timestamp"], 16), str(block["hash"]))
        return out

    def _block_hash(self, number: int) -> str:
        block = rpc(self._w3, "eth_getBlockByNumber", [hex(number), False])
        if not block:
            raise ChainError(f"block {number} not available")
        return str(block["hash"])

    def _fetch_logs(self, start: int, end: int) -> list[_Log]:
        raw = rpc(
            self._w3,
            "eth_getLogs",
            [{"address": self._deployment.address, "fromBlock": hex(start), "toBlock": hex(end)}],
        )
        logs: list[_Log] = []
        for entry in raw:
            if entry.get("removed"):
                continue
            topics = entry["topics"]
            spec = self._specs.get(topics[0]) if topics else None
            if spec is None:
                continue
            logs.append(
                _Log(
                    spec.name,
                    spec.decode(topics, entry["data"]),
                    int(entry["blockNumber"], 16),
                    int(entry["logIndex"], 16),
                    entry["transactionHash"],
                    entry.get("blockHash"),
                )
            )
        logs.sort(key=lambda lg: (lg.block_number, lg.log_index))
        return logs

    # ------------------------------------------------------------------ sync internals

    def _resume_block(self) -> int:
        """First block to fetch: after the checkpoint (rolled back on a reorg) or the deployment block."""
        checkpoint = self.checkpoint()
        if checkpoint is None:
            return self._deployment.block_number
        last, stored_hash = checkpoint
        block = rpc(self._w3, "eth_getBlockByNumber", [hex(last), False])
        if block and block["hash"] == stored_hash:
            return last + 1
        # Never roll back to a block the chain does not have (a chain restored from an older state
        # can be far below the checkpoint), then deeper while the newest event kept is not on chain.
        head = int(rpc(self._w3, "eth_blockNumber", []), 16)
        target = max(min(last - max(self.reorg_depth, 1), head), self._deployment.block_number - 1)
        log.warning("reorg: block %d changed or vanished; rolling the index back to block %d", last, target)
        self._rollback(target)
        return self._deepen_rollback(target) + 1

    def _deepen_rollback(self, block: int) -> int:
        """Roll back to the newest indexed block at or below ``block`` that is provably on the chain;
        returns the block the index now ends at.

        Proof is the block hash the newest kept event was indexed from: block hashes chain, so when the
        chain's block at that height still has it, every older block is unchanged too. The index then
        ends at that block, not at ``block``: the chain's blocks above it may be new (a restored chain
        mines new blocks, and a resubmitted transaction can land at the very height it had before, so
        a receipt alone proves nothing). Rows indexed before events carried their block hash fall back
        to the transaction receipt.
        """
        while block >= self._deployment.block_number:
            with self._engine.connect() as conn:
                newest = conn.execute(
                    select(EVENTS.c.block_number, EVENTS.c.block_hash, EVENTS.c.tx_hash)
                    .where(EVENTS.c.block_number <= block)
                    .order_by(EVENTS.c.block_number.desc())
                    .limit(1)
                ).first()
            if newest is None:
                return block
            event_block = int(newest.block_number)
            if newest.block_hash is not None:
                on_chain = rpc(self._w3, "eth_getBlockByNumber", [hex(event_block), False])
                confirmed = bool(on_chain) and on_chain["hash"] == newest.block_hash
            else:
                receipt = rpc(self._w3, "eth_getTransactionReceipt", [newest.tx_hash])
                confirmed = bool(receipt) and int(receipt["blockNumber"], 16) == event_block
            if confirmed:
                if event_block < block:
                    self._rollback(event_block)
                return event_block
            block = max(event_block - 1, self._deployment.block_number - 1)
            log.warning("reorg deeper than expected: rolling the index back to block %d", block)
            self._rollback(block)
        return block

    def _sync_range(self, start: int, end: int) -> int:
        try:
            logs = self._fetch_logs(start, end)
        except ChainError:
            if start == end:
                raise
            # nodes cap eth_getLogs (result count, response size): halve the range and retry
            middle = (start + end) // 2
            log.info("eth_getLogs %d-%d refused; splitting at %d", start, end, middle)
            return self._sync_range(start, middle) + self._sync_range(middle + 1, end)
        if len(self._block_times) > 100_000:
            self._block_times.clear()
        uncached = {lg.block_number for lg in logs if lg.block_number not in self._block_times}
        blocks = self._blocks(uncached | {end})
        self._block_times.update({n: ts for n, (ts, _) in blocks.items()})
        end_hash = blocks[end][1]
        with write_lock(self._engine), self._engine.begin() as conn:
            self._apply(conn, logs)
            self._save_checkpoint(conn, end, end_hash)
        self._advance(end)  # committed: readers see it
        return len(logs)

    def _insert(self, table: Table, conflict: Sequence[str]) -> Any:
        if self._upsert_dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        if self._upsert_dialect == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
        return insert(table)

    def _save_checkpoint(self, conn: Connection, block: int, block_hash: str) -> None:
        updated = conn.execute(
            update(CHECKPOINTS)
            .where(CHECKPOINTS.c.name == self.name)
            .values(last_block=block, last_block_hash=block_hash)
        )
        if updated.rowcount == 0:
            conn.execute(
                insert(CHECKPOINTS).values(name=self.name, last_block=block, last_block_hash=block_hash)
            )

    def _apply(self, conn: Connection, logs: Sequence[_Log]) -> None:
        """Apply decoded logs (in chain order) on ``conn``; the caller owns the transaction."""
        ids = sorted({str(lg.args["eblId"]) for lg in logs if lg.name in ("Issued", "ActionRecorded")})
        states: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for found in conn.execute(select(EBLS).where(EBLS.c.ebl_id.in_(chunk))).mappings():
                states[found["ebl_id"]] = dict(found)
        known = set(states)
        changed: set[str] = set()
        events: list[dict[str, Any]] = []
        for lg in logs:
            args = lg.args
            if lg.name == "Issued":
                key = str(args["eblId"])
                if key not in states:
                    states[key] = _issued_state(args, lg.block_number, self._block_times[lg.block_number])
                events.append(
                    self._event_row(
                        lg, key, 0, Action.ISSUE, args["carrier"], args["holder"], args["actorKey"]
                    )
                )
                events[-1]["data"] = args["documentHash"]
            elif lg.name == "ActionRecorded":
                key = str(args["eblId"])
                action = _ACTIONS[args["action"]]
                state = states.get(key)
                if state is None:
                    raise StoreError(
                        f"block {lg.block_number} records {action.dcsa_code} on eBL {key}, which the index"
                        " does not hold: the index is out of step with the chain (run Indexer.rebuild)"
                    )
                if args["seq"] > state["seq"]:
                    _apply_action(
                        state, action, args["actor"], args["counterparty"], args["data"], args["seq"]
                    )
                    state["updated_block"] = lg.block_number
                    changed.add(key)
                row = self._event_row(
                    lg, key, args["seq"], action, args["actor"], args["counterparty"], args["actorKey"]
                )
                row["data"] = args["data"]
                events.append(row)
            else:
                self._apply_membership(conn, lg)
        new = [states[k] for k in ids if k not in known]
        if new:
            conn.execute(self._insert(EBLS, ["ebl_id"]), new)
        dirty = [states[k] for k in ids if k in known and k in changed]
        if dirty:
            stmt = (
                update(EBLS)
                .where(EBLS.c.ebl_id == bindparam("b_ebl_id"))
                .values({c: bindparam(f"b_{c}") for c in _MUTABLE})
            )
            conn.execute(stmt, [{f"b_{c}": s[c] for c in ("ebl_id", *_MUTABLE)} for s in dirty])
        if events:
            conn.execute(self._insert(EVENTS, ["tx_hash", "log_index"]), events)

    def _event_row(
        self,
        lg: _Log,
        ebl_id: str,
        seq: int,
        action: Action,
        actor: str,
        counterparty: str | None,
        actor_key: str,
    ) -> dict[str, Any]:
        return {
            "ebl_id": ebl_id,
            "seq": seq,
            "action": action.dcsa_code,
            "actor": actor,
            "counterparty": counterparty,
            "actor_key": actor_key,
            "data": ZERO32,
            "block_number": lg.block_number,
            "block_time": self._block_times[lg.block_number],
            "tx_hash": lg.tx_hash,
            "log_index": lg.log_index,
            "block_hash": lg.block_hash,
        }

    def _apply_membership(self, conn: Connection, lg: _Log) -> None:
        args, block = lg.args, lg.block_number
        if lg.name == "OrganisationRegistered":
            conn.execute(
                self._insert(ORGS, ["address"]).values(
                    address=args["org"],
                    role=_ROLES[args["role"]].name,
                    status=OrgStatus.ACTIVE.name,
                    index=args["index"],
                    identifier_hash=args["identifier"],
                    registered_block=block,
                    status_block=block,
                )
            )
        elif lg.name in ("OrganisationSuspended", "OrganisationReinstated"):
            status = OrgStatus.SUSPENDED if lg.name == "OrganisationSuspended" else OrgStatus.ACTIVE
            conn.execute(
                update(ORGS)
                .where(ORGS.c.address == args["org"])
                .values(status=status.name, status_block=block)
            )
        elif lg.name == "KeyAdded":
            conn.execute(
                self._insert(KEYS, ["key"]).values(
                    key=args["key"], org=args["org"], status=KeyStatus.ACTIVE.name, added_block=block
                )
            )
        elif lg.name == "KeyRevoked":
            conn.execute(
                update(KEYS)
                .where(KEYS.c.key == args["key"])
                .values(status=KeyStatus.REVOKED.name, revoked_block=block)
            )

    # ------------------------------------------------------------------ reorg

    def _rollback(self, block: int) -> None:
        """Forget everything above ``block`` and rebuild what it touched (see the module docstring)."""
        with self._progress:
            self._applied = None  # read from the checkpoint again until the next sync
        with self._engine.begin() as conn:
            touched = sorted(
                str(r[0])
                for r in conn.execute(select(EVENTS.c.ebl_id).where(EVENTS.c.block_number > block).distinct())
            )
            conn.execute(delete(EVENTS).where(EVENTS.c.block_number > block))
            conn.execute(delete(EBLS).where(EBLS.c.issued_block > block))
            for ebl_id in touched:
                state = _replay(conn, ebl_id)
                if state is not None:
                    conn.execute(update(EBLS).where(EBLS.c.ebl_id == ebl_id).values(**state))
            conn.execute(delete(KEYS).where(KEYS.c.added_block > block))
            conn.execute(
                update(KEYS)
                .where(KEYS.c.revoked_block > block)
                .values(status=KeyStatus.ACTIVE.name, revoked_block=None)
            )
            conn.execute(delete(ORGS).where(ORGS.c.registered_block > block))
            for (org,) in conn.execute(select(ORGS.c.address).where(ORGS.c.status_block > block)).all():
                _, _, status, _ = self._contract.functions.organisation(org).call(block_identifier=block)
                conn.execute(
                    update(ORGS)
                    .where(ORGS.c.address == org)
                    .values(status=OrgStatus(status).name, status_block=block)
                )
            if block < self._deployment.block_number:
                conn.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.name == self.name))
            else:
                self._save_checkpoint(conn, block, self._block_hash(block))
