"""Block headers: from JSON-RPC (``eth_getBlockByNumber``) to their RLP fields, and back to the hash.

A header is the root every offline proof hangs from: its ``stateRoot`` anchors account and storage
proofs, its ``receiptsRoot`` the receipts, its ``parentHash`` the header before it. Whoever holds the
header's fields can recompute ``keccak256(rlp(fields))`` and compare it with the block hash, with no
node at hand.

The fields are those of the Ethereum execution-layer header, in consensus order. Forks only ever
append fields, so a header carries the prefix its fork knows: London adds ``baseFeePerGas``, Shanghai
``withdrawalsRoot``, Cancun ``blobGasUsed``, ``excessBlobGas`` and ``parentBeaconBlockRoot``, Prague
``requestsHash`` (anvil 1.x runs Prague and returns all of them; a Besu QBFT network on London stops
after ``baseFeePerGas``). A header with a later field but without an earlier one is refused.

On a Besu QBFT chain the block hash is not keccak256 of the header as served: it is taken with the
commit seals removed from ``extraData`` and the round written as 0 (:func:`registry.chain.qbft.block_hash`).
A header read with ``qbft=True`` is checked against that hash instead; with ``qbft=None`` against
either (keccak256 first), for readers that trust a signed head rather than the seals: a second hash
function gives a forger no more room than the first.

RLP comes from the Ethereum Foundation's ``rlp`` package and keccak from ``eth-hash``; nothing here
writes its own encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils.crypto import keccak

from registry.chain import qbft as qbft_chain
from registry.proofs.errors import HeaderError

__all__ = ["BASE_FIELDS", "FORK_FIELDS", "Header"]

# (JSON-RPC name, kind): kind is "hash" (32 bytes), "address" (20), "bloom" (256), "nonce" (8),
# "bytes" (any length) or "int" (a quantity).
BASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "hash"),
    ("sha3Uncles", "hash"),
    ("miner", "address"),
    ("stateRoot", "hash"),
    ("transactionsRoot", "hash"),
    ("receiptsRoot", "hash"),
    ("logsBloom", "bloom"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "hash"),
    ("nonce", "nonce"),
)
"""The fields every header has (the Frontier header), in RLP order."""

FORK_FIELDS: tuple[tuple[str, str], ...] = (
    ("baseFeePerGas", "int"),  # London (EIP-1559)
    ("withdrawalsRoot", "hash"),  # Shanghai (EIP-4895)
    ("blobGasUsed", "int"),  # Cancun (EIP-4844)
    ("excessBlobGas", "int"),  # Cancun (EIP-4844)
    ("parentBeaconBlockRoot", "hash"),  # Cancun (EIP-4788)
    ("requestsHash", "hash"),  # Prague (EIP-7685)
)
"""The fields later forks appended, in RLP order: a header carries a prefix of them."""

_SIZES = {"hash": 32, "address": 20, "bloom": 256, "nonce": 8}


def _bytes(name: str, kind: str, value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise HeaderError(f"header field {name} is not 0x-prefixed hex")
    try:
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise HeaderError(f"header field {name} is not hex") from None
    size = _SIZES.get(kind)
    if size is not None and len(data) != size:
        raise HeaderError(f"header field {name} has {len(data)} bytes, not {size}")
    return data


def _int(name: str, value: Any) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise HeaderError(f"header field {name} is not a 0x-prefixed hex quantity")
    digits = value[2:]
    if len(digits) > 1 and digits.startswith("0"):
        raise HeaderError(f"header field {name} has leading zeros (not a JSON-RPC quantity)")
    try:
        return int(digits, 16)
    except ValueError:
        raise HeaderError(f"header field {name} is not a hex quantity") from None


@dataclass(frozen=True, slots=True)
class Header:
    """One block header: its fields by JSON-RPC name (hex text, as the node returned them) and its hash.

    Build it with :meth:`from_rpc` (a node's block, checked) or :meth:`from_json` (a file, checked);
    both refuse a header whose RLP does not hash to ``hash``. :meth:`to_json` writes what
    :meth:`from_json` reads.
    """

    fields: tuple[tuple[str, str], ...]
    """``(name, hex value)`` in RLP order: the base fields, then the fork's."""
    hash: str
    """The block hash, 0x-prefixed lower-case hex: keccak256 of the RLP of :attr:`fields` (on QBFT, of
    the fields with the seals removed and the round zeroed)."""
    qbft: bool = False
    """Whether the hash is the Besu QBFT block hash (:func:`registry.chain.qbft.block_hash`)."""

    @classmethod
    def from_rpc(cls, block: Mapping[str, Any], *, qbft: bool | None = False) -> Header:
        """The header of a block as ``eth_getBlockByNumber`` / ``eth_getBlockByHash`` returns it
        (other members such as ``transactions`` or ``size`` are ignored); ``qbft``: a Besu QBFT block
        (None: whichever of the two hashes matches).

        Raises:
            HeaderError: a base field is missing or malformed, fork fields are not a prefix, or the
                RLP does not hash to the block's ``hash``.
        """
        if qbft is None:
            try:
                return cls.from_rpc(block)
            except HeaderError as plain:
                try:
                    return cls.from_rpc(block, qbft=True)
                except HeaderError:
                    raise plain from None
        names = [name for name, _ in BASE_FIELDS]
        missing = [n for n in names if n not in block]
        if missing:
            raise HeaderError(f"the block lacks header fields {missing}")
        for name, _ in FORK_FIELDS:
            if name not in block:
                break
            names.append(name)
        later = [n for n, _ in FORK_FIELDS if n in block and n not in names]
        if later:
            raise HeaderError(f"the block has fork fields {later} without the ones before them")
        if "hash" not in block:
            raise HeaderError("the block lacks its hash")
        header = cls(tuple((n, str(block[n]).lower()) for n in names), str(block["hash"]).lower(), qbft)
        header.check()
        return header

    @classmethod
    def from_node(cls, block: Mapping[str, Any]) -> Header:
        """A block from the registry's own node, whichever hash its chain uses (keccak256 of the header,
        or on a Besu QBFT node the QBFT hash): for builders, which trust their node.

        Raises:
            HeaderError: the block hashes neither way.
        """
        return cls.from_rpc(block, qbft=None)

    @classmethod
    def from_json(cls, data: Any, *, qbft: bool | None = False) -> Header:
        """A header from its :meth:`to_json` form (``{"hash": ..., "fields": {name: hex}}``), checked. The
        order of ``fields`` does not matter (a canonical JSON form sorts them): the names fix the RLP order.

        Raises:
            HeaderError: not that shape, a field missing or malformed, or the hash does not match.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("fields"), Mapping):
            raise HeaderError("a header is an object with 'hash' and 'fields'")
        fields = data["fields"]
        known = [n for n, _ in BASE_FIELDS + FORK_FIELDS]
        extra = [n for n in fields if n not in known]
        if extra:
            raise HeaderError(f"unknown header fields {extra}")
        return cls.from_rpc({**fields, "hash": data.get("hash")}, qbft=qbft)

    @classmethod
    def from_rlp(cls, data: bytes, block_hash: str) -> Header:
        """A header from its :meth:`rlp` (as the registry's archive stores it), checked against
        ``block_hash`` either way (keccak256, or the QBFT hash); the field names follow from the count.

        Raises:
            HeaderError: not an RLP list of header fields, or it does not hash to ``block_hash``.
        """
        try:
            items = rlp.decode(data)
        except Exception:
            raise HeaderError("the header is not RLP") from None
        names = BASE_FIELDS + FORK_FIELDS
        if not isinstance(items, list) or not len(BASE_FIELDS) <= len(items) <= len(names):
            raise HeaderError("the header RLP does not hold the header fields")
        block: dict[str, Any] = {"hash": block_hash}
        for (name, kind), item in zip(names, items, strict=False):
            if not isinstance(item, bytes):
                raise HeaderError(f"header field {name} is not a byte string")
            block[name] = hex(int.from_bytes(item, "big")) if kind == "int" else "0x" + item.hex()
        return cls.from_rpc(block, qbft=None)

    def to_json(self) -> dict[str, Any]:
        """``{"hash": ..., "fields": {name: hex}}``, the fields in RLP order."""
        return {"hash": self.hash, "fields": dict(self.fields)}

    def values(self) -> list[bytes | int]:
        """The RLP items: quantities as ints, the rest as bytes.

        Raises:
            HeaderError: a field is malformed.
        """
        kinds = dict(BASE_FIELDS + FORK_FIELDS)
        out: list[bytes | int] = []
        for name, value in self.fields:
            kind = kinds[name]
            out.append(_int(name, value) if kind == "int" else _bytes(name, kind, value))
        return out

    def rlp(self) -> bytes:
        """The RLP encoding of the header (what the block hash is the keccak of)."""
        return bytes(rlp.encode(self.values()))

    def byte_fields(self) -> list[bytes]:
        """The RLP items as byte strings (quantities minimal big-endian), as :mod:`registry.chain.qbft`
        takes them; they encode to the same :meth:`rlp`."""
        return [v if isinstance(v, bytes) else rlp.sedes.big_endian_int.serialize(v) for v in self.values()]

    def computed_hash(self) -> str:
        """keccak256 of :meth:`rlp` (on QBFT: the QBFT block hash), 0x-prefixed hex.

        Raises:
            HeaderError: a field is malformed (on QBFT: the ``extraData`` is not QBFT's).
        """
        if not self.qbft:
            return "0x" + keccak(self.rlp()).hex()
        try:
            return "0x" + qbft_chain.block_hash(self.byte_fields()).hex()
        except qbft_chain.QbftError as exc:
            raise HeaderError(f"header {self.number}: {exc}") from None

    def check(self) -> None:
        """Refuse a header whose RLP does not hash to :attr:`hash`.

        Raises:
            HeaderError: it does not, or a field is malformed.
        """
        computed = self.computed_hash()
        if computed != self.hash:
            how = " (QBFT: seals removed, round 0)" if self.qbft else ""
            raise HeaderError(f"the header hashes{how} to {computed}, not to the block hash {self.hash}")

    def field(self, name: str) -> str:
        """One field's hex value (``KeyError`` when the header has no such field)."""
        return dict(self.fields)[name]

    @property
    def number(self) -> int:
        return _int("number", self.field("number"))

    @property
    def timestamp(self) -> int:
        return _int("timestamp", self.field("timestamp"))

    @property
    def state_root(self) -> bytes:
        return _bytes("stateRoot", "hash", self.field("stateRoot"))

    @property
    def parent_hash(self) -> str:
        return self.field("parentHash")

    @property
    def receipts_root(self) -> bytes:
        return _bytes("receiptsRoot", "hash", self.field("receiptsRoot"))
