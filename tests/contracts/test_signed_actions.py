"""EIP-712 signed actions and issuances: digests, relaying, deadlines, nonces, signature checks and
batches in which a failing entry is skipped without ever authorising another."""

from __future__ import annotations

import pytest
from eth_keys import keys
from eth_utils import keccak

from registry.types import Action, DocumentKind, Role, Status
from tests.contracts.conftest import encode_error
from tests.contracts.helpers import (
    AMENDED_DOC,
    PAPER_DOC,
    ZERO_ADDRESS,
    ZERO_HASH,
    amended_id_of,
    ebl_id_of,
    events,
    fresh_nonce,
    fresh_tdr,
    hash_typed,
    high_s,
    issuance,
    sign_action,
    sign_digest,
    sign_issuance,
    text32,
    title,
    title_action,
    typed_data,
    typed_digest,
)
from tests.contracts.parties import test_key as key_of


def latest_timestamp(w3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def failure(registry, name: str, *args) -> bytes:
    """The revert data a BatchEntryFailed event carries for a custom error."""
    return bytes.fromhex(encode_error(registry, name, *args)[2:])


# ----------------------------------------------------------------------------- digests and domain


@pytest.mark.parametrize(
    "action",
    [
        title_action(Action.TRANSFER, 1, "0x" + "11" * 20, ZERO_HASH, 0, 0),
        title_action(Action.SWITCH_TO_PAPER, 2**256 - 1, ZERO_ADDRESS, PAPER_DOC, 2**256 - 1, 2**256 - 1),
        title_action(Action.SURRENDER_FOR_AMENDMENT, 12345, ZERO_ADDRESS, text32("SWTP"), 7, 1_700_000_000),
        title_action(255, 0, ZERO_ADDRESS, ZERO_HASH, 0, 0),
    ],
    ids=["transfer", "max_values", "swtp", "action_255"],
)
def test_digest_title_action_equals_eip712_typed_data_hash(registry, w3, action):
    """digestTitleAction == eth_account's EIP-712 hash of TitleAction under the registry's domain."""
    expected = typed_digest("TitleAction", action, w3.eth.chain_id, registry.address)
    assert registry.functions.digestTitleAction(action).call() == expected


@pytest.mark.parametrize("kind", [0, 1, 255])
def test_digest_issuance_equals_eip712_typed_data_hash(registry, w3, shipper, bank, kind):
    """digestIssuance == eth_account's EIP-712 hash of Issuance under the registry's domain."""
    issued = issuance(keccak(text="TDR"), shipper.org, bank.org, kind=kind, nonce=2**200, deadline=99)
    expected = typed_digest("Issuance", issued, w3.eth.chain_id, registry.address)
    assert registry.functions.digestIssuance(issued).call() == expected


def test_eip712_domain_is_ebl_title_registry_version_1(registry, w3):
    """ERC-5267 eip712Domain(): name, version, chain id and this contract; no salt, no extensions."""
    assert registry.functions.eip712Domain().call() == [
        b"\x0f",
        "EblTitleRegistry",
        "1",
        w3.eth.chain_id,
        registry.address,
        ZERO_HASH,
        [],
    ]


# ----------------------------------------------------------------------------- relaying


@pytest.mark.parametrize("relayer", ["outsider", "governance", "bank"])
def test_signed_transfer_relayed_by_unrelated_sender_acts_for_signer_org(
    registry, send, issue, cast, governance, shipper, buyer, relayer
):
    """Anyone may relay: the actor is the signer's org and actorKey the signing key, never the relayer."""
    ebl = issue(shipper)
    sender = governance if relayer == "governance" else cast[relayer]
    action = title_action(Action.TRANSFER, ebl, buyer.org)
    receipt = send(registry.functions.execute(sign_action(registry, shipper, action)), sender)
    assert receipt["from"] == sender.address
    assert events(registry, "Transfer", receipt) == [{"from": shipper.org, "to": buyer.org, "tokenId": ebl}]
    (recorded,) = events(registry, "ActionRecorded", receipt)
    assert (recorded["actor"], recorded["actorKey"], recorded["counterparty"]) == (
        shipper.org,
        shipper.address,
        buyer.org,
    )
    assert registry.functions.holderOf(ebl).call() == buyer.org
    assert registry.functions.nonceUsed(shipper.address, action[4]).call() is True


def test_signed_issuance_relayed_by_outsider_is_issued_by_signer_carrier(
    registry, send, carrier, shipper, outsider
):
    """issueSigned relayed by a non-member issues as the signing carrier (Issued.carrier, actorKey)."""
    issued = issuance(fresh_tdr(), shipper.org)
    receipt = send(registry.functions.issueSigned(sign_issuance(registry, carrier, issued)), outsider)
    (event,) = events(registry, "Issued", receipt)
    assert (event["eblId"], event["carrier"], event["holder"], event["actorKey"]) == (
        ebl_id_of(carrier.org, issued[0]),
        carrier.org,
        shipper.org,
        carrier.address,
    )
    assert registry.functions.nonceUsed(carrier.address, issued[5]).call() is True


# ----------------------------------------------------------------------------- deadline, signer, replay


def test_signed_action_reverts_after_deadline(registry, reverts, w3, issue, outsider, shipper, bank):
    """A TitleAction submitted after its deadline reverts TitleExpiredSignature(deadline)."""
    ebl = issue(shipper)
    deadline = latest_timestamp(w3) - 1
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org, deadline=deadline))
    with reverts("TitleExpiredSignature", deadline):
        registry.functions.execute(signed).transact({"from": outsider.address})


def test_signed_issuance_reverts_after_deadline(registry, reverts, w3, outsider, carrier, shipper):
    """An Issuance submitted after its deadline reverts TitleExpiredSignature(deadline)."""
    deadline = latest_timestamp(w3) - 1
    signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org, deadline=deadline))
    with reverts("TitleExpiredSignature", deadline):
        registry.functions.issueSigned(signed).transact({"from": outsider.address})


def test_signed_action_is_valid_through_its_deadline_second(
    registry, send, w3, issue, outsider, shipper, bank
):
    """The deadline is inclusive: a block stamped exactly at the deadline executes the action."""
    ebl = issue(shipper)
    deadline = latest_timestamp(w3) + 100
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org, deadline=deadline))
    w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])
    receipt = w3.eth.wait_for_transaction_receipt(
        registry.functions.execute(signed).transact({"from": outsider.address, "gas": 500_000})
    )
    assert receipt["status"] == 1
    assert w3.eth.get_block(receipt["blockNumber"])["timestamp"] == deadline
    assert registry.functions.holderOf(ebl).call() == bank.org


def test_signed_action_reverts_for_wrong_claimed_signer(registry, reverts, issue, outsider, shipper, bank):
    """The bank signs but claims to be the shipper: TitleInvalidSignature(claimed signer)."""
    ebl = issue(shipper)
    signed = sign_action(registry, bank, title_action(Action.TRANSFER, ebl, bank.org), claim=shipper.address)
    with reverts("TitleInvalidSignature", shipper.address):
        registry.functions.execute(signed).transact({"from": outsider.address})


def test_signed_issuance_reverts_for_wrong_claimed_signer(
    registry, reverts, outsider, carrier, other_carrier, shipper
):
    """Another carrier's key cannot sign for the carrier's key: TitleInvalidSignature(claimed signer)."""
    signed = sign_issuance(registry, other_carrier, issuance(fresh_tdr(), shipper.org), claim=carrier.address)
    with reverts("TitleInvalidSignature", carrier.address):
        registry.functions.issueSigned(signed).transact({"from": outsider.address})


@pytest.mark.parametrize("field", ["action", "eblId", "party", "data", "nonce", "deadline"])
def test_signed_action_reverts_when_any_field_changed_after_signing(
    registry, reverts, issue, outsider, shipper, bank, buyer, field
):
    """Every TitleAction field is signed: changing one after signing reverts TitleInvalidSignature."""
    ebl = issue(shipper)
    other = issue(shipper)
    action, signer, signature = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    tampered = list(action)
    index = ["action", "eblId", "party", "data", "nonce", "deadline"].index(field)
    tampered[index] = {
        "action": int(Action.ENDORSE),
        "eblId": other,
        "party": buyer.org,
        "data": text32("x"),
        "nonce": action[4] + 1,
        "deadline": action[5] + 1,
    }[field]
    with reverts("TitleInvalidSignature", shipper.address):
        registry.functions.execute((tuple(tampered), signer, signature)).transact({"from": outsider.address})
    assert registry.functions.holderOf(ebl).call() == shipper.org


def test_signed_action_replay_reverts_nonce_used(registry, send, reverts, issue, outsider, shipper, bank):
    """The same signed action submitted twice reverts TitleNonceUsed(signer, nonce) the second time."""
    ebl = issue(shipper)
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    send(registry.functions.execute(signed), outsider)
    with reverts("TitleNonceUsed", shipper.address, signed[0][4]):
        registry.functions.execute(signed).transact({"from": outsider.address})


def test_signed_issuance_replay_reverts_nonce_used(registry, send, reverts, outsider, carrier, shipper):
    """A replayed issuance reverts TitleNonceUsed (checked before TitleAlreadyIssued)."""
    signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
    send(registry.functions.issueSigned(signed), outsider)
    with reverts("TitleNonceUsed", carrier.address, signed[0][5]):
        registry.functions.issueSigned(signed).transact({"from": outsider.address})


def test_nonces_are_shared_between_actions_and_issuances_of_a_key(
    registry, send, reverts, outsider, carrier, shipper
):
    """One nonce space per signer: a nonce used by an issuance cannot be reused by a title action."""
    nonce = fresh_nonce()
    issued = issuance(fresh_tdr(), carrier.org, nonce=nonce)
    send(registry.functions.issueSigned(sign_issuance(registry, carrier, issued)), outsider)
    ebl = ebl_id_of(carrier.org, issued[0])
    signed = sign_action(registry, carrier, title_action(Action.TRANSFER, ebl, shipper.org, nonce=nonce))
    with reverts("TitleNonceUsed", carrier.address, nonce):
        registry.functions.execute(signed).transact({"from": outsider.address})


def test_invalidate_nonce_cancels_signed_action(registry, send, reverts, issue, outsider, shipper, bank):
    """invalidateNonce emits NonceInvalidated and the signature made with it reverts TitleNonceUsed."""
    ebl = issue(shipper)
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    nonce = signed[0][4]
    receipt = send(registry.functions.invalidateNonce(nonce), shipper)
    assert events(registry, "NonceInvalidated", receipt) == [{"signer": shipper.address, "nonce": nonce}]
    assert registry.functions.nonceUsed(shipper.address, nonce).call() is True
    with reverts("TitleNonceUsed", shipper.address, nonce):
        registry.functions.execute(signed).transact({"from": outsider.address})
    with reverts("TitleNonceUsed", shipper.address, nonce):
        registry.functions.invalidateNonce(nonce).transact({"from": shipper.address})
    assert registry.functions.holderOf(ebl).call() == shipper.org


def test_nonces_are_unordered_per_signer_bits(registry, send, shipper, bank):
    """Nonces are independent bits per signer: 0, 255, 256 and 2**256-1 do not affect each other."""
    probes = [0, 1, 255, 256, 2**255, 2**256 - 1]
    for n in (0, 256, 2**256 - 1):
        send(registry.functions.invalidateNonce(n), shipper)
    used = {n: registry.functions.nonceUsed(shipper.address, n).call() for n in probes}
    assert used == {0: True, 1: False, 255: False, 256: True, 2**255: False, 2**256 - 1: True}
    assert not any(registry.functions.nonceUsed(bank.address, n).call() for n in probes)


# ----------------------------------------------------------------------------- signature validity


@pytest.mark.parametrize("domain_field", ["chainId", "verifyingContract", "name", "version"])
def test_signature_for_another_domain_reverts_invalid_signature(
    registry, reverts, w3, issue, outsider, shipper, bank, domain_field
):
    """A signature for another chain id, contract, name or version reverts TitleInvalidSignature."""
    ebl = issue(shipper)
    action = title_action(Action.TRANSFER, ebl, bank.org)
    message = typed_data("TitleAction", action, w3.eth.chain_id, registry.address)
    message["domain"][domain_field] = {
        "chainId": w3.eth.chain_id + 1,
        "verifyingContract": "0x" + "ab" * 20,
        "name": "EblTitleRegistryV2",
        "version": "2",
    }[domain_field]
    signature = sign_digest(hash_typed(message), shipper)
    with reverts("TitleInvalidSignature", shipper.address):
        registry.functions.execute((action, shipper.address, signature)).transact({"from": outsider.address})


def test_issuance_signed_for_another_chain_reverts_invalid_signature(
    registry, reverts, w3, outsider, carrier, shipper
):
    """An Issuance signed for another chain id reverts TitleInvalidSignature."""
    issued = issuance(fresh_tdr(), shipper.org)
    signature = sign_digest(typed_digest("Issuance", issued, w3.eth.chain_id + 1, registry.address), carrier)
    with reverts("TitleInvalidSignature", carrier.address):
        registry.functions.issueSigned((issued, carrier.address, signature)).transact(
            {"from": outsider.address}
        )


def test_high_s_twin_of_valid_signature_reverts_invalid_signature(
    registry, send, reverts, issue, outsider, shipper, bank
):
    """The malleable twin (n - s, flipped v) recovers the signer off chain but OZ ECDSA refuses it."""
    ebl = issue(shipper)
    action = title_action(Action.TRANSFER, ebl, bank.org)
    digest = registry.functions.digestTitleAction(action).call()
    twin = high_s(sign_digest(digest, shipper))
    r, s, v = int.from_bytes(twin[:32], "big"), int.from_bytes(twin[32:64], "big"), twin[64]
    recovered = keys.Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest)
    assert recovered.to_checksum_address() == shipper.address
    with reverts("TitleInvalidSignature", shipper.address):
        registry.functions.execute((action, shipper.address, twin)).transact({"from": outsider.address})
    send(registry.functions.execute(sign_action(registry, shipper, action)), outsider)


@pytest.mark.parametrize(
    "defect", ["v_0_or_1", "v_29", "truncated_64", "extended_66", "empty", "all_zero", "r_zero"]
)
def test_malformed_signature_reverts_invalid_signature(
    registry, reverts, issue, outsider, shipper, bank, defect
):
    """Malformed signatures (bad v, wrong length, zero r) revert TitleInvalidSignature, never recover."""
    ebl = issue(shipper)
    action, signer, good = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    bad = {
        "v_0_or_1": good[:64] + bytes([good[64] - 27]),
        "v_29": good[:64] + bytes([29]),
        "truncated_64": good[:64],
        "extended_66": good + b"\x00",
        "empty": b"",
        "all_zero": bytes(65),
        "r_zero": bytes(32) + good[32:],
    }[defect]
    with reverts("TitleInvalidSignature", shipper.address):
        registry.functions.execute((action, signer, bad)).transact({"from": outsider.address})


def test_zero_address_claimed_signer_is_never_valid(registry, reverts, issue, outsider, shipper, bank):
    """Signatures that ecrecover to zero never validate a zero claimed signer: TitleInvalidSignature(0x0)."""
    ebl = issue(shipper)
    action = title_action(Action.TRANSFER, ebl, bank.org)
    for signature in (bytes(65), bytes(64) + b"\x1b", b""):
        with reverts("TitleInvalidSignature", ZERO_ADDRESS):
            registry.functions.execute((action, ZERO_ADDRESS, signature)).transact({"from": outsider.address})


def test_claimed_signer_contract_without_erc1271_reverts_invalid_signature(
    registry, reverts, outsider, shipper
):
    """A contract signer is checked by ERC-1271; the registry implements none: TitleInvalidSignature."""
    action, _, signature = sign_action(
        registry, shipper, title_action(Action.ADD_KEY, party=outsider.address)
    )
    with reverts("TitleInvalidSignature", registry.address):
        registry.functions.execute((action, registry.address, signature)).transact({"from": outsider.address})


@pytest.mark.parametrize("code", [int(Action.ISSUE), int(Action.CLOSE_EXPORT), int(Action.IMPORT_TITLE), 255])
def test_signed_action_reverts_for_invalid_action_code(
    registry, reverts, issue, outsider, shipper, bank, code
):
    """Issue (0) is not a TitleAction; codes above RevokeKey (15) do not exist: TitleInvalidAction(code)."""
    ebl = issue(shipper)
    signed = sign_action(registry, shipper, title_action(code, ebl, bank.org))
    with reverts("TitleInvalidAction", code):
        registry.functions.execute(signed).transact({"from": outsider.address})


# ----------------------------------------------------------------------------- batch self-calls


@pytest.mark.parametrize("caller", ["outsider", "governance", "signer"])
@pytest.mark.parametrize("entry_point", ["executeFromBatch", "issueFromBatch"])
def test_batch_entry_point_reverts_for_external_caller(
    registry, reverts, issue, governance, cast, carrier, shipper, bank, entry_point, caller
):
    """executeFromBatch / issueFromBatch are for the registry's own batch loop: TitleOnlySelf() otherwise."""
    if entry_point == "executeFromBatch":
        signer = shipper
        payload = sign_action(registry, shipper, title_action(Action.TRANSFER, issue(shipper), bank.org))
    else:
        signer = carrier
        payload = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
    sender = {
        "outsider": cast["outsider"].address,
        "governance": governance.address,
        "signer": signer.address,
    }
    with reverts("TitleOnlySelf"):
        getattr(registry.functions, entry_point)(payload).transact({"from": sender[caller]})


# ----------------------------------------------------------------------------- batches


def test_execute_batch_applies_valid_entries_and_reports_each_invalid_one(
    registry, send, issue, w3, outsider, shipper, bank, buyer, consignee
):
    """Valid entries apply in order; each bad one emits BatchEntryFailed(exact error), nonce left unused."""
    first, second = issue(shipper), issue(shipper)
    expired = latest_timestamp(w3) - 1
    ok_0 = sign_action(registry, shipper, title_action(Action.TRANSFER, first, bank.org))
    not_holder = sign_action(registry, bank, title_action(Action.TRANSFER, second, buyer.org))
    late = sign_action(
        registry, shipper, title_action(Action.TRANSFER, second, consignee.org, deadline=expired)
    )
    forged = sign_action(
        registry, bank, title_action(Action.TRANSFER, second, bank.org), claim=shipper.address
    )
    ok_1 = sign_action(registry, bank, title_action(Action.TRANSFER, first, buyer.org))
    stranger = sign_action(registry, outsider, title_action(Action.TRANSFER, second, outsider.org))
    no_action = sign_action(registry, shipper, title_action(Action.ISSUE, second, bank.org))
    batch = [ok_0, not_holder, late, forged, ok_1, ok_0, stranger, no_action]

    assert registry.functions.executeBatch(batch).call({"from": outsider.address}) == 2
    receipt = send(registry.functions.executeBatch(batch), outsider)

    expected_failures = [
        (1, not_holder, failure(registry, "TitleNotHolder", second, bank.org)),
        (2, late, failure(registry, "TitleExpiredSignature", expired)),
        (3, forged, failure(registry, "TitleInvalidSignature", shipper.address)),
        (5, ok_0, failure(registry, "TitleNonceUsed", shipper.address, ok_0[0][4])),
        (6, stranger, failure(registry, "MembershipUnauthorizedKey", outsider.address)),
        (7, no_action, failure(registry, "TitleInvalidAction", 0)),
    ]
    assert events(registry, "BatchEntryFailed", receipt) == [
        {"index": i, "signer": entry[1], "nonce": entry[0][4], "reason": reason}
        for i, entry, reason in expected_failures
    ]
    assert [e["counterparty"] for e in events(registry, "ActionRecorded", receipt)] == [bank.org, buyer.org]
    assert registry.functions.holderOf(first).call() == buyer.org
    assert registry.functions.holderOf(second).call() == shipper.org
    for _, entry, _ in expected_failures:
        if entry is not ok_0:
            assert registry.functions.nonceUsed(entry[1], entry[0][4]).call() is False
    assert registry.functions.nonceUsed(bank.address, ok_1[0][4]).call() is True

    send(registry.functions.transferPossession(second, bank.org), shipper)
    send(registry.functions.executeBatch([not_holder]), outsider)
    assert registry.functions.holderOf(second).call() == buyer.org


def test_bad_batch_entries_never_authorise_another_entry(
    registry, send, issue, outsider, shipper, bank, buyer
):
    """Re-using a valid signature with another action or signer, or an empty signature, moves nothing."""
    ebl = issue(shipper)
    action, signer, signature = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    redirected = ((action[0], ebl, buyer.org, *action[3:]), signer, signature)
    other_signer = (action, bank.address, signature)
    unsigned = ((action[0], ebl, buyer.org, ZERO_HASH, fresh_nonce(), action[5]), shipper.address, b"")
    batch = [redirected, other_signer, unsigned]
    assert registry.functions.executeBatch(batch).call({"from": outsider.address}) == 0
    receipt = send(registry.functions.executeBatch(batch), outsider)
    assert [e["reason"] for e in events(registry, "BatchEntryFailed", receipt)] == [
        failure(registry, "TitleInvalidSignature", shipper.address),
        failure(registry, "TitleInvalidSignature", bank.address),
        failure(registry, "TitleInvalidSignature", shipper.address),
    ]
    assert events(registry, "ActionRecorded", receipt) == []
    assert registry.functions.holderOf(ebl).call() == shipper.org
    send(registry.functions.executeBatch([(action, signer, signature)]), outsider)
    assert registry.functions.holderOf(ebl).call() == bank.org


def test_execute_batch_of_nothing_succeeds_with_zero(registry, send, outsider):
    """An empty batch does nothing and returns 0."""
    assert registry.functions.executeBatch([]).call({"from": outsider.address}) == 0
    assert registry.functions.issueBatch([]).call({"from": outsider.address}) == 0


def test_execute_batch_while_paused_fails_title_entries_but_applies_key_entries(
    registry, send, issue, governance, outsider, shipper, bank
):
    """Paused: title entries fail with EnforcedPause() and keep their nonces; AddKey entries still apply."""
    ebl = issue(shipper)
    send(registry.functions.pause(), governance)
    move = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    new_key = key_of("shipper", 3)
    add = sign_action(registry, shipper, title_action(Action.ADD_KEY, party=new_key.address))
    receipt = send(registry.functions.executeBatch([move, add]), outsider)
    assert events(registry, "BatchEntryFailed", receipt) == [
        {
            "index": 0,
            "signer": shipper.address,
            "nonce": move[0][4],
            "reason": failure(registry, "EnforcedPause"),
        }
    ]
    assert registry.functions.keyInfo(new_key.address).call() == [shipper.org, 1]
    assert registry.functions.nonceUsed(shipper.address, move[0][4]).call() is False


def test_issue_batch_issues_valid_entries_and_reports_each_invalid_one(
    registry, send, w3, governance, outsider, carrier, other_carrier, shipper, buyer
):
    """issueBatch: valid entries issue; each bad one emits BatchEntryFailed(exact error), nonce unused."""
    tdr = fresh_tdr()
    expired = latest_timestamp(w3) - 1
    send(registry.functions.suspendOrganisation(buyer.org), governance)
    ok_0 = sign_issuance(registry, carrier, issuance(tdr, shipper.org))
    duplicate = sign_issuance(registry, carrier, issuance(tdr, buyer.org, doc=AMENDED_DOC))
    trader = sign_issuance(registry, shipper, issuance(fresh_tdr(), shipper.org))
    bad_kind = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org, kind=2))
    zero_doc = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org, doc=ZERO_HASH))
    late = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org, deadline=expired))
    forged = sign_issuance(registry, other_carrier, issuance(fresh_tdr(), shipper.org), claim=carrier.address)
    to_suspended = sign_issuance(registry, carrier, issuance(fresh_tdr(), buyer.org))
    ok_1 = sign_issuance(
        registry, other_carrier, issuance(tdr, shipper.org, doc=keccak(b"own document" + tdr))
    )
    batch = [ok_0, duplicate, trader, bad_kind, zero_doc, late, forged, to_suspended, ok_1]

    assert registry.functions.issueBatch(batch).call({"from": outsider.address}) == 2
    receipt = send(registry.functions.issueBatch(batch), outsider)

    expected_failures = [
        (1, duplicate, failure(registry, "TitleAlreadyIssued", ebl_id_of(carrier.org, tdr))),
        (2, trader, failure(registry, "MembershipRoleRequired", shipper.org, int(Role.CARRIER))),
        (3, bad_kind, failure(registry, "TitleInvalidKind", 2)),
        (4, zero_doc, failure(registry, "TitleZeroHash")),
        (5, late, failure(registry, "TitleExpiredSignature", expired)),
        (6, forged, failure(registry, "TitleInvalidSignature", carrier.address)),
        (7, to_suspended, failure(registry, "MembershipOrganisationNotActive", buyer.org)),
    ]
    assert events(registry, "BatchEntryFailed", receipt) == [
        {"index": i, "signer": entry[1], "nonce": entry[0][5], "reason": reason}
        for i, entry, reason in expected_failures
    ]
    assert [e["eblId"] for e in events(registry, "Issued", receipt)] == [
        ebl_id_of(carrier.org, tdr),
        ebl_id_of(other_carrier.org, tdr),
    ]
    assert all(
        registry.functions.nonceUsed(entry[1], entry[0][5]).call() is False
        for _, entry, _ in expected_failures
    )
    send(registry.functions.reinstateOrganisation(buyer.org), governance)
    send(registry.functions.issueSigned(to_suspended), outsider)
    assert registry.functions.holderOf(ebl_id_of(carrier.org, to_suspended[0][0])).call() == buyer.org


# ----------------------------------------------------------------------------- key management by signature


def test_signed_add_key_and_revoke_key_rotate_the_signing_key(
    registry, send, reverts, issue, outsider, shipper, bank
):
    """AddKey / RevokeKey as signed actions: the new key signs for the org, the revoked one is refused."""
    ebl = issue(shipper)
    new_key = key_of("shipper", 4)
    add = title_action(Action.ADD_KEY, party=new_key.address)
    receipt = send(registry.functions.execute(sign_action(registry, shipper, add)), outsider)
    assert events(registry, "KeyAdded", receipt) == [
        {"org": shipper.org, "key": new_key.address, "actorKey": shipper.address}
    ]
    revoke = title_action(Action.REVOKE_KEY, party=shipper.address)
    receipt = send(registry.functions.execute(sign_action(registry, new_key, revoke)), outsider)
    assert events(registry, "KeyRevoked", receipt) == [
        {"org": shipper.org, "key": shipper.address, "actorKey": new_key.address}
    ]
    stale = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org))
    with reverts("MembershipUnauthorizedKey", shipper.address):
        registry.functions.execute(stale).transact({"from": outsider.address})
    move = title_action(Action.TRANSFER, ebl, bank.org)
    receipt = send(registry.functions.execute(sign_action(registry, new_key, move)), outsider)
    (recorded,) = events(registry, "ActionRecorded", receipt)
    assert (recorded["actor"], recorded["actorKey"]) == (shipper.org, new_key.address)


@pytest.mark.parametrize("case", ["revoke_last_key", "add_existing_key", "revoke_foreign_key"])
def test_signed_key_management_reverts_like_direct_calls(registry, reverts, outsider, shipper, bank, case):
    """Signed AddKey / RevokeKey enforce the same rules: MembershipLastKey, KeyExists, KeyNotOwned."""
    action, error = {
        "revoke_last_key": (Action.REVOKE_KEY, ("MembershipLastKey", shipper.org, shipper.address)),
        "add_existing_key": (Action.ADD_KEY, ("MembershipKeyExists", bank.address)),
        "revoke_foreign_key": (Action.REVOKE_KEY, ("MembershipKeyNotOwned", shipper.org, bank.address)),
    }[case]
    party = shipper.address if case == "revoke_last_key" else bank.address
    signed = sign_action(registry, shipper, title_action(action, party=party))
    with reverts(*error):
        registry.functions.execute(signed).transact({"from": outsider.address})


# ----------------------------------------------------------------------------- whole life cycle by signature


def test_every_action_code_works_signed_and_relayed_by_a_non_member(
    registry, send, outsider, carrier, shipper, bank, buyer, consignee
):
    """Issuance and all 13 title actions, each signed by its actor and relayed by the outsider, apply."""

    def run(who, action, ebl, party=ZERO_ADDRESS, data=ZERO_HASH):
        signed = sign_action(registry, who, title_action(action, ebl, party, data))
        receipt = send(registry.functions.execute(signed), outsider)
        (event,) = events(registry, "ActionRecorded", receipt)
        assert (event["action"], event["actor"], event["actorKey"]) == (action, who.org, who.address)

    def issued(to) -> int:
        signed = sign_issuance(registry, carrier, issuance(fresh_tdr(), to.org))
        send(registry.functions.issueSigned(signed), outsider)
        return ebl_id_of(carrier.org, signed[0][0])

    a = issued(shipper)
    run(shipper, Action.TRANSFER, a, bank.org)
    run(bank, Action.REJECT, a)
    run(shipper, Action.TRANSFER, a, bank.org)
    run(shipper, Action.NOMINATE, a, buyer.org)
    run(bank, Action.ENDORSE_TO_ORDER, a, buyer.org)
    run(bank, Action.TRANSFER, a, buyer.org)
    run(buyer, Action.BLANK_ENDORSE, a)
    run(buyer, Action.SURRENDER_FOR_DELIVERY, a)
    run(carrier, Action.REJECT_SURRENDER, a)
    run(buyer, Action.ENDORSE, a, consignee.org)
    run(buyer, Action.TRANSFER, a, consignee.org)
    run(consignee, Action.SURRENDER_FOR_AMENDMENT, a, data=text32("COD"))
    run(carrier, Action.ACCEPT_SURRENDER, a)
    run(carrier, Action.AMEND, a, data=AMENDED_DOC)
    b = amended_id_of(a)
    run(consignee, Action.SURRENDER_FOR_AMENDMENT, b, data=text32("SWTP"))
    run(carrier, Action.ACCEPT_SURRENDER, b)
    run(carrier, Action.SWITCH_TO_PAPER, b, data=PAPER_DOC)
    c = issued(shipper)
    run(shipper, Action.SURRENDER_FOR_AMENDMENT, c, data=text32("SWI"))
    run(carrier, Action.ACCEPT_SURRENDER, c)
    run(carrier, Action.VOID, c)
    d = issued(consignee)
    run(consignee, Action.SURRENDER_FOR_DELIVERY, d)
    run(carrier, Action.ACCEPT_SURRENDER, d)

    statuses = [registry.functions.statusOf(x).call() for x in (a, b, c, d)]
    assert statuses == [Status.VOIDED, Status.SWITCHED_TO_PAPER, Status.VOIDED, Status.SURRENDERED]
    assert (title(registry, b)["paperDocumentHash"], title(registry, b)["kind"]) == (
        PAPER_DOC,
        DocumentKind.TO_ORDER,
    )
