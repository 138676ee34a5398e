"""Contract (ERC-1271) signers: only a registered member key is ever asked ``isValidSignature``, and
each batch entry's self-call runs under a gas cap, so one contract key cannot burn a relayed batch."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractPanicError

from registry.types import Action, Status
from tests.contracts.helpers import (
    AMENDED_DOC,
    ZERO_ADDRESS,
    amended_id_of,
    events,
    fresh_tdr,
    issuance,
    sign_action,
    sign_issuance,
    text32,
    title_action,
)
from tests.contracts.test_signed_actions import failure

# `SignedActions._BATCH_ENTRY_GAS` (contracts/abstract/SignedActions.sol); internal, so not in the ABI.
BATCH_ENTRY_GAS = 300_000
# Enough for every entry of the batches below if the cap were missing, so an uncapped burn would show.
BATCH_TX_GAS = 6_000_000

# Runtime code placed with anvil_setCode. LOOPER answers every call, isValidSignature included, by
# looping until its gas is gone: JUMPDEST; PUSH1 0; JUMP.
LOOPER = "0x5b600056"
# YES_SAYER answers every call with the ERC-1271 magic value 0x1626ba7e (any signature is "valid"):
# PUSH4 0x1626ba7e; PUSH1 0xe0; SHL; PUSH1 0; MSTORE; PUSH1 0x20; PUSH1 0; RETURN.
YES_SAYER = "0x631626ba7e60e01b60005260206000f3"


def place_contract(w3, code: str, name: str) -> str:
    """An address (derived from `name`) holding `code` and no registry standing of its own."""
    address = to_checksum_address(keccak(text=f"erc1271-signer:{name}")[-20:])
    w3.provider.make_request("anvil_setCode", [address, code])
    return address


def transact(w3, fn: Any, sender: str, gas: int) -> Any:
    """Send with a fixed gas limit (no estimate, which would hide what the call itself burns)."""
    return w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": gas}))


def self_calls(w3, receipt: Any) -> list[dict[str, Any]]:
    """The registry's self-calls (one per batch entry) of a mined transaction, from anvil's call tracer."""
    trace = w3.provider.make_request(
        "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}]
    )["result"]
    return [c for c in trace.get("calls", []) if c["to"].lower() == trace["to"].lower()]


def calls_to(w3, receipt: Any, address: str) -> int:
    """How many calls of the transaction, at any depth, went to `address`."""
    trace = w3.provider.make_request(
        "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}]
    )["result"]
    stack, count = [trace], 0
    while stack:
        frame = stack.pop()
        count += frame.get("to", "").lower() == address.lower()
        stack.extend(frame.get("calls", []))
    return count


def test_looping_erc1271_member_key_fails_alone_and_costs_at_most_the_entry_cap(
    registry, w3, send, issue, outsider, shipper, bank
):
    """A member's contract key whose isValidSignature loops: its entry fails with
    TitleInvalidSignature(key) within BATCH_ENTRY_GAS, its nonce unused; the entries around it apply."""
    looper = place_contract(w3, LOOPER, "looper-member")
    send(registry.functions.addKey(looper), shipper)
    first, second, third = issue(shipper), issue(shipper), issue(shipper)
    ok_0 = sign_action(registry, shipper, title_action(Action.TRANSFER, first, bank.org))
    burner = sign_action(registry, shipper, title_action(Action.TRANSFER, second, bank.org), claim=looper)
    ok_1 = sign_action(registry, shipper, title_action(Action.TRANSFER, third, bank.org))

    receipt = transact(
        w3, registry.functions.executeBatch([ok_0, burner, ok_1]), outsider.address, BATCH_TX_GAS
    )

    assert receipt["status"] == 1
    assert [registry.functions.holderOf(e).call() for e in (first, second, third)] == [
        bank.org,
        shipper.org,
        bank.org,
    ]
    assert events(registry, "BatchEntryFailed", receipt) == [
        {
            "index": 1,
            "signer": looper,
            "nonce": burner[0][4],
            "reason": failure(registry, "TitleInvalidSignature", looper),
        }
    ]
    assert not registry.functions.nonceUsed(looper, burner[0][4]).call()
    entries = self_calls(w3, receipt)
    assert [int(c["gas"], 16) for c in entries][1] == BATCH_ENTRY_GAS
    assert int(entries[1]["gasUsed"], 16) <= BATCH_ENTRY_GAS
    # Without the cap the looper would have taken 63/64 of the transaction's gas.
    assert receipt["gasUsed"] < BATCH_ENTRY_GAS + 200_000


def test_looping_erc1271_carrier_key_fails_alone_in_an_issuance_batch(
    registry, w3, send, outsider, carrier, shipper
):
    """issueBatch caps each entry the same way: the looping carrier key's issuance fails alone."""
    looper = place_contract(w3, LOOPER, "looper-carrier")
    send(registry.functions.addKey(looper), carrier)
    ok_0 = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
    burner = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org), claim=looper)
    ok_1 = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))

    receipt = transact(
        w3, registry.functions.issueBatch([ok_0, burner, ok_1]), outsider.address, BATCH_TX_GAS
    )

    assert receipt["status"] == 1
    assert [e["tdrHash"] for e in events(registry, "Issued", receipt)] == [ok_0[0][0], ok_1[0][0]]
    assert events(registry, "BatchEntryFailed", receipt) == [
        {
            "index": 1,
            "signer": looper,
            "nonce": burner[0][5],
            "reason": failure(registry, "TitleInvalidSignature", looper),
        }
    ]
    assert not registry.functions.nonceUsed(looper, burner[0][5]).call()
    assert receipt["gasUsed"] < BATCH_ENTRY_GAS + 300_000


def test_erc1271_contract_that_is_not_a_member_key_is_refused_without_being_called(
    registry, w3, reverts, issue, outsider, shipper, bank
):
    """A contract that is no registered key is never asked isValidSignature: a YES_SAYER claimed as
    signer is refused with TitleInvalidSignature (had it been asked, it would have said yes and the
    action would have failed later as MembershipUnauthorizedKey), and a LOOPER costs nothing."""
    yes_sayer = place_contract(w3, YES_SAYER, "yes-sayer-stranger")
    ebl = issue(shipper)
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org), claim=yes_sayer)
    with reverts("TitleInvalidSignature", yes_sayer):
        registry.functions.execute(signed).transact({"from": outsider.address})

    looper = place_contract(w3, LOOPER, "looper-stranger")
    bad = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org), claim=looper)
    receipt = transact(w3, registry.functions.execute(bad), outsider.address, 2_000_000)
    assert receipt["status"] == 0
    assert calls_to(w3, receipt, looper) == 0
    assert receipt["gasUsed"] < 100_000


def test_erc1271_member_key_still_acts_for_its_organisation(
    registry, w3, send, issue, outsider, shipper, bank
):
    """The pre-check keeps contract keys working: a member's YES_SAYER key authorises a transfer."""
    yes_sayer = place_contract(w3, YES_SAYER, "yes-sayer-member")
    send(registry.functions.addKey(yes_sayer), shipper)
    ebl = issue(shipper)
    signed = sign_action(registry, shipper, title_action(Action.TRANSFER, ebl, bank.org), claim=yes_sayer)
    send(registry.functions.execute(signed), outsider)
    assert registry.functions.holderOf(ebl).call() == bank.org
    assert registry.functions.nonceUsed(yes_sayer, signed[0][4]).call()


def test_most_expensive_legitimate_entry_fits_the_entry_cap_with_margin(
    registry, w3, send, issue, outsider, carrier, shipper
):
    """The figure behind BATCH_ENTRY_GAS: a signed amendment (a new record, document, predecessor,
    document index and nonce word) and a signed issuance leave over 100,000 of the cap unused."""
    ebl = issue(shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), shipper)
    send(registry.functions.acceptSurrender(ebl), carrier)
    amend = sign_action(registry, carrier, title_action(Action.AMEND, ebl, ZERO_ADDRESS, AMENDED_DOC))
    receipt = send(registry.functions.executeBatch([amend]), outsider)
    assert registry.functions.statusOf(amended_id_of(ebl)).call() == Status.ACTIVE
    amend_gas = int(self_calls(w3, receipt)[0]["gasUsed"], 16)

    issued = sign_issuance(registry, carrier, issuance(fresh_tdr(), shipper.org))
    receipt = send(registry.functions.issueBatch([issued]), outsider)
    issue_gas = int(self_calls(w3, receipt)[0]["gasUsed"], 16)

    # Measured 156,462 and 115,270: the cap leaves over 100,000 for a smart account's ERC-1271 check.
    assert max(amend_gas, issue_gas) + 100_000 < BATCH_ENTRY_GAS, (amend_gas, issue_gas)


def test_amend_panics_if_the_successor_slot_is_already_taken(registry, w3, send, issue, carrier, shipper):
    """The successor slot of an eBL is empty when it is amended (an invariant: an assert, Panic 0x01).
    Planting a predecessor link in it with anvil_setStorageAt stands in for the impossible collision."""
    # Find the slot of `_predecessors` from a real amendment: the mapping entry that holds `first`.
    first = issue(shipper)
    send(registry.functions.requestSurrenderForAmendment(first, text32("COD")), shipper)
    send(registry.functions.acceptSurrender(first), carrier)
    send(registry.functions.amend(first, AMENDED_DOC, ZERO_ADDRESS), carrier)

    def entry(key: int, slot: int) -> bytes:
        return keccak(encode(["uint256", "uint256"], [key, slot]))

    slot = next(
        s
        for s in range(64)
        if int.from_bytes(w3.eth.get_storage_at(registry.address, entry(amended_id_of(first), s)), "big")
        == first
    )

    second = issue(shipper)
    send(registry.functions.requestSurrenderForAmendment(second, text32("COD")), shipper)
    send(registry.functions.acceptSurrender(second), carrier)
    planted = "0x" + (12345).to_bytes(32, "big").hex()
    w3.provider.make_request(
        "anvil_setStorageAt", [registry.address, "0x" + entry(amended_id_of(second), slot).hex(), planted]
    )
    with pytest.raises(ContractPanicError) as excinfo:
        registry.functions.amend(second, keccak(text="second amendment"), ZERO_ADDRESS).call(
            {"from": carrier.address}
        )
    assert excinfo.value.data == "0x4e487b71" + (1).to_bytes(32, "big").hex()
