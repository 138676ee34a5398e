"""DCSA Surrender 3.0.3 and Endorsement Chain 3.0.3 over HTTP: the holder's surrender request reaches
the carrier's endpoint as a SurrenderRequestDetails, the carrier answers SURR or SREJ, and the
endorsement chain answers in the standard's shape (golden file: DCSA's surrendered straight B/L)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import DCSA_PLATFORM, DcsaGateway, Member
from tests.api.dcsa_helpers import assert_error_response, issuance_request
from tests.api.helpers import new_document, ok
from tests.fixtures.dcsa import FIXTURES_DIR


def _surrender_for(reference: str):  # type: ignore[no-untyped-def]
    return lambda c: (
        c.path == "/v3/ebl-surrender-requests" and c.body.get("transportDocumentReference") == reference
    )


def _issued(
    dcsa: DcsaGateway, carrier: Member, document: dict[str, Any], *, straight_to: str | None = None
) -> str:
    """Issue through PUT /v3/ebl-issuance-requests to the shipper; the eBL id once ISSU arrived."""
    m = dcsa.members
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org, document=document, straight_to=straight_to)
    reference = document["transportDocumentReference"]
    with dcsa.gateway.client(carrier.token) as c:
        assert c.put("/v3/ebl-issuance-requests", json=body).status_code == 204
    answer = dcsa.receiver.wait_for(
        lambda cb: (
            cb.path == "/v3/ebl-issuance-responses" and cb.body["transportDocumentReference"] == reference
        )
    )
    assert answer.body["issuanceResponseCode"] == "ISSU", answer.body
    with dcsa.gateway.client(m["bank"].token) as bank:
        return str(ok(bank.post("/v1/banks/verifications", json=document))["eblId"])


@pytest.fixture(scope="module")
def yang_ming(dcsa_gateway: DcsaGateway) -> Member:
    """A carrier on the NMFTA list (SCAC YMLU), as in DCSA's examples, with its callback endpoint."""
    gw = dcsa_gateway.gateway
    token = gw.credentials.issue("dcsa governance 2", "governance", None).token
    body = {
        "identifier": "LEI:DCSA-YANGMING",
        "name": "Yang Ming Marine Transport Corporation",
        "role": "carrier",
        "carrierCode": "YMLU",
        "carrierCodeListProvider": "NMFTA",
    }
    with gw.client(token) as gov:
        created = ok(gov.post("/v1/governance/organisations", json=body), 201)
    member = Member("yang_ming", created["organisation"]["address"], created["credential"]["token"])
    with gw.client(member.token) as carrier:
        ok(carrier.post("/v1/carriers/dcsa-endpoint", json={"url": dcsa_gateway.receiver.url}))
    return member


def _normalised(chains: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Chains with each party's name and code replaced by its role, times and audit references blanked."""

    def party(p: dict[str, Any]) -> dict[str, Any]:
        role = names[p["partyName"]]
        return {
            **p,
            "partyName": role,
            "identifyingCodes": [{**c, "partyCode": role} for c in p["identifyingCodes"]],
        }

    out = []
    for chain in chains:
        links = []
        for link in chain["endorsementChain"]:
            link = {k: v for k, v in link.items() if k != "auditReference"} | {"actionDateTime": "T"}
            for who in ("actor", "recipient"):
                if who in link:
                    link[who] = party(link[who])
            links.append(link)
        out.append({**chain, "endorsementChain": links, "transportDocumentReference": "TDR"})
    return out


def test_a_surrendered_straight_bill_has_the_chain_of_the_dcsa_example(
    dcsa_gateway: DcsaGateway, yang_ming: Member
) -> None:
    m = dcsa_gateway.members
    document = new_document("G", carrierCode="YMLU", carrierCodeListProvider="NMFTA")
    document["transportDocumentSubReference"] = document["shippingInstructionsReference"]
    ebl = _issued(dcsa_gateway, yang_ming, document, straight_to=m["consignee"].org)
    reference = document["transportDocumentReference"]
    with dcsa_gateway.gateway.client(m["shipper"].token) as shipper:
        ok(shipper.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": m["consignee"].org}))
    with dcsa_gateway.gateway.client(m["consignee"].token) as consignee:
        ok(consignee.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"}))
    request = dcsa_gateway.receiver.wait_for(_surrender_for(reference))
    assert request.body["surrenderRequestCode"] == "SREQ"
    assert [link["actionCode"] for link in request.body["endorsementChain"]] == [
        "ISSUE",
        "TRANSFER",
        "SURRENDER_FOR_DELIVERY",
    ]
    with dcsa_gateway.gateway.client(yang_ming.token) as carrier:
        answer = {"surrenderRequestReference": request.body["surrenderRequestReference"], "action": "SURR"}
        r = carrier.post("/v3/ebl-surrender-responses", json=answer)
        assert r.status_code == 204, r.text
        assert_error_response(carrier.post("/v3/ebl-surrender-responses", json=answer), 409, "duplicate")
        chains = ok(carrier.get(f"/v3/endorsement-chains/{reference}"))
    golden = json.loads(
        (FIXTURES_DIR / "ebl-end-v3.0.3_get-endorsement-chain_surrenderedStraightBLExample.json").read_text()
    )
    names = {
        "Yang Ming Marine Transport Corporation": "carrier",
        "Suzano Brazil": "shipper",
        "Suzano China": "consignee",
        "Shipper Ltd": "shipper",
        "Consignee Ltd": "consignee",
    }
    golden_n = _normalised(golden, names)
    for chain in golden_n:  # our platform code and the document's sub-reference in place of the example's
        chain["transportDocumentSubReference"] = document["transportDocumentSubReference"]
        for link in chain["endorsementChain"]:
            for who in ("actor", "recipient"):
                if who in link:
                    link[who] = {
                        **link[who],
                        "eblPlatform": DCSA_PLATFORM,
                        "identifyingCodes": [
                            {"codeListProvider": DCSA_PLATFORM, "partyCode": link[who]["partyName"]}
                        ],
                    }
    assert _normalised(chains, names) == golden_n
    assert all(link["auditReference"].startswith("0x") for link in chains[0]["endorsementChain"])


def test_the_carrier_rejects_a_surrender_with_SREJ_and_the_bill_returns(dcsa_gateway: DcsaGateway) -> None:
    m = dcsa_gateway.members
    document = new_document("R")
    ebl = _issued(dcsa_gateway, m["carrier"], document)
    with dcsa_gateway.gateway.client(m["shipper"].token) as shipper:
        ok(
            shipper.post(
                f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "AMENDMENT", "reasonCode": "COD"}
            )
        )
    request = dcsa_gateway.receiver.wait_for(_surrender_for(document["transportDocumentReference"]))
    assert request.body["surrenderRequestCode"] == "AREQ"
    assert request.body["reasonCode"] == "COD"
    reference = request.body["surrenderRequestReference"]
    with dcsa_gateway.gateway.client(m["carrier"].token) as carrier:
        assert_error_response(
            carrier.post(
                "/v3/ebl-surrender-responses", json={"surrenderRequestReference": reference, "action": "SREJ"}
            ),
            400,
            "bad_request",
        )
        r = carrier.post(
            "/v3/ebl-surrender-responses",
            json={"surrenderRequestReference": reference, "action": "SREJ", "comments": "Not for this port"},
        )
        assert r.status_code == 204, r.text
    with dcsa_gateway.gateway.client(m["bank"].token) as bank:
        verdict = ok(bank.post("/v1/banks/verifications", json=document))
    assert verdict["status"] == "ACTIVE"
    assert verdict["holder"]["address"] == m["shipper"].org


def test_surrender_answers_from_others_or_to_unknown_references_are_refused(
    dcsa_gateway: DcsaGateway,
) -> None:
    m = dcsa_gateway.members
    document = new_document("X")
    ebl = _issued(dcsa_gateway, m["carrier"], document)
    with dcsa_gateway.gateway.client(m["shipper"].token) as shipper:
        ok(shipper.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"}))
    reference = dcsa_gateway.receiver.wait_for(_surrender_for(document["transportDocumentReference"])).body[
        "surrenderRequestReference"
    ]
    answer = {"surrenderRequestReference": reference, "action": "SURR"}
    with dcsa_gateway.gateway.client(m["other_carrier"].token) as other:
        assert_error_response(other.post("/v3/ebl-surrender-responses", json=answer), 404, "not_found")
    with dcsa_gateway.gateway.client(m["shipper"].token) as shipper:
        assert_error_response(shipper.post("/v3/ebl-surrender-responses", json=answer), 403, "forbidden_role")
    with dcsa_gateway.gateway.client(m["carrier"].token) as carrier:
        unknown = {"surrenderRequestReference": "no-such-request", "action": "SURR"}
        assert_error_response(carrier.post("/v3/ebl-surrender-responses", json=unknown), 404, "not_found")
        assert_error_response(carrier.post("/v3/ebl-surrender-responses", json={"action": "SURR"}), 400)
        assert_error_response(
            carrier.post("/v3/ebl-surrender-responses", json={**answer, "action": "SACC"}), 400
        )
        assert carrier.post("/v3/ebl-surrender-responses", json=answer).status_code == 204


def test_the_endorsement_chain_is_visible_to_its_parties_only(dcsa_gateway: DcsaGateway) -> None:
    m = dcsa_gateway.members
    document = new_document("V")
    _issued(dcsa_gateway, m["carrier"], document)
    path = f"/v3/endorsement-chains/{document['transportDocumentReference']}"
    for who in ("carrier", "shipper", "auditor"):
        with dcsa_gateway.gateway.client(m[who].token) as client:
            chains = ok(client.get(path))
            assert [link["actionCode"] for link in chains[0]["endorsementChain"]] == ["ISSUE"]
    with dcsa_gateway.gateway.client(m["bank"].token) as bank:
        assert_error_response(bank.get(path), 404, "not_found")
        assert_error_response(bank.get("/v3/endorsement-chains/NEVER-ISSUED"), 404, "not_found")
        assert_error_response(bank.get("/v3/endorsement-chains/" + "A" * 21), 400, "bad_request")
    with dcsa_gateway.gateway.client(m["carrier"].token) as carrier:
        assert_error_response(carrier.get(path, params={"carrierSCACCode": "YMLU"}), 404)
        assert_error_response(carrier.get(path, params={"carrierSCACCode": "TOOLONG"}), 400)
    with dcsa_gateway.gateway.client() as anonymous:
        assert_error_response(anonymous.get(path), 401, "unauthenticated")
