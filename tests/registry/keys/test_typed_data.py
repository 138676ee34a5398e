"""EIP-712 typed data: hand-rolled digests equal eth_account's, signatures verify like OpenZeppelin."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.datatypes import Signature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.keys import (
    Domain,
    InvalidSignatureError,
    IssuanceMessage,
    KeyRegistrationMessage,
    LocalSigner,
    TitleActionMessage,
    recover_signer,
    verify_typed_signature,
)
from registry.keys.typed_data import (
    EIP712_DOMAIN_TYPE,
    ISSUANCE_TYPE,
    SECP256K1_N,
    TITLE_ACTION_TYPE,
)
from registry.types import Action, DocumentKind

TITLE_TYPES_SOL = Path(__file__).resolve().parents[3] / "contracts" / "lib" / "TitleTypes.sol"

REGISTRY = to_checksum_address("0x" + "5f" * 20)
DOMAIN = Domain(chain_id=31337, verifying_contract=REGISTRY)
HOLDER = LocalSigner(bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))
BANK = LocalSigner(b"\x42" * 32)
CARRIER = LocalSigner(b"\x07" * 32)

uint256 = st.integers(min_value=0, max_value=2**256 - 1)
bytes32 = st.binary(min_size=32, max_size=32)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
domains = st.builds(
    Domain, chain_id=st.integers(min_value=1, max_value=2**53 - 1), verifying_contract=addresses
)
title_actions = st.builds(
    TitleActionMessage,
    action=st.sampled_from(Action),
    ebl_id=uint256,
    party=addresses,
    data=bytes32,
    nonce=uint256,
    deadline=uint256,
)
issuances = st.builds(
    IssuanceMessage,
    tdr_hash=bytes32,
    doc_hash=bytes32,
    issue_to=addresses,
    endorsee=addresses,
    kind=st.sampled_from(DocumentKind),
    nonce=uint256,
    deadline=uint256,
)


def transfer_to_bank(**overrides: Any) -> TitleActionMessage:
    """A holder's TRANSFER of eBL 1 to the bank."""
    fields: dict[str, Any] = {
        "action": Action.TRANSFER,
        "ebl_id": 1,
        "party": BANK.address,
        "data": bytes(32),
        "nonce": 0,
        "deadline": 1_900_000_000,
    }
    fields.update(overrides)
    return TitleActionMessage(**fields)


def eth_account_digest(typed: dict[str, Any]) -> bytes:
    """Reference digest: eth_account's encode_typed_data, hashed as EIP-191 version 0x01."""
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def with_s(signature: bytes, s: int, v: int) -> bytes:
    """The signature with s and v replaced."""
    return signature[:32] + s.to_bytes(32, "big") + bytes([v])


# --- digests ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(message=title_actions, domain=domains)
def test_title_action_digest_matches_eth_account(message: TitleActionMessage, domain: Domain) -> None:
    """For random TitleActions and domains the hand-rolled digest equals eth_account's encode_typed_data."""
    assert message.digest(domain) == eth_account_digest(message.to_typed_data(domain))


@settings(max_examples=200, deadline=None)
@given(message=issuances, domain=domains)
def test_issuance_digest_matches_eth_account(message: IssuanceMessage, domain: Domain) -> None:
    """For random Issuances and domains the hand-rolled digest equals eth_account's encode_typed_data."""
    assert message.digest(domain) == eth_account_digest(message.to_typed_data(domain))


@settings(max_examples=50, deadline=None)
@given(domain=domains)
def test_domain_separator_matches_eth_account(domain: Domain) -> None:
    """The cached domain separator equals eth_account's hash of the domain."""
    signable = encode_typed_data(full_message=transfer_to_bank().to_typed_data(domain))
    assert domain.separator == signable.header


def test_domain_separator_is_cached_per_domain() -> None:
    """The separator is computed once per Domain instance."""
    domain = Domain(chain_id=1, verifying_contract=REGISTRY)
    assert domain.separator is domain.separator


# Pinned digests, cross-checked once against an independent implementation
# (micro-eth-signer's typed-data sigHash, from node_modules) -- not just against ourselves.
GOLDEN_ISSUANCE_DIGEST = "a96baa75b47f7c1f444c92190407e9c60cadd429436d8bc0c2f9f4c8b69ccd2f"
GOLDEN_ENDORSE_DIGEST = "b807eef60d697d55912261d0f7197e206ed02d1be45fe477b5021a05dc71ee61"


def test_carrier_issuance_golden_vector() -> None:
    """A fixed carrier issuance hashes to a pinned digest (guards against silent encoding drift)."""
    issuance = IssuanceMessage(
        tdr_hash=keccak(b"MAEU123456789"),
        doc_hash=bytes.fromhex("11" * 32),
        issue_to=to_checksum_address("0x" + "a1" * 20),
        endorsee=to_checksum_address("0x" + "b2" * 20),
        kind=DocumentKind.TO_ORDER,
        nonce=3,
        deadline=1_900_000_000,
    )
    assert issuance.digest(DOMAIN).hex() == GOLDEN_ISSUANCE_DIGEST


def test_holder_endorsement_golden_vector() -> None:
    """A fixed holder ENDORSE with large uint256 values hashes to a pinned digest."""
    endorse = TitleActionMessage(
        action=Action.ENDORSE,
        ebl_id=2**255 + 7,
        party=to_checksum_address("0x" + "c3" * 20),
        data=bytes(range(32)),
        nonce=9,
        deadline=2**200,
    )
    assert endorse.digest(DOMAIN).hex() == GOLDEN_ENDORSE_DIGEST


# --- type strings ----------------------------------------------------------------------------


def solidity_type_string(struct: str) -> str:
    """The EIP-712 encodeType string of a struct, rebuilt from contracts/lib/TitleTypes.sol."""
    source = TITLE_TYPES_SOL.read_text()
    body = re.search(rf"struct\s+{struct}\s*\{{(.*?)\}}", source, re.S)
    assert body is not None, f"struct {struct} not found"
    fields = [" ".join(line.split()) for line in body.group(1).split(";") if line.strip()]
    return f"{struct}({','.join(fields)})"


@pytest.mark.skipif(not TITLE_TYPES_SOL.exists(), reason="contracts not checked out")
@pytest.mark.parametrize(
    ("struct", "expected"), [("TitleAction", TITLE_ACTION_TYPE), ("Issuance", ISSUANCE_TYPE)]
)
def test_type_strings_match_solidity_structs(struct: str, expected: str) -> None:
    """The EIP-712 type strings equal the Solidity struct declarations, field by field and in order."""
    assert solidity_type_string(struct) == expected


def test_type_strings_are_exact() -> None:
    """Type strings, typehashes and the domain type are exactly what the contract hashes."""
    assert TITLE_ACTION_TYPE == (
        "TitleAction(uint8 action,uint256 eblId,address party,bytes32 data,uint256 nonce,uint256 deadline)"
    )
    assert ISSUANCE_TYPE == (
        "Issuance(bytes32 tdrHash,bytes32 docHash,address issueTo,address endorsee,uint8 kind,"
        "uint256 nonce,uint256 deadline)"
    )
    assert EIP712_DOMAIN_TYPE == (
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    assert keccak(text=TITLE_ACTION_TYPE) == TitleActionMessage.TYPEHASH
    assert keccak(text=ISSUANCE_TYPE) == IssuanceMessage.TYPEHASH


# --- payload and tuple -----------------------------------------------------------------------


def test_typed_data_payload_is_wallet_ready_json() -> None:
    """to_typed_data gives eth_signTypedData_v4 JSON: hex bytes32, uint256 as decimal strings (exact in
    JavaScript), uint8 and the chain id as numbers, checksummed addresses."""
    data = bytes(range(32))
    typed = transfer_to_bank(data=data, ebl_id=2**255).to_typed_data(DOMAIN)
    assert json.loads(json.dumps(typed)) == typed
    assert typed["primaryType"] == "TitleAction"
    assert typed["domain"] == {
        "name": "EblTitleRegistry",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": REGISTRY,
    }
    assert [f["name"] for f in typed["types"]["EIP712Domain"]] == [
        "name",
        "version",
        "chainId",
        "verifyingContract",
    ]
    assert [f["name"] for f in typed["types"]["TitleAction"]] == [
        "action",
        "eblId",
        "party",
        "data",
        "nonce",
        "deadline",
    ]
    assert typed["message"] == {
        "action": int(Action.TRANSFER),
        "eblId": str(2**255),
        "party": BANK.address,
        "data": "0x" + data.hex(),
        "nonce": "0",
        "deadline": "1900000000",
    }


def test_typed_data_is_a_fresh_dict_each_call() -> None:
    """Mutating one payload does not affect the next."""
    message = transfer_to_bank()
    first = message.to_typed_data(DOMAIN)
    first["types"]["EIP712Domain"].clear()
    first["message"]["nonce"] = 99
    assert message.to_typed_data(DOMAIN)["types"]["EIP712Domain"]
    assert message.to_typed_data(DOMAIN)["message"]["nonce"] == "0"


def test_as_contract_tuple_follows_struct_order() -> None:
    """The contract tuples are in Solidity field order with plain Python values."""
    data = b"\x01" * 32
    assert transfer_to_bank(data=data, nonce=5).as_contract_tuple() == (
        1,
        1,
        BANK.address,
        data,
        5,
        1_900_000_000,
    )
    issuance = IssuanceMessage(b"\x0a" * 32, b"\x0b" * 32, HOLDER.address, BANK.address, 1, 2, 3)
    assert issuance.as_contract_tuple() == (b"\x0a" * 32, b"\x0b" * 32, HOLDER.address, BANK.address, 1, 2, 3)
    assert type(issuance.as_contract_tuple()[4]) is int


def test_lowercase_addresses_are_checksummed() -> None:
    """Addresses given in lower case are stored checksummed, so equal messages compare equal."""
    lower = transfer_to_bank(party=BANK.address.lower())
    assert lower.party == BANK.address
    assert lower == transfer_to_bank()
    assert hash(lower) == hash(transfer_to_bank())
    assert Domain(31337, REGISTRY.lower()) == DOMAIN


@pytest.mark.parametrize(
    "overrides",
    [
        {"action": len(Action)},  # the first code past the last action
        {"action": -1},
        {"action": True},
        {"ebl_id": 2**256},
        {"ebl_id": "1"},
        {"party": "0x1234"},
        {"party": REGISTRY[:2] + REGISTRY[2:].swapcase()},
        {"party": bytes(20)},
        {"data": bytes(31)},
        {"data": "0x" + "00" * 32},
        {"nonce": -1},
        {"deadline": 1.5},
    ],
)
def test_invalid_title_action_fields_are_refused(overrides: dict[str, Any]) -> None:
    """Out-of-range, wrongly typed, bad-checksum or unknown-enum fields raise ValueError at construction."""
    with pytest.raises(ValueError):
        transfer_to_bank(**overrides)


def test_unknown_document_kind_is_refused() -> None:
    """An issuance kind outside DocumentKind raises ValueError."""
    with pytest.raises(ValueError, match="DocumentKind"):
        IssuanceMessage(bytes(32), bytes(32), HOLDER.address, BANK.address, 2, 0, 0)


@pytest.mark.parametrize(
    ("chain_id", "contract"), [(0, REGISTRY), (-1, REGISTRY), (1, "0x00"), (2**53, REGISTRY)]
)
def test_invalid_domain_is_refused(chain_id: int, contract: str) -> None:
    """A zero/negative chain id, one a JSON number cannot hold exactly, or a malformed contract address
    raises ValueError."""
    with pytest.raises(ValueError):
        Domain(chain_id, contract)


def test_messages_are_frozen() -> None:
    """Signed messages cannot be altered after construction."""
    message = transfer_to_bank()
    with pytest.raises(AttributeError):
        message.nonce = 1  # type: ignore[misc]


# --- signing and verification ----------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(message=title_actions)
def test_holder_signature_over_title_action_recovers_to_holder(message: TitleActionMessage) -> None:
    """A TitleAction digest signed by the holder's LocalSigner recovers to the holder's address."""
    signature = HOLDER.sign_digest(message.digest(DOMAIN))
    assert recover_signer(message.digest(DOMAIN), signature) == HOLDER.address
    verify_typed_signature(message.to_typed_data(DOMAIN), signature, HOLDER.address)


@settings(max_examples=25, deadline=None)
@given(message=issuances)
def test_carrier_issuance_signature_verifies(message: IssuanceMessage) -> None:
    """An Issuance signed by the carrier verifies for the carrier and matches eth_account's signature."""
    signature = CARRIER.sign_digest(message.digest(DOMAIN))
    verify_typed_signature(message.to_typed_data(DOMAIN), signature, CARRIER.address.lower())
    reference = Account.sign_typed_data(b"\x07" * 32, full_message=message.to_typed_data(DOMAIN))
    assert signature == bytes(reference.signature)


def test_wallet_signed_typed_data_verifies() -> None:
    """A client signing the typed payload itself (eth_signTypedData_v4 style) passes gateway verification."""
    typed = transfer_to_bank().to_typed_data(DOMAIN)
    verify_typed_signature(typed, HOLDER.sign_typed_data(typed), HOLDER.address)


def test_signature_by_another_bank_is_rejected() -> None:
    """A valid signature by the bank does not pass as the holder's."""
    message = transfer_to_bank()
    signature = BANK.sign_digest(message.digest(DOMAIN))
    with pytest.raises(InvalidSignatureError) as excinfo:
        verify_typed_signature(message.to_typed_data(DOMAIN), signature, HOLDER.address)
    assert excinfo.value.reason == "mismatch"
    assert excinfo.value.code == "invalid_signature"


@pytest.mark.parametrize(
    "other_domain",
    [Domain(chain_id=1, verifying_contract=REGISTRY), Domain(31337, to_checksum_address("0x" + "66" * 20))],
)
def test_signature_for_another_chain_or_registry_is_rejected(other_domain: Domain) -> None:
    """A holder signature made for another chain or registry deployment does not verify here."""
    message = transfer_to_bank()
    signature = HOLDER.sign_digest(message.digest(other_domain))
    with pytest.raises(InvalidSignatureError):
        verify_typed_signature(message.to_typed_data(DOMAIN), signature, HOLDER.address)


def test_high_s_twin_of_holder_signature_is_rejected() -> None:
    """The malleable high-s twin (same signer under plain ecrecover) is refused, as in OpenZeppelin ECDSA."""
    message = transfer_to_bank()
    digest = message.digest(DOMAIN)
    signature = HOLDER.sign_digest(digest)
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    twin = with_s(signature, SECP256K1_N - s, 55 - signature[64])
    plain = Signature(vrs=(twin[64] - 27, r, SECP256K1_N - s)).recover_public_key_from_msg_hash(digest)
    assert plain.to_checksum_address() == HOLDER.address
    with pytest.raises(InvalidSignatureError) as excinfo:
        verify_typed_signature(message.to_typed_data(DOMAIN), twin, HOLDER.address)
    assert excinfo.value.reason == "s"


@pytest.mark.parametrize("v", [0, 1, 26, 29, 35, 255])
def test_v_other_than_27_or_28_is_rejected(v: int) -> None:
    """Signatures with v outside {27, 28} (including raw recovery ids 0/1) are refused."""
    message = transfer_to_bank()
    signature = HOLDER.sign_digest(message.digest(DOMAIN))
    bad = signature[:64] + bytes([v])
    with pytest.raises(InvalidSignatureError) as excinfo:
        verify_typed_signature(message.to_typed_data(DOMAIN), bad, HOLDER.address)
    assert excinfo.value.reason == "v"


@pytest.mark.parametrize("length", [0, 64, 66])
def test_signature_of_wrong_length_is_rejected(length: int) -> None:
    """Signatures that are not exactly 65 bytes are refused (no compact EIP-2098 form)."""
    digest = transfer_to_bank().digest(DOMAIN)
    with pytest.raises(InvalidSignatureError) as excinfo:
        recover_signer(digest, (HOLDER.sign_digest(digest) * 2)[:length])
    assert excinfo.value.reason == "length"


@pytest.mark.parametrize(
    ("r", "s", "reason"),
    [(0, 1, "r"), (SECP256K1_N, 1, "r"), (1, 0, "s"), (1, SECP256K1_N // 2 + 1, "s")],
)
def test_out_of_range_r_or_s_is_rejected(r: int, s: int, reason: str) -> None:
    """Zero or out-of-range r and s are refused with the matching reason."""
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + b"\x1b"
    with pytest.raises(InvalidSignatureError) as excinfo:
        recover_signer(bytes(32), signature)
    assert excinfo.value.reason == reason


def test_unrecoverable_signature_is_rejected() -> None:
    """An r that is not the x-coordinate of any curve point fails recovery with reason 'recovery'."""
    for x in range(1, 50):
        signature = x.to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b"
        try:
            recover_signer(bytes(32), signature)
        except InvalidSignatureError as exc:
            assert exc.reason == "recovery"
            return
    pytest.fail("no unrecoverable r found")


def test_malformed_typed_data_is_rejected() -> None:
    """A payload eth_account cannot encode is refused with reason 'typed_data'."""
    signature = HOLDER.sign_digest(bytes(32))
    with pytest.raises(InvalidSignatureError) as excinfo:
        verify_typed_signature({"primaryType": "TitleAction"}, signature, HOLDER.address)
    assert excinfo.value.reason == "typed_data"


def test_invalid_expected_signer_raises_value_error() -> None:
    """The expected signer must be an address."""
    with pytest.raises(ValueError):
        verify_typed_signature(transfer_to_bank().to_typed_data(DOMAIN), b"\x00" * 65, "bank")


# --- reading typed data back ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(message=title_actions, form=st.sampled_from(["served", "numbers", "hex"]))
def test_title_action_reads_back_from_any_integer_form(message: TitleActionMessage, form: str) -> None:
    """from_typed_data accepts uint256 values as served (decimal strings), as exact JSON numbers and as
    0x-hex strings, and rebuilds the same message."""
    typed = json.loads(json.dumps(message.to_typed_data(DOMAIN)))
    for name in ("eblId", "nonce", "deadline"):
        value = int(typed["message"][name])
        typed["message"][name] = {"served": str(value), "numbers": value, "hex": hex(value)}[form]
    assert TitleActionMessage.from_typed_data(typed) == message


def test_a_rounded_json_number_is_refused_with_a_hint() -> None:
    """A uint256 that a JavaScript client turned into a float is refused, naming the field and the fix."""
    typed = transfer_to_bank(ebl_id=2**255 + 1).to_typed_data(DOMAIN)
    typed["message"]["eblId"] = float(2**255)
    with pytest.raises(ValueError, match=r"message\.eblId .*decimal strings"):
        TitleActionMessage.from_typed_data(typed)


@pytest.mark.parametrize(
    "change",
    [
        {"primaryType": "Issuance"},
        {"message": {"action": 1}},
        {"message": "nope"},
    ],
)
def test_malformed_title_action_payloads_are_refused(change: dict[str, Any]) -> None:
    """Another primary type, a missing field or a non-object message raises ValueError."""
    typed = {**transfer_to_bank().to_typed_data(DOMAIN), **change}
    with pytest.raises(ValueError):
        TitleActionMessage.from_typed_data(typed)


def test_key_registration_digest_matches_eth_account() -> None:
    """The off-chain KeyRegistration proof hashes like any EIP-712 payload, and reads back."""
    message = KeyRegistrationMessage(
        organisation=BANK.address, key=HOLDER.address, nonce=2**200 + 3, deadline=1_900_000_000
    )
    typed = message.to_typed_data(DOMAIN)
    assert typed["message"]["nonce"] == str(2**200 + 3)
    assert message.digest(DOMAIN) == eth_account_digest(typed)
    assert KeyRegistrationMessage.from_typed_data(json.loads(json.dumps(typed))) == message
