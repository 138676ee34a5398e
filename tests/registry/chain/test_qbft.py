"""QBFT extraData and commit seals, against vectors from Besu's own tests and documentation and against
hand-built headers sealed by real secp256k1 keys (four validators: Alba, Brno, Cork, Doha)."""

from __future__ import annotations

import pytest
import rlp
from eth_keys import keys
from eth_utils.crypto import keccak

from registry.chain import qbft
from registry.chain.qbft import CommitSealError, ExtraDataError, QbftExtraData, Vote

# Besu, consensus/qbft/src/test/java/org/hyperledger/besu/consensus/qbft/pki/PkiQbftExtraDataCodecTest.java
# (hyperledger/besu @ a07cb58e), RAW_QBFT_EXTRA_DATA: vanity 0x01..0x20, validators 0x…01 and 0x…02, an add
# vote for 0x…01, round 0xFEDCBA, two seals (r=1, s=10, v=0) and (r=10, s=1, v=0).
BESU_TEST_VECTOR = bytes.fromhex(
    "f8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000"
    "000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000"
    "00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000"
    "0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a"
    "00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000"
    "00000000000000000000000000000000000000000000000100"
)

# Besu documentation, "Configure QBFT consensus", example genesis file (block header validator selection):
# https://besu.hyperledger.org/private-networks/how-to/configure/consensus/qbft
BESU_DOCS_GENESIS_EXTRA_DATA = bytes.fromhex(
    "f87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638"
    "cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2"
    "f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0"
)


def _addr(n: int) -> str:
    from eth_utils.address import to_checksum_address

    return to_checksum_address(n.to_bytes(20, "big"))


def _seal(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def test_besu_test_vector_decodes_to_its_fields() -> None:
    extra = QbftExtraData.decode(BESU_TEST_VECTOR)
    assert extra.vanity == bytes(range(1, 33))
    assert extra.validators == (_addr(1), _addr(2))
    assert extra.vote == Vote(_addr(1), add=True)
    assert extra.round == 0xFEDCBA
    assert extra.seals == (_seal(1, 10, 0), _seal(10, 1, 0))


def test_besu_test_vector_is_reencoded_byte_for_byte() -> None:
    extra = QbftExtraData(
        vanity=bytes(range(1, 33)),
        validators=(_addr(1), _addr(2)),
        vote=Vote(_addr(1), add=True),
        round=0xFEDCBA,
        seals=(_seal(1, 10, 0), _seal(10, 1, 0)),
    )
    assert extra.encode() == BESU_TEST_VECTOR


def test_besu_documentation_genesis_decodes_as_four_validators_no_vote_round_zero_no_seals() -> None:
    extra = QbftExtraData.decode(BESU_DOCS_GENESIS_EXTRA_DATA)
    assert [v.lower() for v in extra.validators] == [
        "0x64a702e6263b7297a96638cac6ae65e6541f4169",
        "0x3923390ad55e90c237593b3b0e401f3b08a03185",
        "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
        "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
    ]
    assert (extra.vanity, extra.vote, extra.round, extra.seals) == (bytes(32), None, 0, ())
    assert qbft.genesis_extra_data(extra.validators) == BESU_DOCS_GENESIS_EXTRA_DATA


def test_hand_built_spec_vector_drop_vote_is_the_empty_string() -> None:
    # [32 zero bytes, [0x…0a], [0x…0b, ""], round 7, []] written out item by item from the RLP rules.
    by_hand = (
        bytes([0xF8, 0x50])  # a list of 80 bytes: 33 + 22 + 23 + 1 + 1
        + bytes([0xA0])
        + bytes(32)
        + bytes([0xD5, 0x94])
        + (10).to_bytes(20, "big")
        + bytes([0xD6, 0x94])
        + (11).to_bytes(20, "big")
        + bytes([0x80])  # drop: the empty string
        + bytes([0x07])  # round 7: a one-byte scalar is itself
        + bytes([0xC0])  # no seals
    )
    extra = QbftExtraData(validators=(_addr(10),), vote=Vote(_addr(11), add=False), round=7)
    assert extra.encode() == by_hand
    assert QbftExtraData.decode(by_hand) == extra


def test_a_zero_byte_vote_reads_as_a_drop_as_besu_reads_it() -> None:
    raw = rlp.encode([bytes(32), [], [(11).to_bytes(20, "big"), b"\x00"], b"", []])
    assert QbftExtraData.decode(raw).vote == Vote(_addr(11), add=False)


def test_the_two_hashing_encodings_drop_seals_and_then_the_round() -> None:
    extra = QbftExtraData.decode(BESU_TEST_VECTOR)
    for_seal = rlp.decode(extra.encode_for_commit_seal())
    for_hash = rlp.decode(extra.encode_for_block_hash())
    assert for_seal[3] == (0xFEDCBA).to_bytes(3, "big") and for_seal[4] == []
    assert for_hash[3] == b"" and for_hash[4] == []
    assert for_seal[:3] == for_hash[:3] == rlp.decode(BESU_TEST_VECTOR)[:3]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (rlp.encode([bytes(32), [], [], b""]), "4 items"),
        (rlp.encode([bytes(31), [], [], b"", []]), "vanity is 31 bytes"),
        (rlp.encode([bytes(32), [bytes(19)], [], b"", []]), "19 bytes"),
        (rlp.encode([bytes(32), [], [bytes(20), b"\xaa"], b"", []]), "0xaa"),
        (rlp.encode([bytes(32), [], b"", b"", []]), "the vote is a byte string"),
        (rlp.encode([bytes(32), [], [], b"\x00\x01", []]), "leading zero"),
        (rlp.encode([bytes(32), [], [], b"\x01\x00\x00\x00\x00", []]), "5 bytes"),
        (rlp.encode([bytes(32), [], [], b"", [bytes(64)]]), "64 bytes"),
        (BESU_TEST_VECTOR + b"\x00", "not canonical RLP"),
    ],
)
def test_malformed_extra_data_is_refused_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ExtraDataError, match=reason):
        QbftExtraData.decode(raw)


def test_quorum_is_two_thirds_rounded_up() -> None:
    assert [qbft.quorum(n) for n in (1, 2, 3, 4, 5, 6, 7, 10)] == [1, 2, 2, 3, 4, 4, 5, 7]


# ---------------------------------------------------------------------- sealed headers

KEYS = {name: keys.PrivateKey(keccak(name.encode())) for name in ("Alba", "Brno", "Cork", "Doha", "Elst")}
VALIDATORS = tuple(KEYS[n].public_key.to_checksum_address() for n in ("Alba", "Brno", "Cork", "Doha"))


def _header(number: int, extra: bytes, parent_hash: bytes = bytes(32)) -> list[bytes]:
    """A London-shaped header: 16 fields, extraData at 12, baseFee last."""
    return [
        parent_hash,
        keccak(rlp.encode([])),  # ommers
        bytes(20),
        b"\x11" * 32,
        b"\x22" * 32,
        b"\x33" * 32,
        bytes(256),
        b"\x01",
        rlp.sedes.big_endian_int.serialize(number),
        (30_000_000).to_bytes(4, "big"),
        b"",
        (1_700_000_000 + number).to_bytes(4, "big"),
        extra,
        bytes.fromhex("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"),
        bytes(8),
        b"",  # baseFee 0
    ]


def _sealed(number: int, signers: list[str], round_: int = 0, parent_hash: bytes = bytes(32)) -> list[bytes]:
    unsealed = QbftExtraData(validators=VALIDATORS, round=round_)
    fields = _header(number, unsealed.encode(), parent_hash)
    digest = qbft.commit_seal_digest(fields)
    seals = tuple(KEYS[s].sign_msg_hash(digest).to_bytes() for s in signers)
    fields[qbft.EXTRA_DATA_INDEX] = QbftExtraData(validators=VALIDATORS, round=round_, seals=seals).encode()
    return fields


def test_the_commit_seal_digest_is_the_header_with_seals_emptied_and_the_round_kept() -> None:
    fields = _sealed(5, ["Alba", "Brno", "Cork"], round_=2)
    by_hand = list(fields)
    by_hand[12] = rlp.encode([bytes(32), [bytes.fromhex(v[2:]) for v in VALIDATORS], [], b"\x02", []])
    assert qbft.commit_seal_digest(fields) == keccak(rlp.encode(by_hand))


def test_the_block_hash_ignores_seals_and_round() -> None:
    round_0 = _sealed(5, ["Alba", "Brno", "Cork"], round_=0)
    round_3 = _sealed(5, ["Brno", "Cork", "Doha"], round_=3)
    assert qbft.block_hash(round_0) == qbft.block_hash(round_3)
    assert qbft.commit_seal_digest(round_0) != qbft.commit_seal_digest(round_3)
    by_hand = list(round_3)
    by_hand[12] = rlp.encode([bytes(32), [bytes.fromhex(v[2:]) for v in VALIDATORS], [], b"", []])
    assert qbft.block_hash(round_3) == keccak(rlp.encode(by_hand))


def test_the_genesis_hash_covers_its_extra_data_unchanged() -> None:
    fields = _header(0, qbft.genesis_extra_data(VALIDATORS))
    assert qbft.block_hash(fields) == keccak(rlp.encode(fields))


def test_three_of_four_validators_finalise_a_block() -> None:
    fields = _sealed(9, ["Doha", "Alba", "Cork"])
    assert qbft.verify_commit_seals(fields, VALIDATORS) == (VALIDATORS[3], VALIDATORS[0], VALIDATORS[2])


def test_two_of_four_seals_are_too_few() -> None:
    with pytest.raises(CommitSealError, match="2 commit seals; 3 of 4"):
        qbft.verify_commit_seals(_sealed(9, ["Alba", "Brno"]), VALIDATORS)


def test_a_seal_by_a_non_validator_is_refused() -> None:
    elst = KEYS["Elst"].public_key.to_checksum_address()
    with pytest.raises(CommitSealError, match=f"non-validators: {elst}"):
        qbft.verify_commit_seals(_sealed(9, ["Alba", "Brno", "Elst"]), VALIDATORS)


def test_one_validator_sealing_twice_counts_as_a_duplicate() -> None:
    with pytest.raises(CommitSealError, match="duplicated commit seals"):
        qbft.verify_commit_seals(_sealed(9, ["Alba", "Alba", "Brno"]), VALIDATORS)


def test_seals_replayed_under_another_round_recover_strangers() -> None:
    fields = _sealed(9, ["Alba", "Brno", "Cork"], round_=1)
    replayed = QbftExtraData.decode(fields[12])
    fields[12] = QbftExtraData(validators=VALIDATORS, round=2, seals=replayed.seals).encode()
    with pytest.raises(CommitSealError, match="non-validators"):
        qbft.verify_commit_seals(fields, VALIDATORS)


def test_a_seal_with_recovery_id_27_is_refused() -> None:
    fields = _sealed(9, ["Alba", "Brno", "Cork"])
    extra = QbftExtraData.decode(fields[12])
    bad = (extra.seals[0][:64] + bytes([27]), *extra.seals[1:])
    fields[12] = QbftExtraData(validators=VALIDATORS, seals=bad).encode()
    with pytest.raises(CommitSealError, match="recovery id 27"):
        qbft.recover_committers(fields)


def test_a_child_is_checked_against_its_parents_hash_and_validators() -> None:
    parent = _sealed(9, ["Alba", "Brno", "Cork"])
    child = _sealed(10, ["Brno", "Cork", "Doha"], parent_hash=qbft.block_hash(parent))
    assert len(qbft.verify_child(child, parent)) == 3
    orphan = _sealed(10, ["Brno", "Cork", "Doha"], parent_hash=keccak(rlp.encode(parent)))
    with pytest.raises(CommitSealError, match="another parent"):
        qbft.verify_child(orphan, parent)
    with pytest.raises(CommitSealError, match="does not follow"):
        qbft.verify_child(_sealed(12, ["Alba", "Brno", "Cork"]), parent)


def test_header_fields_split_an_encoded_header() -> None:
    fields = _sealed(3, ["Alba", "Brno", "Cork"])
    assert qbft.header_fields(rlp.encode(fields)) == fields
    with pytest.raises(ExtraDataError, match="13 fields"):
        qbft.header_fields(rlp.encode(fields[:12]))
