"""Where TitleRegistry keeps one eBL's title in storage, and how to read the record back from its slots.

Solidity puts the value of ``mapping(K => V) m`` (declared at slot ``p``) for key ``k`` at
``keccak256(abi.encode(k, p))``. The declaration slots below are the compiler's storage layout of
``contracts/TitleRegistry.sol`` (solc's ``storageLayout`` output); ``tests/registry/proofs`` compiles
the contract with that output and fails if they move, and reads the slots from a running chain with
``eth_getStorageAt`` to compare the decoded record with the contract's own ``titleOf``.

One eBL's title is proven by these slots (all in the registry's storage):

* ``_records[id]`` -- the packed ``TitleRecord`` (parties as organisation indexes, status, flags, seq);
* ``_documentHashes[id]``, ``_predecessors[id]``, ``_paperHashes[id]``;
* ``_orgAt[i]`` for the holder's, endorsee's and carrier's indexes -- their organisation addresses;
* ``_predecessors[s]`` and ``_records[s]`` for the candidate successor ``s = keccak256(abi.encode(id))``
  (an amendment's reissue), so the proof says whether the bill was amended and into which eBL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.types import DocumentKind, Status, SurrenderReason

__all__ = [
    "DECLARATION_SLOTS",
    "ProvenTitle",
    "RecordWord",
    "mapping_slot",
    "org_slot",
    "record_slots",
    "successor_candidate",
    "title_slots",
]

DECLARATION_SLOTS: Mapping[str, int] = {
    "_orgs": 2,
    "_orgAt": 3,
    "_keys": 4,
    "_records": 10,
    "_documentHashes": 11,
    "_predecessors": 12,
    "_paperHashes": 13,
}
"""The declaration slot of each mapping the title is read from (solc ``storageLayout``, pinned by a test)."""

RECORD_MEMBERS: tuple[tuple[str, int, int], ...] = (
    ("holder", 0, 4),
    ("endorsee", 4, 4),
    ("carrier", 8, 4),
    ("nominee", 12, 4),
    ("prevHolder", 16, 4),
    ("status", 20, 1),
    ("kind", 21, 1),
    ("reason", 22, 1),
    ("flags", 23, 1),
    ("seq", 24, 4),
)
"""``TitleRecord``'s members: (name, byte offset from the low end of the slot, size), solc layout."""

ENDORSABLE, BLANK, AMENDED, REJECTABLE = 1, 2, 4, 8
"""``TitleFlags`` bits."""


def mapping_slot(key: int, declaration: int) -> int:
    """The slot of ``m[key]`` for a mapping declared at slot ``declaration`` (value-type key)."""
    return int.from_bytes(keccak(key.to_bytes(32, "big") + declaration.to_bytes(32, "big")), "big")


def org_slot(index: int) -> int:
    """The slot of ``_orgAt[index]``: the address of organisation ``index``."""
    return mapping_slot(index, DECLARATION_SLOTS["_orgAt"])


def successor_candidate(ebl_id: int) -> int:
    """The id an amendment of ``ebl_id`` is reissued under: ``uint256(keccak256(abi.encode(ebl_id)))``."""
    return int.from_bytes(keccak(ebl_id.to_bytes(32, "big")), "big")


def record_slots(ebl_id: int) -> dict[str, int]:
    """The slots of an eBL's own fields by name (those that do not depend on the record's contents)."""
    successor = successor_candidate(ebl_id)
    return {
        "record": mapping_slot(ebl_id, DECLARATION_SLOTS["_records"]),
        "documentHash": mapping_slot(ebl_id, DECLARATION_SLOTS["_documentHashes"]),
        "predecessor": mapping_slot(ebl_id, DECLARATION_SLOTS["_predecessors"]),
        "paperDocumentHash": mapping_slot(ebl_id, DECLARATION_SLOTS["_paperHashes"]),
        "successorPredecessor": mapping_slot(successor, DECLARATION_SLOTS["_predecessors"]),
        "successorRecord": mapping_slot(successor, DECLARATION_SLOTS["_records"]),
    }


@dataclass(frozen=True, slots=True)
class RecordWord:
    """A ``TitleRecord`` decoded from its one storage word."""

    holder: int
    endorsee: int
    carrier: int
    nominee: int
    prev_holder: int
    status: int
    kind: int
    reason: int
    flags: int
    seq: int

    @classmethod
    def decode(cls, word: int) -> RecordWord:
        values = {
            name: (word >> (8 * offset)) & ((1 << (8 * size)) - 1) for name, offset, size in RECORD_MEMBERS
        }
        return cls(
            holder=values["holder"],
            endorsee=values["endorsee"],
            carrier=values["carrier"],
            nominee=values["nominee"],
            prev_holder=values["prevHolder"],
            status=values["status"],
            kind=values["kind"],
            reason=values["reason"],
            flags=values["flags"],
            seq=values["seq"],
        )

    def party_indexes(self) -> dict[str, int]:
        """The non-zero organisation indexes the title names (holder, endorsee, carrier)."""
        named = {"holder": self.holder, "endorsee": self.endorsee, "carrier": self.carrier}
        return {k: v for k, v in named.items() if v}


def title_slots(ebl_id: int, record: RecordWord) -> dict[str, int]:
    """Every slot that proves the title of ``ebl_id`` whose record word decodes to ``record``."""
    slots = record_slots(ebl_id)
    for role, index in record.party_indexes().items():
        slots[f"{role}Address"] = org_slot(index)
    return slots


def _address(word: int) -> str | None:
    return to_checksum_address(word.to_bytes(20, "big")) if word else None


def _hash(word: int) -> str | None:
    return word.to_bytes(32, "big").hex() if word else None


@dataclass(frozen=True, slots=True)
class ProvenTitle:
    """The title of one eBL as its proven storage slots say it is (parties as organisation addresses)."""

    ebl_id: int
    status: Status
    kind: DocumentKind
    reason: SurrenderReason
    holder: str | None
    endorsee: str | None
    carrier: str | None
    blank_endorsed: bool
    endorsable: bool
    amended: bool
    seq: int
    document_hash: str | None
    """Lower-case hex without 0x (the form of ``documentHash`` in a verification)."""
    predecessor: int | None
    successor: int | None
    paper_document_hash: str | None

    @classmethod
    def from_slots(cls, ebl_id: int, values: Mapping[int, int]) -> ProvenTitle:
        """Decode the title from proven ``slot -> value``; ``values`` must hold every slot of
        :func:`title_slots` (``KeyError`` otherwise). Unknown enum values raise ``ValueError``."""
        slots = record_slots(ebl_id)
        record = RecordWord.decode(values[slots["record"]])
        named = title_slots(ebl_id, record)
        addresses = {role: _address(values[named[f"{role}Address"]]) for role in record.party_indexes()}
        candidate = successor_candidate(ebl_id)
        successor_record = RecordWord.decode(values[slots["successorRecord"]])
        has_successor = values[slots["successorPredecessor"]] == ebl_id and successor_record.status != 0
        predecessor = values[slots["predecessor"]]
        return cls(
            ebl_id=ebl_id,
            status=Status(record.status),
            kind=DocumentKind(record.kind),
            reason=SurrenderReason(record.reason),
            holder=addresses.get("holder"),
            endorsee=addresses.get("endorsee"),
            carrier=addresses.get("carrier"),
            blank_endorsed=bool(record.flags & BLANK),
            endorsable=bool(record.flags & ENDORSABLE),
            amended=bool(record.flags & AMENDED),
            seq=record.seq,
            document_hash=_hash(values[slots["documentHash"]]),
            predecessor=predecessor or None,
            successor=candidate if has_successor else None,
            paper_document_hash=_hash(values[slots["paperDocumentHash"]]),
        )
