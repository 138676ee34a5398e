"""DCSA Issuance 3.0.3 from a carrier's system: PUT /v3/ebl-issuance-requests over HTTP, and the
IssuanceResponse the carrier's own endpoint receives (a real HTTP server in the test)."""

from __future__ import annotations

import pytest

from tests.api.conftest import DCSA_PLATFORM, DcsaGateway, Gateway
from tests.api.dcsa_helpers import assert_error_response, issuance_request
from tests.api.helpers import carrier_document, new_document, ok
from tests.fixtures.dcsa import issued_example


def _response_for(reference: str):  # type: ignore[no-untyped-def]
    return lambda c: (
        c.path == "/v3/ebl-issuance-responses" and c.body.get("transportDocumentReference") == reference
    )


def test_carrier_issues_to_the_shipper_and_its_endpoint_receives_ISSU(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    reference = body["document"]["transportDocumentReference"]
    with gw.client(m["carrier"].token) as carrier:
        r = carrier.put("/v3/ebl-issuance-requests", json=body)
    assert r.status_code == 204, r.text
    assert r.headers["API-Version"] == "3.0.3"
    callback = dcsa_gateway.receiver.wait_for(_response_for(reference))
    assert callback.body == {"transportDocumentReference": reference, "issuanceResponseCode": "ISSU"}
    assert callback.headers["Authorization"] == "Bearer carrier-secret"
    with gw.client(m["bank"].token) as bank:  # the title is on chain, held by the shipper
        verdict = ok(bank.post("/v1/banks/verifications", json=body["document"]))
    assert verdict["holder"]["address"] == m["shipper"].org
    assert verdict["documentMatches"] is True


def test_the_same_request_twice_is_accepted_once_and_answered_409(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    reference = body["document"]["transportDocumentReference"]
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=body).status_code == 204
        assert_error_response(carrier.put("/v3/ebl-issuance-requests", json=body), 409, "duplicate")
    dcsa_gateway.receiver.wait_for(_response_for(reference))
    assert len(dcsa_gateway.receiver.matching(_response_for(reference))) == 1


def test_another_document_under_an_issued_reference_is_refused_409(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    first = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    reference = first["document"]["transportDocumentReference"]
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=first).status_code == 204
        dcsa_gateway.receiver.wait_for(_response_for(reference))
        other = issued_example(transportDocumentReference=reference, termsAndConditions="other terms")
        again = issuance_request(DCSA_PLATFORM, m["shipper"].org, document=other)
        assert_error_response(carrier.put("/v3/ebl-issuance-requests", json=again), 409, "duplicate")


def test_an_issue_to_party_of_another_platform_is_refused_with_REFU(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    body["issueTo"] = {
        **body["issueTo"],
        "sendToPlatform": "BOLE",
        "identifyingCodes": [{"codeListProvider": "BOLE", "partyCode": "BOLE001"}],
    }
    body.pop("issuanceManifestSignedContent")
    body["issuanceManifestSignedContent"] = "e30.e30.c2ln"  # {} . {} : no checksums to compare
    reference = body["document"]["transportDocumentReference"]
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=body).status_code == 204
    callback = dcsa_gateway.receiver.wait_for(_response_for(reference))
    assert callback.body["issuanceResponseCode"] == "REFU"
    assert "not recognized" in callback.body["reason"]


def test_a_document_breaking_a_dcsa_rule_is_answered_BREQ(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    document = new_document("D", issueDate="not a date")
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org, document=document)
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=body).status_code == 204
    callback = dcsa_gateway.receiver.wait_for(_response_for(document["transportDocumentReference"]))
    assert callback.body["issuanceResponseCode"] == "BREQ"
    assert callback.body["reason"]


def test_a_manifest_that_is_not_of_this_document_is_answered_BREQ(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    body["issuanceManifestSignedContent"] = issuance_request(DCSA_PLATFORM, m["shipper"].org)[
        "issuanceManifestSignedContent"
    ]
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=body).status_code == 204
    callback = dcsa_gateway.receiver.wait_for(_response_for(body["document"]["transportDocumentReference"]))
    assert callback.body["issuanceResponseCode"] == "BREQ"
    assert "documentChecksum" in callback.body["reason"]


def test_a_document_naming_another_carrier_is_refused(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(
        DCSA_PLATFORM, m["shipper"].org, document=carrier_document(new_document("D"), "other_carrier")
    )
    with gw.client(m["carrier"].token) as carrier:
        assert_error_response(carrier.put("/v3/ebl-issuance-requests", json=body), 422, "carrier_mismatch")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [(None, 401, "unauthenticated"), ("bank", 403, "forbidden_role"), ("shipper", 403, "forbidden_role")],
)
def test_only_a_carrier_may_request_issuance(
    dcsa_gateway: DcsaGateway, who: str | None, status: int, code: str
) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    with gw.client(m[who].token if who else None) as client:
        assert_error_response(client.put("/v3/ebl-issuance-requests", json=body), status, code)


@pytest.mark.parametrize(
    "breakage",
    [
        "no document",
        "no issueTo",
        "no manifest",
        "manifest not a JWS",
        "visualisation not base64",
        "unknown field",
    ],
)
def test_a_malformed_request_is_answered_400(dcsa_gateway: DcsaGateway, breakage: str) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    if breakage == "no document":
        del body["document"]
    elif breakage == "no issueTo":
        del body["issueTo"]
    elif breakage == "no manifest":
        del body["issuanceManifestSignedContent"]
    elif breakage == "manifest not a JWS":
        body["issuanceManifestSignedContent"] = "not a jws"
    elif breakage == "visualisation not base64":
        body["eBLVisualisationByCarrier"]["content"] = "***"
    else:
        body["surprise"] = 1
    with gw.client(m["carrier"].token) as carrier:
        assert_error_response(carrier.put("/v3/ebl-issuance-requests", json=body), 400, "bad_request")


def test_an_unknown_v3_path_is_an_error_response_404(dcsa_gateway: DcsaGateway) -> None:
    gw, m = dcsa_gateway.gateway, dcsa_gateway.members
    with gw.client(m["carrier"].token) as carrier:
        assert_error_response(carrier.get("/v3/no-such-thing"), 404)


def test_without_EBL_DCSA_APIS_there_is_no_v3(gateway: Gateway, members: dict) -> None:  # type: ignore[type-arg]
    with gateway.client(members["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json={}).status_code == 404
        assert carrier.get("/v3/endorsement-chains/ABC").status_code == 404
        assert carrier.post("/v1/carriers/dcsa-endpoint", json={"url": "http://x"}).status_code == 404
