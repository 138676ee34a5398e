"""PINT between two complete registries: two `make run` gateways, each with its own anvil, database,
keys and platform key (EBLA and EBLB), that trust each other through `/v1/platforms`. Bills cross over
HTTP as a holder would send them, and after every step exactly one side holds the bill.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.dcsa import issued_example
from tests.support.gateway_process import GatewayProcess


@dataclass
class Registry:
    """One gateway and the demo credentials it printed."""

    gateway: GatewayProcess
    code: str

    @property
    def url(self) -> str:
        return self.gateway.url

    def token(self, who: str) -> str:
        assert self.gateway.credentials is not None
        return self.gateway.credentials[who]["token"]

    def org(self, who: str) -> str:
        assert self.gateway.credentials is not None
        return self.gateway.credentials[who]["org"]

    def client(self, who: str) -> httpx.Client:
        return self.gateway.client(self.token(who), timeout=120)

    def party(self, who: str) -> dict[str, Any]:
        """The PINT RecipientParty naming our member ``who`` (by this platform's own code list)."""
        return {
            "partyName": who.capitalize(),
            "eblPlatform": self.code,
            "identifyingCodes": [{"codeListProvider": self.code, "partyCode": self.org(who)}],
        }

    def status(self, ebl: str) -> dict[str, Any]:
        """The authoritative verification of ``ebl`` here (governance sees every eBL)."""
        with self.client("governance") as gov:
            answer = gov.get(f"/v1/banks/ebls/{ebl}/verification")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _start(root: Any, name: str, code: str) -> Registry:
    gateway = GatewayProcess(root / name, env={"EBL_PLATFORM_CODE": code, "EBL_PINT_RETRY_INTERVAL": "1"})
    gateway.root.mkdir()
    gateway.env["EBL_PINT_URL"] = gateway.url
    gateway.start()
    return Registry(gateway, code)


def _trust(registry: Registry, other: Registry) -> None:
    """``registry``'s governance trusts ``other``'s platform key, as an operator would."""
    with other.client("governance") as gov:
        own = next(p for p in gov.get("/v1/platforms").json() if p["own"])
    entry = {"code": own["code"], "name": f"registry {own['code']}", "url": other.url, "jwks": own["jwks"]}
    with registry.client("governance") as gov:
        added = gov.post("/v1/platforms", json=entry)
    assert added.status_code == 201, added.text


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Registry]]:
    root = tmp_path_factory.mktemp("pint")
    started: list[Registry] = []
    try:
        started.append(_start(root, "a", "EBLA"))
        started.append(_start(root, "b", "EBLB"))
        a, b = started
        _trust(a, b)
        _trust(b, a)
        yield a, b
    finally:
        for registry in started:
            registry.gateway.close()


def issue(registry: Registry, *, to_order: bool, holder: str = "shipper") -> str:
    """The carrier issues a bill to ``holder`` (a straight bill names the consignee); its eBL id."""
    reference = ("PT" + uuid.uuid4().hex.upper())[:20]
    name = "regular" if to_order else "ctk-pint-straight"
    document = issued_example(name, transportDocumentReference=reference, carrierCode="MSC")
    body: dict[str, Any] = {"document": document, "issueTo": registry.org(holder)}
    if not to_order:
        body["endorsee"] = registry.org("consignee")
    with registry.client("carrier") as carrier:
        answer = carrier.post("/v1/carriers/ebls", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["eblId"])


def send(
    sender: Registry, who: str, ebl: str, receiver: Registry, to: str, action: str = "TRANSFER", **extra: Any
) -> httpx.Response:
    with sender.client(who) as client:
        return client.post(
            f"/v1/holders/ebls/{ebl}/platform-transfers",
            json={"platform": receiver.code, "recipient": receiver.party(to), "actionCode": action, **extra},
        )


def imported_id(registry: Registry, sent: dict[str, Any]) -> str:
    """The eBL id the receiving registry recorded for the envelope ``sent`` (from its incoming view)."""
    with registry.client("governance") as gov:
        incoming = gov.get("/v1/incoming-envelopes").json()
    match = [e for e in incoming if e["lastEntryChecksum"] == sent["lastEntryChecksum"]]
    assert match and match[0]["state"] == "accepted", incoming
    return str(match[0]["eblId"])


def holds(registry: Registry, ebl: str) -> bool:
    return registry.status(ebl)["status"] in ("ACTIVE", "ISSUED")


def test_a_straight_bill_goes_to_the_other_platform_and_only_it_holds_the_bill(
    pair: tuple[Registry, Registry],
) -> None:
    a, b = pair
    ebl = issue(a, to_order=False)

    answer = send(a, "shipper", ebl, b, "consignee")

    assert answer.status_code == 201, answer.text
    sent = answer.json()
    assert sent["status"] == "EXPORTED" and sent["responseCode"] == "RECE"
    assert [s["step"] for s in sent["journal"]] == [
        "requested",
        "envelope-built",
        "export-started",
        "response-verified",
        "exported",
    ]
    assert a.status(ebl)["status"] == "EXPORTED"
    there = imported_id(b, sent)
    verified = b.status(there)
    assert verified["status"] == "ACTIVE" and verified["holder"]["address"] == b.org("consignee")


def test_a_to_order_bill_goes_a_to_b_to_a_and_comes_back_as_the_same_record(
    pair: tuple[Registry, Registry],
) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)

    out = send(a, "shipper", ebl, b, "bank")
    assert out.status_code == 201 and out.json()["status"] == "EXPORTED", out.text
    there = imported_id(b, out.json())
    assert not holds(a, ebl) and holds(b, there)

    back = send(b, "bank", there, a, "consignee")
    assert back.status_code == 201 and back.json()["status"] == "EXPORTED", back.text
    assert imported_id(a, back.json()) == ebl  # the same record, re-activated
    verified = a.status(ebl)
    assert verified["status"] == "ACTIVE" and verified["holder"]["address"] == a.org("consignee")
    assert b.status(there)["status"] == "EXPORTED"


def test_a_blank_endorsed_bill_crosses_and_stays_a_bearer_bill(pair: tuple[Registry, Registry]) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)
    with a.client("shipper") as shipper:
        assert shipper.post(f"/v1/holders/ebls/{ebl}/endorse-in-blank").status_code == 200

    out = send(a, "shipper", ebl, b, "bank")

    assert out.status_code == 201 and out.json()["status"] == "EXPORTED", out.text
    there = b.status(imported_id(b, out.json()))
    assert there["blankEndorsed"] is True and there["holder"]["address"] == b.org("bank")
    assert a.status(ebl)["status"] == "EXPORTED"


def test_a_platform_that_is_not_trusted_is_refused_before_anything_leaves(
    pair: tuple[Registry, Registry],
) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)
    with a.client("shipper") as shipper:
        answer = shipper.post(
            f"/v1/holders/ebls/{ebl}/platform-transfers",
            json={"platform": "NOPE", "recipient": b.party("bank")},
        )
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_platform"
    assert holds(a, ebl)


def test_a_recipient_who_is_no_member_there_gets_benv_and_the_bill_stays_with_the_holder(
    pair: tuple[Registry, Registry],
) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)
    stranger = {
        "partyName": "Nobody",
        "eblPlatform": b.code,
        "identifyingCodes": [{"codeListProvider": b.code, "partyCode": "0x" + "11" * 20}],
    }
    with a.client("shipper") as shipper:
        answer = shipper.post(
            f"/v1/holders/ebls/{ebl}/platform-transfers", json={"platform": b.code, "recipient": stranger}
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "RETURNED" and answer.json()["responseCode"] == "BENV"
    assert "not a member" in answer.json()["reason"]
    assert a.status(ebl)["status"] == "ACTIVE" and a.status(ebl)["holder"]["address"] == a.org("shipper")


def test_documents_are_sent_and_an_envelope_posted_again_answers_dupe(
    pair: tuple[Registry, Registry],
) -> None:
    """A supporting document travels with the envelope (201, PUT 204, finish RECE); the same envelope
    posted again (a sender that lost the answer) is DUPE; a wrong document is INCD; an early finish MDOC;
    an envelope from a platform B does not trust is BSIG."""
    import base64

    a, b = pair
    ebl = issue(a, to_order=True)
    doc = {
        "name": "invoice.txt",
        "mediaType": "text/plain",
        "content": base64.b64encode(b"invoice 1").decode(),
    }
    out = send(a, "shipper", ebl, b, "bank", documents=[doc])
    assert out.status_code == 201 and out.json()["status"] == "EXPORTED", out.text
    steps = [s["step"] for s in out.json()["journal"]]
    assert "envelope-posted" in steps and "documents-sent" in steps

    with a.client("governance") as gov:
        transfer = gov.get(f"/v1/platform-transfers/{out.json()['transferId']}").json()
    assert transfer["status"] == "EXPORTED"


def _payload(jws: str) -> dict[str, Any]:
    import base64
    import json

    segment = jws.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_an_envelope_signed_by_an_untrusted_platform_answers_a_signed_bsig(
    pair: tuple[Registry, Registry],
) -> None:
    from registry.pint.build import build_envelope, sign_issuance_manifest
    from registry.pint.envelope import Transaction
    from registry.pint.signer import PlatformSigner

    _, b = pair
    intruder = PlatformSigner.generate("ES256")
    document = issued_example(transportDocumentReference=("BS" + uuid.uuid4().hex.upper())[:20])
    party = {
        "partyName": "Intruder",
        "eblPlatform": "EVIL",
        "identifyingCodes": [{"codeListProvider": "EVIL", "partyCode": "x"}],
    }
    issue_tx = Transaction.model_validate(
        {
            "actionCode": "ISSUE",
            "actor": party,
            "recipient": b.party("bank"),
            "actionDateTime": "2026-12-04T00:00:00.000Z",
        }
    )
    built = build_envelope(
        document=document,
        prior_chain=[],
        transactions=[issue_tx],
        issuance_manifest=sign_issuance_manifest(intruder, document=document, issue_to=b.party("bank")),
        supporting=[],
        visualisation=None,
        signer=intruder,
        platform="EVIL",
    )

    answer = httpx.post(f"{b.url}/v3/envelopes", json=built.envelope, timeout=60)

    assert answer.status_code == 422 and answer.headers["API-Version"] == "3.0.0"
    response = _payload(answer.json())
    assert response["responseCode"] == "BSIG" and "UNKNOWN_KEY_ID" in response["reason"]
    assert response["lastEnvelopeTransferChainEntrySignedContentChecksum"] == built.last_entry_checksum


def test_receiver_validation_names_a_member_and_404s_a_stranger(pair: tuple[Registry, Registry]) -> None:
    _, b = pair
    known = httpx.post(
        f"{b.url}/v3/receiver-validation",
        json={"codeListProvider": b.code, "partyCode": b.org("bank")},
        timeout=30,
    )
    assert known.status_code == 200 and known.json()["partyName"]
    unknown = httpx.post(
        f"{b.url}/v3/receiver-validation",
        json={"codeListProvider": b.code, "partyCode": "0x" + "22" * 20},
        timeout=30,
    )
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404


def test_finish_of_an_unknown_envelope_reference_is_404(pair: tuple[Registry, Registry]) -> None:
    _, b = pair
    answer = httpx.put(f"{b.url}/v3/envelopes/nope/finish-transfer", timeout=30)
    assert answer.status_code == 404 and answer.json()["requestUri"] == "/v3/envelopes/nope/finish-transfer"


def test_incd_mdoc_rece_and_dupe_over_raw_pint_requests(pair: tuple[Registry, Registry]) -> None:
    """A sends B an envelope by hand (signed with A's platform key): a document with the wrong bytes is
    INCD, finishing early is MDOC with the missing checksum, then 204 and RECE; posting the same envelope
    again is DUPE naming the accepted last entry; another history of the same bill is DISE."""
    import base64

    from registry.pint.build import SupportingDocument, build_envelope, sign_issuance_manifest
    from registry.pint.envelope import Transaction
    from registry.pint.signer import PlatformSigner

    a, b = pair
    signer = PlatformSigner.load(a.gateway.data_dir / "pint" / "platform-key.jwk")
    document = issued_example(transportDocumentReference=("RW" + uuid.uuid4().hex.upper())[:20])
    issue_tx = Transaction.model_validate(
        {
            "actionCode": "ISSUE",
            "actor": a.party("carrier"),
            "recipient": b.party("bank"),
            "actionDateTime": "2026-12-04T00:00:00.000Z",
        }
    )
    invoice = SupportingDocument("invoice.txt", "text/plain", b"invoice 42")
    built = build_envelope(
        document=document,
        prior_chain=[],
        transactions=[issue_tx],
        issuance_manifest=sign_issuance_manifest(signer, document=document, issue_to=b.party("bank")),
        supporting=[invoice],
        visualisation=None,
        signer=signer,
        platform=a.code,
    )
    with httpx.Client(base_url=b.url, timeout=60) as peer:
        started = peer.post("/v3/envelopes", json=built.envelope)
        assert started.status_code == 201, started.text
        ref = started.json()["envelopeReference"]
        assert started.json()["missingAdditionalDocumentChecksums"] == [invoice.checksum]

        wrong = peer.put(
            f"/v3/envelopes/{ref}/additional-documents/{invoice.checksum}",
            json=base64.b64encode(b"x").decode(),
        )
        assert wrong.status_code == 409 and _payload(wrong.json())["responseCode"] == "INCD"

        early = peer.put(f"/v3/envelopes/{ref}/finish-transfer")
        assert early.status_code == 409
        assert _payload(early.json())["missingAdditionalDocumentChecksums"] == [invoice.checksum]

        sent = peer.put(f"/v3/envelopes/{ref}/additional-documents/{invoice.checksum}", json=invoice.body)
        assert sent.status_code == 204
        finished = peer.put(f"/v3/envelopes/{ref}/finish-transfer")
        assert finished.status_code == 200 and _payload(finished.json())["responseCode"] == "RECE"
        assert _payload(finished.json())["receivedAdditionalDocumentChecksums"] == [invoice.checksum]

        again = peer.post("/v3/envelopes", json=built.envelope)
        assert again.status_code == 200
        dupe = _payload(again.json())
        assert dupe["responseCode"] == "DUPE"
        assert (
            dupe["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"]
            == built.envelope["envelopeTransferChain"][-1]
        )

        rewritten = build_envelope(
            document=document,
            prior_chain=[],
            transactions=[issue_tx.model_copy(update={"actionDateTime": "2026-12-04T00:00:01.000Z"})],
            issuance_manifest=sign_issuance_manifest(signer, document=document, issue_to=b.party("bank")),
            supporting=[],
            visualisation=None,
            signer=signer,
            platform=a.code,
        )
        disputed = peer.post("/v3/envelopes", json=rewritten.envelope)
        assert disputed.status_code == 409 and _payload(disputed.json())["responseCode"] == "DISE"
