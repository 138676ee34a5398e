"""The receiving platform checks envelopes built by the sending platforms' real keys: chains that
are sound are taken, and every refusal decidable from the envelope alone is provoked on purpose, with
its code (and, for BSIG, its cause)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from registry.errors import EnvelopeRefused
from registry.pint.checksums import checksum, jws_checksum
from registry.pint.codes import ResponseCode, SignatureCause
from registry.pint.envelope import TransactionActionCode
from registry.pint.trust import PlatformEntry
from registry.pint.verify import ACCEPTED_ACTIONS, CheckedEnvelope, check_envelope, compare_with_known
from tests.registry.pint.support import (
    BANK,
    CARRIER,
    CONSIGNEE,
    CONSIGNEE_ADDRESS,
    INVOICE,
    OURS,
    SHIPPER,
    STRANGER,
    VISUALISATION,
    Members,
    Platforms,
    document,
    endorse_to_consignee,
    forge,
    issue_to_consignee,
    make_platforms,
    payload,
    send,
    transfer_via_bank,
    tx,
)


@pytest.fixture(scope="module")
def platforms() -> Platforms:
    return make_platforms()


def receive(platforms: Platforms, body: dict[str, Any], **kwargs: Any) -> CheckedEnvelope:
    return check_envelope(
        body, kwargs.pop("trust", platforms.trust()), Members(), own_platform=OURS, **kwargs
    )


def refused(
    platforms: Platforms, body: dict[str, Any], code: ResponseCode, match: str, **kwargs: Any
) -> EnvelopeRefused:
    with pytest.raises(EnvelopeRefused, match=match) as caught:
        receive(platforms, body, **kwargs)
    assert caught.value.response_code is code, caught.value
    return caught.value


# --- sound chains --------------------------------------------------------------------------------


def test_the_consignee_receives_a_bill_the_carrier_issued_to_it_directly(platforms: Platforms) -> None:
    built = issue_to_consignee(platforms)
    checked = receive(platforms, built.envelope)
    assert checked.action_code is TransactionActionCode.ISSUE
    assert checked.sending_platform == "WAVE" and checked.issuing_platform == "WAVE"
    assert checked.recipient_member == CONSIGNEE_ADDRESS
    assert checked.last_entry_checksum == built.last_entry_checksum == jws_checksum(built.chain[-1])
    assert checked.transport_document_checksum == checksum(built.envelope["transportDocument"])
    assert checked.issuing_carrier == "SMDG:MSC"
    assert [d.documentChecksum for d in checked.expected_documents] == [
        VISUALISATION.checksum,
        INVOICE.checksum,
    ]
    assert [d.documentChecksum for d in checked.expected_documents] == [d.checksum for d in built.documents]


def test_the_consignee_receives_a_bill_transferred_by_the_bank_on_another_platform(
    platforms: Platforms,
) -> None:
    built = transfer_via_bank(platforms)
    checked = receive(platforms, built.envelope)
    assert checked.action_code is TransactionActionCode.TRANSFER
    assert checked.sending_platform == "BOLE"
    assert [e.eblPlatform for e in checked.entries] == ["WAVE", "BOLE"]
    assert checked.entry_checksums == tuple(jws_checksum(e) for e in built.chain)
    assert checked.last_transaction.recipient is not None
    assert checked.last_transaction.recipient.partyName == CONSIGNEE["partyName"]


def test_the_consignee_receives_a_to_order_bill_the_shipper_endorsed_to_it(platforms: Platforms) -> None:
    checked = receive(platforms, endorse_to_consignee(platforms).envelope)
    assert checked.action_code is TransactionActionCode.ENDORSE
    assert checked.transport_document["isToOrder"] is True


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256", "PS256"])
def test_every_algorithm_round_trips_through_a_three_platform_chain(alg: str) -> None:
    each = make_platforms({"WAVE": alg, "BOLE": alg, OURS: alg})
    built = transfer_via_bank(each)
    checked = receive(each, built.envelope)
    assert checked.last_entry_checksum == built.last_entry_checksum


def test_a_bill_without_additional_documents_expects_none(platforms: Platforms) -> None:
    checked = receive(platforms, issue_to_consignee(platforms, visualisation=None, supporting=()).envelope)
    assert checked.expected_documents == ()
    assert checked.manifest.supportingDocuments is None


def test_a_bill_that_comes_back_carries_its_whole_chain(platforms: Platforms) -> None:
    """EBLR issued the bill, it went to the bank on BOLE, and comes back: our own first entry verifies."""
    built = send(
        platforms,
        [
            (
                OURS,
                [
                    tx("ISSUE", {**CARRIER, "eblPlatform": OURS}, {**SHIPPER, "eblPlatform": OURS}),
                    tx("TRANSFER", {**SHIPPER, "eblPlatform": OURS}, BANK),
                ],
            ),
            ("BOLE", [tx("TRANSFER", BANK, CONSIGNEE)]),
        ],
    )
    checked = receive(platforms, built.envelope)
    assert checked.issuing_platform == OURS and len(checked.chain) == 2


def test_an_issuance_manifest_signed_by_a_platform_listed_for_the_carrier_is_taken(
    platforms: Platforms,
) -> None:
    built = issue_to_consignee(platforms)
    entry = payload(built.chain[0])
    entry["issuanceManifestSignedContent"] = platforms.signers["BOLE"].sign(
        payload(entry["issuanceManifestSignedContent"])
    )
    body = forge(platforms, built.envelope, entries=[entry])
    refused(platforms, body, ResponseCode.BSIG, "neither issued the bill")
    trust = platforms.trust()
    bole = trust.get("BOLE")
    assert bole is not None
    trust.add(bole.model_copy(update={"carriers": ("SMDG:MSC",)}))
    assert receive(platforms, body, trust=trust).issuing_platform == "BOLE"


# --- BSIG ----------------------------------------------------------------------------------------


def test_an_envelope_from_an_unknown_platform_is_bsig_unknown_key(platforms: Platforms) -> None:
    error = refused(
        platforms,
        transfer_via_bank(platforms).envelope,
        ResponseCode.BSIG,
        "UNKNOWN_KEY_ID",
        trust=platforms.trust(without=["BOLE"]),
    )
    assert error.cause is SignatureCause.UNKNOWN_KEY_ID


def test_an_entry_by_an_untrusted_platform_deep_in_the_chain_is_bsig(platforms: Platforms) -> None:
    error = refused(
        platforms,
        transfer_via_bank(platforms).envelope,
        ResponseCode.BSIG,
        r"envelopeTransferChain\[0\]: UNKNOWN_KEY_ID",
        trust=platforms.trust(without=["WAVE"]),
    )
    assert error.cause is SignatureCause.UNKNOWN_KEY_ID


def test_a_tampered_signature_is_bsig_bad_signature(platforms: Platforms) -> None:
    body = transfer_via_bank(platforms).envelope
    head, claims, signature = body["envelopeTransferChain"][0].split(".")
    body["envelopeTransferChain"][0] = f"{head}.{claims}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    error = refused(platforms, body, ResponseCode.BSIG, r"envelopeTransferChain\[0\]: BAD_SIGNATURE")
    assert error.cause is SignatureCause.BAD_SIGNATURE


def test_a_manifest_naming_another_last_entry_is_bsig(platforms: Platforms) -> None:
    built = transfer_via_bank(platforms)
    manifest = payload(built.envelope["envelopeManifestSignedContent"])
    manifest["lastEnvelopeTransferChainEntrySignedContentChecksum"] = jws_checksum(built.chain[0])
    body = forge(platforms, built.envelope, manifest=manifest)
    refused(platforms, body, ResponseCode.BSIG, "the manifest signs another last chain entry")


def test_a_last_entry_swapped_for_another_transfer_is_bsig(platforms: Platforms) -> None:
    one, other = transfer_via_bank(platforms), transfer_via_bank(platforms)
    body = {**one.envelope, "envelopeTransferChain": [*one.chain[:-1], other.chain[-1]]}
    refused(platforms, body, ResponseCode.BSIG, "the manifest signs another last chain entry")


def test_an_entry_signed_by_another_platform_than_it_names_is_bsig(platforms: Platforms) -> None:
    built = transfer_via_bank(platforms)
    body = forge(platforms, built.envelope, signer_of={0: "BOLE"})
    refused(
        platforms,
        body,
        ResponseCode.BSIG,
        r"envelopeTransferChain\[0\] names platform WAVE but is signed by a key of BOLE",
    )


def test_a_manifest_signed_by_another_platform_than_the_last_entry_is_bsig(platforms: Platforms) -> None:
    body = forge(platforms, transfer_via_bank(platforms).envelope, manifest_signer="WAVE")
    refused(
        platforms,
        body,
        ResponseCode.BSIG,
        "the manifest is signed by platform WAVE, the last chain entry by BOLE",
    )


# --- BENV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: b.pop("transportDocument"), "transportDocument: Field required"),
        (
            lambda b: b.update(envelopeTransferChain=[]),
            "envelopeTransferChain: List should have at least 1 item",
        ),
        (lambda b: b.update(unsigned="smuggled"), "unsigned: Extra inputs are not permitted"),
        (
            lambda b: b.update(envelopeManifestSignedContent="not a jws"),
            "envelopeManifestSignedContent: String should match",
        ),
        (lambda b: b.update(transportDocument=[1]), "transportDocument: Input should be a valid dictionary"),
    ],
)
def test_a_body_that_is_no_ebl_envelope_is_benv(platforms: Platforms, change: Any, match: str) -> None:
    body = copy.deepcopy(issue_to_consignee(platforms).envelope)
    change(body)
    refused(platforms, body, ResponseCode.BENV, match)


def test_a_changed_transport_document_is_benv(platforms: Platforms) -> None:
    body = copy.deepcopy(issue_to_consignee(platforms).envelope)
    body["transportDocument"]["transportDocumentReference"] = "FORGED0001"
    refused(platforms, body, ResponseCode.BENV, "the transport document's checksum is")


def test_a_signed_manifest_that_is_no_envelope_manifest_is_benv(platforms: Platforms) -> None:
    built = issue_to_consignee(platforms)
    manifest = payload(built.envelope["envelopeManifestSignedContent"])
    manifest["supportingDocuments"] = [
        {"name": "x.pdf", "size": "12", "mediaType": "a/b", "documentChecksum": "0" * 64}
    ]
    body = {**built.envelope, "envelopeManifestSignedContent": platforms.signers["WAVE"].sign(manifest)}
    refused(platforms, body, ResponseCode.BENV, "supportingDocuments.0.size")


def test_entries_out_of_order_are_benv(platforms: Platforms) -> None:
    built = send(
        platforms,
        [
            ("WAVE", [tx("ISSUE", CARRIER, SHIPPER), tx("TRANSFER", SHIPPER, BANK)]),
            ("BOLE", [tx("TRANSFER", BANK, {**SHIPPER})]),
            ("WAVE", [tx("TRANSFER", SHIPPER, CONSIGNEE)]),
        ],
    )
    chain = built.chain
    refused(
        platforms,
        {**built.envelope, "envelopeTransferChain": [chain[1], chain[0], chain[2]]},
        ResponseCode.BENV,
        "first entry and names a previous entry",
    )
    refused(
        platforms,
        {**built.envelope, "envelopeTransferChain": [chain[0], chain[2]]},
        ResponseCode.BENV,
        r"envelopeTransferChain\[1\] names .* as previous entry, not entry 0 .*: the chain is broken",
    )


def test_a_link_to_the_wrong_previous_entry_is_benv(platforms: Platforms) -> None:
    built = transfer_via_bank(platforms)
    entries = [payload(e) for e in built.chain]
    entries[1]["previousEnvelopeTransferChainEntrySignedContentChecksum"] = "ab" * 32
    refused(
        platforms,
        forge(platforms, built.envelope, entries=entries, relink=False),
        ResponseCode.BENV,
        "the chain is broken or out of order",
    )


def _with_entries(platforms: Platforms, built: Any, edit: Any) -> dict[str, Any]:
    entries = [payload(e) for e in built.chain]
    edit(entries)
    return forge(platforms, built.envelope, entries=entries)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda es: es[1].update(transportDocumentChecksum="cd" * 32),
            "an entry of another transport document",
        ),
        (
            lambda es: es[1].update(controlTrackingRegistry="https://ctr.example/v1"),
            "only be given in the first entry",
        ),
        (
            lambda es: es[0].update(controlTrackingRegistry="https://ctr.example/v1"),
            "which this platform does not use",
        ),
        (
            lambda es: es[1]["transactions"][0]["actor"].update(eblPlatform="WAVE"),
            "the actor is on platform WAVE",
        ),
        (lambda es: es[0]["transactions"].reverse(), "the first transaction of the chain is not ISSUE"),
        (lambda es: es[0]["transactions"].pop(0), "the first transaction of the chain is not ISSUE"),
        (
            lambda es: es[1]["transactions"].insert(0, {**es[1]["transactions"][0], "actionCode": "ISSUE"}),
            "ISSUE appears more than once",
        ),
        (
            lambda es: es[1]["transactions"].insert(0, {**es[1]["transactions"][0], "actionCode": "SACC"}),
            "follows an accepted surrender",
        ),
        (lambda es: es[0].pop("issuanceManifestSignedContent"), "carries no issuanceManifestSignedContent"),
        (lambda es: es[1]["transactions"][0].update(actionCode="TRNS"), r"transactions.0.actionCode"),
        (
            lambda es: es[1]["transactions"][0].update(actionCode="SIGN"),
            "does not take an envelope ending in SIGN",
        ),
        (lambda es: es[1]["transactions"][0].update(recipient=STRANGER), "is not a member of this platform"),
        (
            lambda es: es[1]["transactions"][0].update(recipient={**CONSIGNEE, "eblPlatform": "CARX"}),
            "addressed to platform CARX, this platform is EBLR",
        ),
        (lambda es: es[1]["transactions"][0].update(actionDateTime="2026-06-01 10:00"), "actionDateTime"),
    ],
)
def test_a_chain_that_breaks_the_rules_is_benv(platforms: Platforms, edit: Any, match: str) -> None:
    refused(platforms, _with_entries(platforms, transfer_via_bank(platforms), edit), ResponseCode.BENV, match)


def test_a_last_transaction_without_recipient_is_benv(platforms: Platforms) -> None:
    built = _with_entries(
        platforms, transfer_via_bank(platforms), lambda es: es[1]["transactions"][0].pop("recipient")
    )
    refused(
        platforms,
        built,
        ResponseCode.BENV,
        "names no recipient",
        accepted_actions={*ACCEPTED_ACTIONS, TransactionActionCode.BLANK_ENDORSE},
    )


def test_an_issuance_manifest_of_another_document_is_benv(platforms: Platforms) -> None:
    built = issue_to_consignee(platforms)

    def edit(es: list[dict[str, Any]]) -> None:
        issuance = payload(es[0]["issuanceManifestSignedContent"])
        issuance["documentChecksum"] = "ef" * 32
        es[0]["issuanceManifestSignedContent"] = platforms.signers["WAVE"].sign(issuance)

    refused(
        platforms, _with_entries(platforms, built, edit), ResponseCode.BENV, "issuance manifest is of another"
    )


@pytest.mark.parametrize(
    ("visualisation_issued", "visualisation_sent", "match"),
    [
        (True, None, "the manifest does not send it"),
        (False, VISUALISATION, "the carrier did not issue"),
        (True, INVOICE, "not the visualisation the carrier issued"),
    ],
)
def test_the_carriers_visualisation_must_travel_unchanged(
    platforms: Platforms, visualisation_issued: bool, visualisation_sent: Any, match: str
) -> None:
    built = issue_to_consignee(platforms, visualisation=VISUALISATION if visualisation_issued else None)
    manifest = payload(built.envelope["envelopeManifestSignedContent"])
    if visualisation_sent is None:
        manifest.pop("eBLVisualisationByCarrier", None)
    else:
        manifest["eBLVisualisationByCarrier"] = visualisation_sent.metadata.model_dump(mode="json")
    body = {**built.envelope, "envelopeManifestSignedContent": platforms.signers["WAVE"].sign(manifest)}
    refused(platforms, body, ResponseCode.BENV, match)


def test_a_document_announced_twice_is_benv(platforms: Platforms) -> None:
    body = issue_to_consignee(platforms, supporting=(INVOICE, INVOICE)).envelope
    refused(platforms, body, ResponseCode.BENV, "announces document .* twice")


# --- what the caller decides with its records ----------------------------------------------------


def test_compare_with_known_tells_a_new_transfer_a_duplicate_and_a_dispute(platforms: Platforms) -> None:
    first = issue_to_consignee(platforms)
    checked = receive(platforms, transfer_via_bank(platforms).envelope)
    known = list(checked.entry_checksums)
    assert compare_with_known(checked, []) is None
    assert compare_with_known(checked, known[:1]) is None
    assert compare_with_known(checked, known) is ResponseCode.DUPE
    assert compare_with_known(checked, [jws_checksum(first.chain[0])]) is ResponseCode.DISE
    assert compare_with_known(checked, [*known, "00" * 32]) is ResponseCode.DISE


def test_the_document_and_its_checksum_are_those_the_registry_records() -> None:
    from registry.documents import document_hash

    doc = document()
    assert checksum(doc) == document_hash(doc)


def test_the_trust_entry_of_a_platform_is_what_the_list_returns(platforms: Platforms) -> None:
    trust = platforms.trust()
    entry = trust.get("WAVE")
    assert isinstance(entry, PlatformEntry) and entry.jwks == platforms.signers["WAVE"].public_jwks()
