"""QBFT block headers as Hyperledger Besu writes them: the ``extraData`` codec, the two header hashes
and commit-seal verification against a validator set.

On a QBFT chain (block-header validator selection) a header's ``extraData`` is the RLP list::

    [vanity (32 bytes), [validator addresses], vote, round, [commit seals]]

- ``vote`` is the empty list when the proposer casts none, else ``[recipient, 0xff]`` to add a
  validator or ``[recipient, ""]`` to drop one (Besu writes the drop as the empty string and reads a
  ``0x00`` byte as a drop too);
- ``round`` is a canonical RLP scalar (minimal big-endian bytes, ``0x80`` for round 0), not IBFT 2.0's
  fixed four bytes: a round with leading zero bytes is refused, as Besu's ``readIntScalar`` refuses it;
- each commit seal is 65 bytes ``r ‖ s ‖ recovery id`` (0 or 1), a validator's secp256k1 signature.

Two hashes are taken over a header whose ``extraData`` is re-encoded (Besu's ``BftBlockHashing``):

- the **commit-seal digest** (:func:`commit_seal_digest`): seals replaced by the empty list, the round
  kept. Validators sign it, so a seal binds the round it was made in;
- the **block hash** (:func:`block_hash`, what ``eth_getBlockByNumber`` returns and what the next
  header's ``parentHash`` names): seals empty *and* the round written as 0, so every round's proposal
  of one block has one hash. The genesis block (number 0) hashes its ``extraData`` as it is.

A block is final when distinct members of the validator set in force — the validators listed in its
**parent's** ``extraData`` (Besu's ``getValidatorsAfterBlock(parent)``) — number at least the quorum
``ceil(2n/3)`` (:func:`quorum`) of seals; :func:`verify_commit_seals` checks exactly that and
:func:`verify_child` the parent link too. QBFT finality is immediate: a sealed block is never reorganised.

Headers are handled as their RLP field lists (``list[bytes]``, ``extraData`` at index 12), so any header
codec (Ethereum fork fields included) feeds them in; :func:`header_fields` splits an encoded header.

Sources: Besu ``QbftExtraDataCodec``, ``BftBlockHashing``, ``BftCommitSealsValidationRule`` and
``BftHelpers.calculateRequiredValidatorQuorum`` (consensus/qbft, consensus/common); QBFT genesis layout
in Besu's documentation ("Configure QBFT consensus").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import rlp
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.errors import RegistryError

__all__ = [
    "EXTRA_DATA_INDEX",
    "NUMBER_INDEX",
    "PARENT_HASH_INDEX",
    "VANITY_LENGTH",
    "CommitSealError",
    "ExtraDataError",
    "QbftError",
    "QbftExtraData",
    "Vote",
    "block_hash",
    "commit_seal_digest",
    "extra_data_of",
    "genesis_extra_data",
    "header_fields",
    "quorum",
    "recover_committers",
    "verify_child",
    "verify_commit_seals",
]

VANITY_LENGTH = 32
SEAL_LENGTH = 65
ADD_VOTE = b"\xff"
DROP_VOTE = b""
PARENT_HASH_INDEX = 0
NUMBER_INDEX = 8
EXTRA_DATA_INDEX = 12
_MAX_ROUND = 2**31 - 1  # Besu holds the round in a Java int
_ITEMS = 5


class QbftError(RegistryError):
    """Base for QBFT header failures: a malformed ``extraData`` or seals that do not finalise a block."""

    code = "qbft_invalid"


class ExtraDataError(QbftError):
    """Raised when bytes are not a QBFT ``extraData`` as Besu encodes it (the reason says which part)."""

    code = "qbft_extra_data"


class CommitSealError(QbftError):
    """Raised when a header's commit seals do not finalise it: too few, a duplicate signer, a signer
    outside the validator set, an unrecoverable seal, or a parent link that does not hold."""

    code = "qbft_commit_seals"


@dataclass(frozen=True)
class Vote:
    """A proposer's vote carried in a header: add (``add=True``) or drop ``recipient`` as a validator."""

    recipient: str
    add: bool


@dataclass(frozen=True)
class QbftExtraData:
    """The decoded ``extraData`` of a QBFT header. Addresses are EIP-55 checksummed strings."""

    validators: tuple[str, ...]
    vanity: bytes = bytes(VANITY_LENGTH)
    vote: Vote | None = None
    round: int = 0
    seals: tuple[bytes, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.vanity) != VANITY_LENGTH:
            raise ExtraDataError(f"the vanity is {len(self.vanity)} bytes, not {VANITY_LENGTH}")
        if not 0 <= self.round <= _MAX_ROUND:
            raise ExtraDataError(f"the round {self.round} is outside 0..{_MAX_ROUND}")
        for seal in self.seals:
            if len(seal) != SEAL_LENGTH:
                raise ExtraDataError(f"a commit seal is {len(seal)} bytes, not {SEAL_LENGTH}")

    # ------------------------------------------------------------------ encoding

    def encode(self) -> bytes:
        """The full ``extraData`` (seals and round included), byte for byte as Besu writes it."""
        return self._encode(round_=self.round, seals=self.seals)

    def encode_for_commit_seal(self) -> bytes:
        """``extraData`` as hashed for the commit-seal digest: no seals, the round kept."""
        return self._encode(round_=self.round, seals=())

    def encode_for_block_hash(self) -> bytes:
        """``extraData`` as hashed for the block hash: no seals, the round written as 0."""
        return self._encode(round_=0, seals=())

    def _encode(self, *, round_: int, seals: Sequence[bytes]) -> bytes:
        vote: list[bytes] = (
            []
            if self.vote is None
            else [_address_bytes(self.vote.recipient), ADD_VOTE if self.vote.add else DROP_VOTE]
        )
        validators = [_address_bytes(v) for v in self.validators]
        return bytes(rlp.encode([self.vanity, validators, vote, _scalar(round_), list(seals)]))

    # ------------------------------------------------------------------ decoding

    @classmethod
    def decode(cls, raw: bytes) -> QbftExtraData:
        """Decode a header's ``extraData``.

        Raises:
            ExtraDataError: not canonical RLP, not five items, a vanity other than 32 bytes, an address
                other than 20 bytes, a vote that is neither add nor drop, a non-canonical or oversized
                round, or a seal other than 65 bytes.
        """
        if not raw:
            raise ExtraDataError("the extraData is empty (a QBFT header carries its validators there)")
        try:
            items = rlp.decode(raw, strict=True)
        except rlp.exceptions.DecodingError as exc:
            raise ExtraDataError(f"the extraData is not canonical RLP: {exc}") from exc
        if not isinstance(items, list) or len(items) != _ITEMS:
            count = len(items) if isinstance(items, list) else "no"
            raise ExtraDataError(
                f"the extraData has {count} items; QBFT has five: vanity, validators, vote, round, seals"
            )
        vanity, validators, vote, round_, seals = items
        if not isinstance(vanity, bytes):
            raise ExtraDataError("the vanity is a list, not 32 bytes")
        if not isinstance(validators, list):
            raise ExtraDataError("the validators are not a list")
        if not isinstance(seals, list) or not all(isinstance(s, bytes) for s in seals):
            raise ExtraDataError("the commit seals are not a list of byte strings")
        return cls(
            vanity=vanity,
            validators=tuple(_address(v, "a validator") for v in validators),
            vote=_decode_vote(vote),
            round=_decode_round(round_),
            seals=tuple(seals),
        )


def genesis_extra_data(validators: Iterable[str], vanity: bytes = bytes(VANITY_LENGTH)) -> bytes:
    """The genesis ``extraData`` of a QBFT network: the vanity, the initial validators, no vote, round 0
    and no seals (what Besu's ``QbftExtraDataCodec.encodeFromAddresses`` writes)."""
    return QbftExtraData(validators=tuple(to_checksum_address(v) for v in validators), vanity=vanity).encode()


def quorum(validator_count: int) -> int:
    """Commit seals a block needs: ``ceil(2n/3)`` of ``n`` validators (3 of 4, 5 of 7)."""
    if validator_count < 1:
        raise CommitSealError("a validator set is never empty")
    return -(-2 * validator_count // 3)


# ---------------------------------------------------------------------- headers


def header_fields(encoded_header: bytes) -> list[bytes]:
    """The RLP items of an encoded block header (``extraData`` at :data:`EXTRA_DATA_INDEX`).

    Raises:
        ExtraDataError: not an RLP list of byte strings long enough to hold an ``extraData``.
    """
    try:
        fields = rlp.decode(encoded_header, strict=True)
    except rlp.exceptions.DecodingError as exc:
        raise ExtraDataError(f"the header is not canonical RLP: {exc}") from exc
    if not isinstance(fields, list) or len(fields) <= EXTRA_DATA_INDEX:
        raise ExtraDataError("the header is not an RLP list of at least 13 fields")
    if not all(isinstance(f, bytes) for f in fields):
        raise ExtraDataError("a header field is a list")
    return fields


def extra_data_of(fields: Sequence[bytes]) -> QbftExtraData:
    """The decoded ``extraData`` of a header given as its RLP fields."""
    _check_fields(fields)
    return QbftExtraData.decode(fields[EXTRA_DATA_INDEX])


def commit_seal_digest(fields: Sequence[bytes]) -> bytes:
    """keccak256 of the header with its seals removed and its round kept: what each validator signs."""
    return _hash_with(fields, extra_data_of(fields).encode_for_commit_seal())


def block_hash(fields: Sequence[bytes]) -> bytes:
    """The block's hash on a QBFT chain (seals removed, round 0), as ``eth_getBlock*`` and the child's
    ``parentHash`` give it; the genesis block hashes its header unchanged."""
    _check_fields(fields)
    if _number(fields) == 0:
        return keccak(rlp.encode(list(fields)))
    return _hash_with(fields, extra_data_of(fields).encode_for_block_hash())


def recover_committers(fields: Sequence[bytes]) -> tuple[str, ...]:
    """The addresses that made each commit seal of the header, in seal order (duplicates kept).

    Raises:
        CommitSealError: a seal whose recovery id is not 0 or 1, or that recovers no public key.
    """
    digest = commit_seal_digest(fields)
    committers = []
    for index, seal in enumerate(extra_data_of(fields).seals):
        if seal[64] not in (0, 1):
            raise CommitSealError(f"commit seal {index} has recovery id {seal[64]}, not 0 or 1")
        try:
            signature = Signature(signature_bytes=seal)
            committers.append(signature.recover_public_key_from_msg_hash(digest).to_checksum_address())
        except (BadSignature, ValueError) as exc:
            raise CommitSealError(f"commit seal {index} recovers no key: {exc}") from exc
    return tuple(committers)


def verify_commit_seals(fields: Sequence[bytes], validators: Iterable[str]) -> tuple[str, ...]:
    """Check that the header is sealed by a quorum of distinct members of ``validators`` (the set in
    force for it: its parent's ``extraData`` validators). Returns the committers, in seal order.

    Raises:
        CommitSealError: a duplicate signer, a signer outside the set, or fewer than :func:`quorum`.
    """
    members = {to_checksum_address(v) for v in validators}
    committers = recover_committers(fields)
    if len(set(committers)) != len(committers):
        duplicated = sorted({c for c in committers if committers.count(c) > 1})
        raise CommitSealError(f"duplicated commit seals by {', '.join(duplicated)}")
    outsiders = [c for c in committers if c not in members]
    if outsiders:
        raise CommitSealError(f"commit seals by non-validators: {', '.join(outsiders)}")
    needed = quorum(len(members))
    if len(committers) < needed:
        raise CommitSealError(
            f"{len(committers)} commit seals; {needed} of {len(members)} validators must seal a block"
        )
    return committers


def verify_child(fields: Sequence[bytes], parent_fields: Sequence[bytes]) -> tuple[str, ...]:
    """Check a header against its parent: number and ``parentHash`` link, then its seals against the
    validators the parent lists. Returns the committers.

    Raises:
        CommitSealError: the link does not hold or the seals do not finalise the header.
        ExtraDataError: either header's ``extraData`` is malformed.
    """
    _check_fields(fields)
    _check_fields(parent_fields)
    if _number(fields) != _number(parent_fields) + 1:
        raise CommitSealError(f"block {_number(fields)} does not follow block {_number(parent_fields)}")
    if fields[PARENT_HASH_INDEX] != block_hash(parent_fields):
        raise CommitSealError(f"block {_number(fields)} names another parent than the header given")
    return verify_commit_seals(fields, extra_data_of(parent_fields).validators)


# ---------------------------------------------------------------------- helpers


def _hash_with(fields: Sequence[bytes], extra_data: bytes) -> bytes:
    replaced = list(fields)
    replaced[EXTRA_DATA_INDEX] = extra_data
    return keccak(rlp.encode(replaced))


def _check_fields(fields: Sequence[bytes]) -> None:
    if len(fields) <= EXTRA_DATA_INDEX or not all(isinstance(f, bytes) for f in fields):
        raise ExtraDataError("a header is at least 13 RLP byte-string fields")


def _number(fields: Sequence[bytes]) -> int:
    return int.from_bytes(fields[NUMBER_INDEX], "big")


def _scalar(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(to_checksum_address(address)[2:])


def _address(item: object, what: str) -> str:
    if not isinstance(item, bytes) or len(item) != 20:
        size = f"{len(item)} bytes" if isinstance(item, bytes) else "a list"
        raise ExtraDataError(f"{what} address is {size}, not 20 bytes")
    return to_checksum_address(item)


def _decode_vote(item: object) -> Vote | None:
    if not isinstance(item, list):
        raise ExtraDataError("the vote is a byte string; QBFT writes a list (empty for no vote)")
    if not item:
        return None
    if len(item) != 2 or not isinstance(item[1], bytes):
        raise ExtraDataError("a vote is [recipient, 0xff (add) or empty (drop)]")
    recipient = _address(item[0], "the vote's recipient")
    if item[1] == ADD_VOTE:
        return Vote(recipient, add=True)
    if item[1] in (DROP_VOTE, b"\x00"):
        return Vote(recipient, add=False)
    raise ExtraDataError(f"the vote type 0x{item[1].hex()} is neither add (0xff) nor drop (empty)")


def _decode_round(item: object) -> int:
    if not isinstance(item, bytes):
        raise ExtraDataError("the round is a list, not a scalar")
    if item[:1] == b"\x00":
        raise ExtraDataError("the round has leading zero bytes (QBFT writes a canonical scalar)")
    if len(item) > 4:
        raise ExtraDataError(f"the round is {len(item)} bytes; Besu's round fits in 4")
    return int.from_bytes(item, "big")
