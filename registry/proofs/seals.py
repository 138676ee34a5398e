"""QBFT commit seals as the trust root of offline proofs: a bundle's (or an attestation's) headers are
final because a quorum of the network's validators sealed them, not because the registry says so.

The verifier is given the validator set it trusts (:func:`load_validators`): the network's genesis
file, as ``deploy/besu`` writes it (``config.chainId`` and the validators in ``extraData``), or a list
of addresses (a JSON list, or ``{"validators": [...]}``, optionally with ``chainId``). Then, for every
header (:func:`verify_sealed`):

1. its hash is the Besu QBFT block hash (:class:`~registry.proofs.headers.Header` with ``qbft=True``,
   checked where it is read; the parent links are checked on that hash by the caller);
2. the validators its ``extraData`` lists are exactly the trusted set (``validator_set``). The set a
   header lists is the set in force for it (Besu's ``BftValidatorsValidationRule``: the set after the
   parent's votes), so a list that differs means a vote changed the set before or inside the range.
   Following the votes is not done: their tally starts at the epoch block, before the bundle, so it
   cannot be recomputed from the bundle alone. Such a bundle is refused, naming the block and the
   change; a vote that does not change the set (a pending one) is reported, not refused;
3. its seals are made by distinct members of the set, at least :func:`~registry.chain.qbft.quorum`
   of them (``commit_seals``). A seal that recovers to a stranger is tried against the header's other
   rounds, so a seal replayed from another round is named as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from registry.chain import qbft
from registry.proofs.errors import SealError
from registry.proofs.headers import Header

__all__ = ["SealedRange", "ValidatorTrust", "load_validators", "verify_sealed"]

_REPLAY_ROUNDS = 16
"""Rounds tried when naming a replayed seal: 0..15 and the two either side of the header's (QBFT rounds
rarely pass a handful); a seal from a round outside them is named a non-validator's only."""


@dataclass(frozen=True, slots=True)
class ValidatorTrust:
    """The validator set a verifier trusts, and the chain it is of (None: the file does not say)."""

    validators: tuple[str, ...]
    chain_id: int | None = None
    source: str = "validator list"

    def __post_init__(self) -> None:
        if not self.validators:
            raise SealError("the trusted validator set is empty", "validator_set")
        if len(set(self.validators)) != len(self.validators):
            raise SealError("the trusted validator set names a validator twice", "validator_set")

    @property
    def quorum(self) -> int:
        return qbft.quorum(len(self.validators))

    def describe(self) -> str:
        """``"QBFT seals of 4 validators"``: how the verifier's result names this trust root."""
        n = len(self.validators)
        return f"QBFT seals of {n} validators (quorum {self.quorum}, from the {self.source})"

    def check_chain(self, chain_id: Any) -> None:
        """Refuse a document of another chain than the genesis (when the trust file names one)."""
        if self.chain_id is not None and chain_id != self.chain_id:
            raise SealError(
                f"the validators are of chain {self.chain_id}; the file says chain {chain_id}",
                "validator_set",
            )


@dataclass(frozen=True, slots=True)
class SealedRange:
    """What :func:`verify_sealed` found: the committers of each header and the votes it saw."""

    committers: dict[int, tuple[str, ...]]
    votes: list[str]


def load_validators(data: Any) -> ValidatorTrust:
    """The trusted validator set from a parsed JSON trust file: a Besu QBFT genesis, a list of addresses,
    or ``{"validators": [...], "chainId": N}``.

    Raises:
        SealError: (``validator_set``) none of these shapes, an address that is not one, or a genesis
            whose ``extraData`` is not QBFT's.
    """
    if isinstance(data, Mapping) and "extraData" in data:
        config = data.get("config")
        if not isinstance(config, Mapping) or "qbft" not in config:
            raise SealError("the genesis has no config.qbft: not a QBFT network", "validator_set")
        raw = data["extraData"]
        try:
            extra = qbft.QbftExtraData.decode(bytes.fromhex(str(raw).removeprefix("0x")))
        except (ValueError, qbft.QbftError) as exc:
            raise SealError(f"the genesis extraData: {exc}", "validator_set") from None
        chain_id = config.get("chainId")
        return ValidatorTrust(extra.validators, _chain_id(chain_id), "genesis")
    chain_id = None
    if isinstance(data, Mapping) and "validators" in data:
        chain_id = _chain_id(data.get("chainId"))
        data = data["validators"]
    if not isinstance(data, list) or not all(isinstance(v, str) and is_address(v) for v in data):
        raise SealError(
            "the trust file is neither a QBFT genesis nor a list of validator addresses", "validator_set"
        )
    return ValidatorTrust(tuple(to_checksum_address(v) for v in data), chain_id)


def _chain_id(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SealError("the trust file's chainId is not a number", "validator_set")
    return value


def verify_sealed(headers: Sequence[Header], trust: ValidatorTrust) -> SealedRange:
    """Check that every header (read with ``qbft=True``) lists the trusted set and is sealed by a quorum
    of it. Parent links are the caller's (they are on :attr:`Header.hash`, the QBFT hash).

    Raises:
        SealError: ``validator_set`` when a header lists another set, ``commit_seals`` when its seals
            do not finalise it.
    """
    trusted = set(trust.validators)
    committers: dict[int, tuple[str, ...]] = {}
    votes: list[str] = []
    for header in headers:
        if not header.qbft:
            raise SealError(f"header {header.number} was not read as a QBFT header", "commit_seals")
        fields = header.byte_fields()
        try:
            extra = qbft.extra_data_of(fields)
        except qbft.QbftError as exc:
            raise SealError(f"header {header.number}: {exc}", "commit_seals") from None
        listed = set(extra.validators)
        if listed != trusted:
            added, dropped = sorted(listed - trusted), sorted(trusted - listed)
            raise SealError(
                f"header {header.number} lists another validator set than the trusted one "
                f"(added {added or 'none'}, dropped {dropped or 'none'}): the set changed by vote, and "
                "votes are not followed; verify with the set in force at this bundle's blocks",
                "validator_set",
            )
        if extra.vote is not None:
            verb = "add" if extra.vote.add else "drop"
            votes.append(f"block {header.number}: a vote to {verb} {extra.vote.recipient} (set unchanged)")
        try:
            committers[header.number] = qbft.verify_commit_seals(fields, trust.validators)
        except qbft.QbftError as exc:
            raise SealError(f"header {header.number}: {_diagnose(fields, extra, trusted, exc)}") from None
    return SealedRange(committers, votes)


def _diagnose(fields: list[bytes], extra: qbft.QbftExtraData, trusted: set[str], exc: qbft.QbftError) -> str:
    """The refusal's reason, naming a seal replayed from another round when that is what it is."""
    try:
        found = qbft.recover_committers(fields)
    except qbft.QbftError:
        return str(exc)
    for index, (seal, who) in enumerate(zip(extra.seals, found, strict=True)):
        if who in trusted:
            continue
        nearby = {extra.round + d for d in (-2, -1, 1, 2) if 0 <= extra.round + d < 2**31}
        for other in sorted((set(range(_REPLAY_ROUNDS)) | nearby) - {extra.round}):
            moved = list(fields)
            moved[qbft.EXTRA_DATA_INDEX] = qbft.QbftExtraData(
                validators=extra.validators, vanity=extra.vanity, vote=extra.vote, round=other, seals=(seal,)
            ).encode()
            if qbft.recover_committers(moved)[0] in trusted:
                return (
                    f"commit seal {index} was made for round {other}, not for the header's round "
                    f"{extra.round} (a replayed seal); {exc}"
                )
    return str(exc)
