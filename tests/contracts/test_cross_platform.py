"""eBLs leaving for and arriving from other platforms (PINT): the holder starts an export, only the
registry bridge (CROSS_PLATFORM_ROLE) ends it or records an arriving bill, and a bill has exactly one
holder across platforms at every step."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from registry.types import Action, DocumentKind, Status
from tests.contracts.helpers import (
    CARRIER_ACTIONS,
    HOLDER_ACTIONS,
    ZERO_ADDRESS,
    ZERO_HASH,
    events,
    sign_action,
    title,
    title_action,
    title_call,
)

CROSS_PLATFORM_ROLE = keccak(text="CROSS_PLATFORM_ROLE")
WAVE = b"WAVE"
ENVELOPE = keccak(text="last envelope transfer chain entry signed by us")
RESPONSE = keccak(text="EnvelopeTransferFinishedResponse signed by WAVE")
LAST_ENTRY = keccak(text="last entry signed by WAVE")


def wave_party() -> str:
    """The `party` of a signed StartExport: the platform code left-aligned, the rest zero."""
    return "0x" + WAVE.ljust(20, b"\0").hex()


def imported(
    doc: bytes,
    holder: str,
    *,
    carrier: str = ZERO_ADDRESS,
    carrier_ref: bytes = keccak(text="MSK@SMDG"),
    tdr: bytes = keccak(text="TDR-ABROAD-1"),
    endorsee: str | None = None,
    kind: DocumentKind = DocumentKind.TO_ORDER,
    endorsable: bool = True,
    blank: bool = False,
    platform: bytes = WAVE,
    last: bytes = LAST_ENTRY,
) -> tuple:
    """An `ImportedTitle` tuple."""
    return (
        doc,
        tdr,
        carrier,
        ZERO_HASH if carrier != ZERO_ADDRESS else carrier_ref,
        holder,
        endorsee or holder,
        int(kind),
        endorsable,
        blank,
        platform,
        last,
    )


@pytest.fixture
def exported(registry, send, issue, shipper, bank, bridge):
    """An eBL the shipper sent to WAVE, which accepted it (RECE)."""

    def _exported(kind: DocumentKind = DocumentKind.TO_ORDER) -> int:
        ebl = issue(shipper, endorsee=None if kind is DocumentKind.TO_ORDER else bank, kind=kind)
        send(registry.functions.startExport(ebl, WAVE, ENVELOPE), shipper)
        send(registry.functions.closeExport(ebl, RESPONSE), bridge)
        return ebl

    return _exported


# ----------------------------------------------------------------------------- the role


def test_the_bridge_key_holds_the_role_and_governance_can_never_grant_it(
    registry, reverts, governance, bridge
):
    """CROSS_PLATFORM_ROLE administers itself: governance (DEFAULT_ADMIN_ROLE) cannot grant it, to
    itself or anyone, so the bridge's powers are no governance power over title."""
    f = registry.functions
    assert f.hasRole(CROSS_PLATFORM_ROLE, bridge.address).call() is True
    assert f.hasRole(CROSS_PLATFORM_ROLE, governance.address).call() is False
    assert f.getRoleAdmin(CROSS_PLATFORM_ROLE).call() == CROSS_PLATFORM_ROLE
    with reverts("AccessControlUnauthorizedAccount", governance.address, CROSS_PLATFORM_ROLE):
        f.grantRole(CROSS_PLATFORM_ROLE, governance.address).transact({"from": governance.address})


@pytest.mark.parametrize("who", ["governance", "shipper", "carrier"])
def test_only_the_bridge_ends_exports_and_imports(registry, reverts, send, issue, cast, governance, who):
    """Neither governance, nor the holder, nor the carrier can close, cancel or import."""
    shipper = cast["shipper"]
    ebl = issue(shipper)
    send(registry.functions.startExport(ebl, WAVE, ENVELOPE), shipper)
    sender = governance.address if who == "governance" else cast[who].address
    f = registry.functions
    for call in (
        f.closeExport(ebl, RESPONSE),
        f.cancelExport(ebl, RESPONSE),
        f.importTitle(imported(keccak(text="foreign bill"), shipper.org)),
    ):
        with reverts("AccessControlUnauthorizedAccount", sender, CROSS_PLATFORM_ROLE):
            call.transact({"from": sender})


# ----------------------------------------------------------------------------- export


@pytest.mark.parametrize("via", ["direct", "signed"])
def test_the_shipper_sends_its_bill_to_wave_and_it_is_frozen(registry, send, issue, shipper, bank, via):
    """StartExport: ExportPending, the shipper still holds (ownerOf, balance), events carry the
    platform code and the envelope checksum."""
    ebl = issue(shipper)
    f = registry.functions
    if via == "direct":
        receipt = send(f.startExport(ebl, WAVE, ENVELOPE), shipper)
    else:
        signed = sign_action(
            registry, shipper, title_action(Action.START_EXPORT, ebl, wave_party(), ENVELOPE)
        )
        receipt = send(f.execute(signed), bank)
    t = title(registry, ebl)
    assert Status(t["status"]) is Status.EXPORT_PENDING
    assert t["holder"] == shipper.org and t["seq"] == 1
    assert f.ownerOf(ebl).call() == shipper.org and f.balanceOf(shipper.org).call() == 1
    assert f.exportOf(ebl).call() == [WAVE, ENVELOPE]
    assert events(registry, "ExportStarted", receipt) == [
        {"eblId": ebl, "holder": shipper.org, "platform": WAVE, "envelopeChecksum": ENVELOPE}
    ]
    (rec,) = events(registry, "ActionRecorded", receipt)
    assert (rec["action"], rec["actor"], rec["data"], rec["seq"]) == (
        Action.START_EXPORT,
        shipper.org,
        ENVELOPE,
        1,
    )


@pytest.mark.parametrize("action", HOLDER_ACTIONS + CARRIER_ACTIONS, ids=lambda a: a.name.lower())
def test_nothing_but_the_bridge_acts_on_a_bill_in_flight(registry, reverts, send, issue, cast, action):
    """While the envelope travels no holder or carrier action, and no second export, goes through."""
    shipper, bank, carrier = cast["shipper"], cast["bank"], cast["carrier"]
    ebl = issue(shipper)
    send(registry.functions.startExport(ebl, WAVE, ENVELOPE), shipper)
    actor = carrier if action in CARRIER_ACTIONS else shipper
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORT_PENDING)):
        title_call(registry, action, ebl, bank.org).transact({"from": actor.address})
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORT_PENDING)):
        registry.functions.startExport(ebl, WAVE, ENVELOPE).transact({"from": shipper.address})


def test_only_the_holder_exports_and_only_to_a_named_platform(registry, reverts, issue, shipper, bank):
    """A bank that does not hold gets TitleNotHolder; a party with no platform code or with bytes
    beyond the 4 of a code gets BridgeInvalidPlatform; a zero envelope checksum TitleZeroHash."""
    ebl = issue(shipper)
    f = registry.functions
    with reverts("TitleNotHolder", ebl, bank.org):
        f.startExport(ebl, WAVE, ENVELOPE).transact({"from": bank.address})
    with reverts("BridgeInvalidPlatform", ZERO_ADDRESS):
        f.startExport(ebl, b"\0" * 4, ENVELOPE).transact({"from": shipper.address})
    with reverts("TitleZeroHash"):
        f.startExport(ebl, WAVE, ZERO_HASH).transact({"from": shipper.address})
    for party in (ZERO_ADDRESS, "0x" + (WAVE + b"\0" * 15 + b"\1").hex()):
        signed = sign_action(registry, shipper, title_action(Action.START_EXPORT, ebl, party, ENVELOPE))
        with reverts("BridgeInvalidPlatform", party):
            f.execute(signed).transact({"from": shipper.address})


def test_wave_accepts_and_the_bill_is_held_there_not_here(
    registry, reverts, send, issue, shipper, bank, bridge
):
    """closeExport (RECE): Exported, the holding ends here (ERC-721 burn), nothing acts on it any more."""
    ebl = issue(shipper)
    f = registry.functions
    send(f.startExport(ebl, WAVE, ENVELOPE), shipper)
    receipt = send(f.closeExport(ebl, RESPONSE), bridge)
    t = title(registry, ebl)
    assert Status(t["status"]) is Status.EXPORTED and t["holder"] == shipper.org and t["seq"] == 2
    assert f.balanceOf(shipper.org).call() == 0
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORTED)):
        f.ownerOf(ebl).call()
    assert events(registry, "ExportClosed", receipt) == [
        {
            "eblId": ebl,
            "accepted": True,
            "platform": WAVE,
            "envelopeChecksum": ENVELOPE,
            "responseChecksum": RESPONSE,
        }
    ]
    (rec,) = events(registry, "ActionRecorded", receipt)
    assert (rec["action"], rec["actor"], rec["counterparty"], rec["actorKey"], rec["data"]) == (
        Action.CLOSE_EXPORT,
        ZERO_ADDRESS,
        shipper.org,
        bridge.address,
        RESPONSE,
    )
    assert f.exportOf(ebl).call() == [WAVE, ENVELOPE]
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORTED)):
        f.closeExport(ebl, RESPONSE).transact({"from": bridge.address})
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORTED)):
        f.transferPossession(ebl, bank.org).transact({"from": shipper.address})
    with reverts("TitleZeroHash"):
        f.closeExport(issue(shipper), ZERO_HASH).transact({"from": bridge.address})


def test_wave_refuses_and_the_shipper_holds_again(registry, send, issue, shipper, bank, bridge):
    """cancelExport: Active again with the same holder and endorsee; the shipper deals with it as before."""
    ebl = issue(shipper, endorsee=bank)
    f = registry.functions
    before = title(registry, ebl)
    send(f.startExport(ebl, WAVE, ENVELOPE), shipper)
    receipt = send(f.cancelExport(ebl, RESPONSE), bridge)
    after = title(registry, ebl)
    assert Status(after["status"]) is Status.ACTIVE
    assert (after["holder"], after["endorsee"], after["seq"]) == (before["holder"], before["endorsee"], 2)
    assert f.exportOf(ebl).call() == [b"\0" * 4, ZERO_HASH]
    assert events(registry, "ExportClosed", receipt)[0]["accepted"] is False
    send(f.transferPossession(ebl, bank.org), shipper)
    assert f.ownerOf(ebl).call() == bank.org


# ----------------------------------------------------------------------------- import


def test_a_bill_of_a_foreign_carrier_arrives_for_the_bank(registry, reverts, send, bank, bridge):
    """A new record held by the bank, carrier zero (foreign), its id from the carrier ref and TDR,
    document bound to it; a foreign carrier's bill cannot be surrendered here."""
    doc = keccak(text="bill issued by a carrier on WAVE")
    tdr, ref = keccak(text="TDR-ABROAD-1"), keccak(text="MSK@SMDG")
    f = registry.functions
    receipt = send(f.importTitle(imported(doc, bank.org, tdr=tdr, carrier_ref=ref)), bridge)
    ebl = int.from_bytes(keccak(encode(["address", "bytes32", "bytes32"], [ZERO_ADDRESS, ref, tdr])), "big")
    assert f.importedEblIdOf(ZERO_ADDRESS, ref, tdr).call() == ebl
    t = title(registry, ebl)
    assert Status(t["status"]) is Status.ACTIVE
    assert (t["holder"], t["endorsee"], t["carrier"], t["documentHash"], t["seq"]) == (
        bank.org,
        bank.org,
        ZERO_ADDRESS,
        doc,
        0,
    )
    assert f.eblIdOfDocument(doc).call() == ebl and f.ownerOf(ebl).call() == bank.org
    (imp,) = events(registry, "TitleImported", receipt)
    assert (imp["platform"], imp["lastEntryChecksum"], imp["returning"]) == (WAVE, LAST_ENTRY, False)
    (rec,) = events(registry, "ActionRecorded", receipt)
    assert (rec["action"], rec["counterparty"], rec["data"], rec["seq"]) == (
        Action.IMPORT_TITLE,
        bank.org,
        LAST_ENTRY,
        0,
    )
    with reverts("MembershipUnknownOrganisation", ZERO_ADDRESS):
        f.requestSurrenderForDelivery(ebl).transact({"from": bank.address})


def test_a_member_carriers_bill_arrives_under_the_id_it_would_have_here(
    registry, send, carrier, consignee, bridge
):
    """With a member carrier the id is eblIdOf(carrier, tdr) and the carrier is recorded."""
    doc, tdr = keccak(text="straight bill of our carrier, first held on WAVE"), keccak(text="TDR-X")
    f = registry.functions
    send(
        f.importTitle(imported(doc, consignee.org, carrier=carrier.org, tdr=tdr, kind=DocumentKind.STRAIGHT)),
        bridge,
    )
    ebl = f.eblIdOf(carrier.org, tdr).call()
    t = title(registry, ebl)
    assert (t["carrier"], t["holder"], t["endorsee"], t["kind"]) == (
        carrier.org,
        consignee.org,
        consignee.org,
        0,
    )


def test_a_blank_endorsed_bill_arrives_as_a_bearer_bill(registry, send, buyer, bridge):
    doc = keccak(text="bearer bill from WAVE")
    send(registry.functions.importTitle(imported(doc, buyer.org, blank=True)), bridge)
    t = title(registry, registry.functions.eblIdOfDocument(doc).call())
    assert t["blankEndorsed"] is True and t["endorsee"] == ZERO_ADDRESS and t["holder"] == buyer.org


def test_a_bill_that_comes_back_is_the_same_record(registry, send, exported, shipper, consignee, bridge):
    """A → WAVE → A: the Exported record is re-activated for the consignee, same id, next seq, no
    second record, and the holding is counted again."""
    ebl = exported()
    doc = title(registry, ebl)["documentHash"]
    f = registry.functions
    receipt = send(f.importTitle(imported(doc, consignee.org, endorsee=consignee.org)), bridge)
    t = title(registry, ebl)
    assert Status(t["status"]) is Status.ACTIVE and t["holder"] == consignee.org and t["seq"] == 3
    assert f.eblIdOfDocument(doc).call() == ebl and f.ownerOf(ebl).call() == consignee.org
    assert f.exportOf(ebl).call() == [b"\0" * 4, ZERO_HASH]
    assert events(registry, "TitleImported", receipt)[0]["returning"] is True
    assert f.balanceOf(shipper.org).call() == 0 and f.balanceOf(consignee.org).call() == 1


def test_a_bill_held_here_cannot_arrive_again(registry, reverts, send, issue, shipper, bank, bridge):
    """Its document names a record that is Active (or in flight): TitleWrongStatus; two holders never."""
    ebl = issue(shipper)
    doc = title(registry, ebl)["documentHash"]
    f = registry.functions
    with reverts("TitleWrongStatus", ebl, int(Status.ACTIVE)):
        f.importTitle(imported(doc, bank.org)).transact({"from": bridge.address})
    send(f.startExport(ebl, WAVE, ENVELOPE), shipper)
    with reverts("TitleWrongStatus", ebl, int(Status.EXPORT_PENDING)):
        f.importTitle(imported(doc, bank.org)).transact({"from": bridge.address})


def test_an_arriving_bill_goes_only_to_an_active_member(
    registry, reverts, send, governance, bank, outsider, bridge
):
    doc = keccak(text="bill for an outsider")
    f = registry.functions
    with reverts("MembershipUnknownOrganisation", outsider.org):
        f.importTitle(imported(doc, outsider.org)).transact({"from": bridge.address})
    send(f.suspendOrganisation(bank.org), governance)
    with reverts("MembershipOrganisationNotActive", bank.org):
        f.importTitle(imported(doc, bank.org)).transact({"from": bridge.address})
    with reverts("TitleZeroHash"):
        f.importTitle(imported(ZERO_HASH, outsider.org)).transact({"from": bridge.address})


def test_the_pause_stops_the_bridge_too(registry, reverts, send, issue, governance, shipper, bridge):
    ebl = issue(shipper)
    f = registry.functions
    send(f.startExport(ebl, WAVE, ENVELOPE), shipper)
    send(f.pause(), governance)
    with reverts("EnforcedPause"):
        f.closeExport(ebl, RESPONSE).transact({"from": bridge.address})
    with reverts("EnforcedPause"):
        f.importTitle(imported(keccak(text="paused"), shipper.org)).transact({"from": bridge.address})
