"""The chain side of PINT through the PlatformBridge, against a real anvil: the shipper's bill leaves for
WAVE (accepted or refused), comes back as the same record, and bills of member and foreign carriers
arrive; at every step exactly one platform holds the bill."""

from __future__ import annotations

import hashlib

import pytest

from registry.chain.errors import error_class
from registry.chain.ids import ebl_id as issued_ebl_id
from registry.chain.ids import tdr_hash
from registry.chain.rpc import rpc
from registry.documents import CarrierCode, Document
from registry.errors import ConfigurationError, InvalidRequestError
from registry.keys import LocalSigner
from registry.store.db import create_engine_for
from registry.store.documents import SqlDocumentStore
from registry.store.indexer import Indexer
from registry.store.sender_lock import SenderLock
from registry.title.bridge import PlatformBridge, carrier_ref, imported_ebl_id, platform_party
from registry.types import Action, Status
from tests.contracts.parties import test_key as key_for
from tests.fixtures.dcsa import issued_example
from tests.registry.title.helpers import document, events_of


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


ENVELOPE = sha("envelope transfer chain entry we signed")
RESPONSE = sha("EnvelopeTransferFinishedResponse signed by WAVE")
LAST_ENTRY = sha("last envelope transfer chain entry signed by WAVE")


@pytest.fixture
def bridge_service(w3, deployment, service, journal_engine, carrier_codes, bridge) -> PlatformBridge:
    """The registry's bridge, with the key deployment granted CROSS_PLATFORM_ROLE."""
    return PlatformBridge(
        w3,
        deployment,
        service,
        LocalSigner(bridge.key),
        SqlDocumentStore(journal_engine),
        carrier_codes.owner_of,
    )


def test_the_shippers_bill_leaves_for_wave_which_accepts_it(service, bridge_service, carrier, shipper, bank):
    """start_export freezes the bill (EXPORT_PENDING, the shipper still holds); RECE makes it EXPORTED,
    held on WAVE: the verification names the platform and the envelope; closing again changes nothing."""
    ebl = service.issue(carrier.org, document("PINT-OUT-1"), shipper.org).ebl_id
    started = bridge_service.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    assert (started.status, started.action) == ("final", Action.START_EXPORT)
    pending = service.verify(ebl)
    assert (pending.status, pending.holder, pending.live) == (Status.EXPORT_PENDING, shipper.org, False)
    assert (pending.exported_to, pending.export_envelope_checksum) == ("WAVE", ENVELOPE)
    with pytest.raises(error_class("TitleWrongStatus")):
        service.transfer(shipper.org, ebl, bank.org)

    closed = bridge_service.close_export(ebl, accepted=True, response_checksum=RESPONSE)
    assert (closed.status, closed.action, closed.tx_hash is not None) == ("final", Action.CLOSE_EXPORT, True)
    gone = service.verify(ebl)
    assert (gone.status, gone.exported_to, gone.export_envelope_checksum) == (
        Status.EXPORTED,
        "WAVE",
        ENVELOPE,
    )
    again = bridge_service.close_export(ebl, accepted=True, response_checksum=RESPONSE)
    assert again.status == "final" and again.tx_hash is None
    assert events_of(service, ebl) == ["ISSUE", "START_EXPORT", "CLOSE_EXPORT"]
    export = bridge_service.export_of(ebl)
    assert (export.status, export.platform, export.envelope_checksum) == (Status.EXPORTED, "WAVE", ENVELOPE)


def test_wave_refuses_and_the_shipper_deals_with_its_bill_again(
    service, bridge_service, carrier, shipper, bank
):
    """A refusal (or no answer) returns the bill to ACTIVE with the same holder; a repeat is a no-op."""
    ebl = service.issue(carrier.org, document("PINT-OUT-2"), shipper.org).ebl_id
    bridge_service.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    refused = bridge_service.close_export(ebl, accepted=False, response_checksum=RESPONSE)
    assert refused.action is Action.CANCEL_EXPORT and refused.status == "final"
    back = service.verify(ebl)
    assert (back.status, back.holder, back.exported_to) == (Status.ACTIVE, shipper.org, None)
    assert bridge_service.close_export(ebl, accepted=False, response_checksum=None).tx_hash is None
    assert service.transfer(shipper.org, ebl, bank.org).status == "final"


def test_a_bill_that_went_to_wave_comes_back_to_the_consignee_as_the_same_record(
    service, bridge_service, carrier, shipper, consignee
):
    """A → WAVE → A: the import finds the record by its document, re-activates it for the consignee
    (same id, no second record), and a repeated import (same last entry) answers the same outcome."""
    doc = document("PINT-ROUND-1")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    bridge_service.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    bridge_service.close_export(ebl, accepted=True, response_checksum=RESPONSE)

    arriving = Document.from_value(doc)
    assert bridge_service.find_by_document(arriving.hash) == ebl
    op = bridge_service.import_title(
        document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=LAST_ENTRY
    )
    assert (op.status, op.action, op.ebl_id) == ("final", Action.IMPORT_TITLE, ebl)
    home = service.verify(ebl, document=doc)
    assert (home.status, home.holder, home.carrier, home.document_matches) == (
        Status.ACTIVE,
        consignee.org,
        carrier.org,
        True,
    )
    repeated = bridge_service.import_title(
        document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=LAST_ENTRY
    )
    assert (repeated.ebl_id, repeated.tx_hash) == (ebl, None)
    with pytest.raises(error_class("TitleWrongStatus")):  # held here: it cannot arrive a second time
        bridge_service.import_title(
            document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=sha("other")
        )


def test_a_repeated_import_is_recognised_from_the_index_and_the_archive_without_the_nodes_logs(
    w3, deployment, service, journal_engine, carrier_codes, bridge, carrier, shipper, consignee, monkeypatch
):
    """The bridge of a gateway (with its index): once indexed, the first import is found in the archived
    blocks the index lists for the bill, so a node that pruned its logs cannot make a repeat look new."""
    indexer = Indexer(w3, deployment, journal_engine)
    indexed_bridge = PlatformBridge(
        w3,
        deployment,
        service,
        LocalSigner(bridge.key),
        SqlDocumentStore(journal_engine),
        carrier_codes.owner_of,
        index=indexer,
    )
    doc = document("PINT-ROUND-ARCHIVE")
    ebl = service.issue(carrier.org, doc, shipper.org).ebl_id
    indexed_bridge.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    indexed_bridge.close_export(ebl, accepted=True, response_checksum=RESPONSE)
    arriving = Document.from_value(doc)
    indexed_bridge.import_title(
        document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=LAST_ENTRY
    )
    indexer.sync()

    def no_old_logs(w3_, method, params):
        assert method != "eth_getLogs" or int(params[0]["fromBlock"], 16) > indexer.applied_block()
        return rpc(w3_, method, params)

    monkeypatch.setattr("registry.title.bridge.rpc", no_old_logs)
    repeated = indexed_bridge.import_title(
        document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=LAST_ENTRY
    )
    assert (repeated.ebl_id, repeated.tx_hash) == (ebl, None)


def test_a_bill_of_a_foreign_carrier_arrives_for_the_bank(service, bridge_service, bank):
    """A carrier that is no member here (HLCU): a new record with no carrier, its id from the
    carrier's code and the TDR; its document is stored and verifies."""
    value = issued_example(
        "regular", transportDocumentReference="PINT-IN-1", carrierCode="HLCU", carrierCodeListProvider="SMDG"
    )
    arriving = Document.from_value(value)
    assert bridge_service.find_by_document(arriving.hash) is None
    op = bridge_service.import_title(
        document=arriving, holder=bank.org, platform="BOLE", last_entry_checksum=LAST_ENTRY
    )
    expected = imported_ebl_id(None, carrier_ref(CarrierCode("HLCU", "SMDG")), tdr_hash("PINT-IN-1"))
    assert op.ebl_id == expected
    view = service.verify(document=value)
    assert (view.ebl_id, view.status, view.holder, view.carrier) == (expected, Status.ACTIVE, bank.org, None)
    with pytest.raises(error_class("MembershipUnknownOrganisation")):  # surrender goes to its own platform
        service.surrender_for_delivery(bank.org, expected)


def test_a_bill_of_our_carrier_first_held_elsewhere_arrives_under_its_usual_id(
    service, bridge_service, carrier, consignee
):
    """A member carrier's document (MSC): the id is the one it would have had if issued here."""
    arriving = Document.from_value(document("PINT-IN-2"))
    op = bridge_service.import_title(
        document=arriving, holder=consignee.org, platform="WAVE", last_entry_checksum=LAST_ENTRY
    )
    assert op.ebl_id == issued_ebl_id(carrier.org, tdr_hash("PINT-IN-2"))
    assert service.verify(op.ebl_id).carrier == carrier.org


def test_bad_platform_codes_and_checksums_are_refused_before_anything_is_signed(
    service, bridge_service, carrier, shipper, bank
):
    ebl = service.issue(carrier.org, document("PINT-BAD-1"), shipper.org).ebl_id
    for platform in ("", "TOOLONG", "W V", "ÉBL"):
        with pytest.raises(InvalidRequestError):
            bridge_service.start_export(shipper.org, ebl, platform=platform, envelope_checksum=ENVELOPE)
    for checksum in ("", "00" * 32, "zz" * 32, ENVELOPE[:-2]):
        with pytest.raises(InvalidRequestError):
            bridge_service.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=checksum)
    with pytest.raises(error_class("TitleNotHolder")):
        bridge_service.start_export(bank.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    assert platform_party("WAVE") == "0x5741564500000000000000000000000000000000"
    assert service.verify(ebl).status is Status.ACTIVE


def test_a_key_without_the_role_cannot_run_the_bridge(
    w3, deployment, service, journal_engine, carrier_codes, carrier, shipper
):
    """CROSS_PLATFORM_ROLE is granted only at deployment: another key is refused before signing."""
    stranger = PlatformBridge(
        w3,
        deployment,
        service,
        LocalSigner(key_for("not-the-bridge").key),
        SqlDocumentStore(journal_engine),
        carrier_codes.owner_of,
    )
    ebl = service.issue(carrier.org, document("PINT-ROLE-1"), shipper.org).ebl_id
    with pytest.raises(ConfigurationError):
        stranger.start_export(shipper.org, ebl, platform="WAVE", envelope_checksum=ENVELOPE)
    assert service.verify(ebl).status is Status.ACTIVE


@pytest.mark.postgres
def test_two_workers_bridges_import_in_turn_each_with_a_nonce_of_its_own(
    w3, deployment, service, journal_engine, carrier_codes, bridge, bank, postgres_server
):
    """Two gateway workers' bridges (``ebl serve --workers 2``), one bridge account, one PostgreSQL
    database: bills arriving through one worker, then the other, then the first again all land. A
    nonce counted in one process would be stale once the other has sent."""
    url = postgres_server.create_database("two_worker_bridges")
    engine = create_engine_for(url)
    try:
        bridges = [
            PlatformBridge(
                w3,
                deployment,
                service,
                LocalSigner(bridge.key),
                SqlDocumentStore(journal_engine),
                carrier_codes.owner_of,
                send_lock=SenderLock(engine, bridge.address),
            )
            for _ in range(2)
        ]
        for n, worker in enumerate((0, 1, 0)):
            value = issued_example(
                "regular",
                transportDocumentReference=f"PINT-2W-{n}",
                carrierCode="HLCU",
                carrierCodeListProvider="SMDG",
            )
            op = bridges[worker].import_title(
                document=Document.from_value(value),
                holder=bank.org,
                platform="BOLE",
                last_entry_checksum=sha(f"last entry {n}"),
            )
            assert op.status == "final", (worker, op)
            assert service.verify(document=value).holder == bank.org
    finally:
        engine.dispose()
