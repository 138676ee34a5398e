"""The README walkthrough, over HTTP: issue → bank under a letter of credit → verify → endorse →
surrender → accept → the auditor reads the history."""

from __future__ import annotations

import json

from tests.fixtures.dcsa import issued_example


def test_letter_of_credit_scenario_over_http(gateway, members):
    """Every step of the quickstart scenario succeeds and the history tells it in DCSA words."""
    carrier, shipper, bank, consignee, auditor = (
        members[n] for n in ("carrier", "shipper", "bank", "consignee", "auditor")
    )
    document = issued_example(transportDocumentReference="API-LC-0001")

    with gateway.client(carrier.token) as c:
        r = c.post(
            "/v1/carriers/ebls",
            json={"document": document, "issueTo": shipper.org},
            headers={"Idempotency-Key": "issue-API-LC-0001"},
        )
        assert r.status_code == 201, r.text
        ebl = r.json()["eblId"]
        assert r.json()["status"] == "final" and r.json()["action"] == "ISSUE"

    with gateway.client(shipper.token) as s:
        assert s.post(f"/v1/holders/ebls/{ebl}/endorse", json={"endorsee": bank.org}).status_code == 200
        assert s.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": bank.org}).status_code == 200

    with gateway.client(bank.token) as b:
        presented = json.dumps(dict(reversed(list(document.items()))), indent=2)
        r = b.post("/v1/banks/verifications", content=presented, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["eblId"] == ebl and v["live"] and v["documentMatches"]
        assert v["holder"] == {
            "address": bank.org,
            "name": "Bank Ltd",
            "identifier": "LEI:API-BANK",
            "role": "bank",
        }
        assert v["carrier"]["name"] == "Carrier Ltd" and v["anchoredBlock"] > 0
        assert b.post(f"/v1/holders/ebls/{ebl}/endorse", json={"endorsee": consignee.org}).status_code == 200
        assert b.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": consignee.org}).status_code == 200

    with gateway.client(consignee.token) as k:
        r = k.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"})
        assert r.status_code == 200, r.text

    with gateway.client(carrier.token) as c:
        assert c.post(f"/v1/carriers/ebls/{ebl}/accept-surrender").status_code == 200
        assert c.get(f"/v1/banks/ebls/{ebl}/verification").json()["status"] == "SURRENDERED"

    gateway.runtime.indexer.sync()
    with gateway.client(auditor.token) as a:
        history = a.get(f"/v1/auditors/ebls/{ebl}/history").json()
        assert [e["action"] for e in history] == [
            "ISSUE",
            "ENDORSE_TO_ORDER",
            "TRANSFER",
            "ENDORSE_TO_ORDER",
            "TRANSFER",
            "SURRENDER_FOR_DELIVERY",
            "SACC",
        ]
        assert history[2]["actor"] == shipper.org and history[2]["counterparty"] == bank.org
        csv = a.get(f"/v1/auditors/ebls/{ebl}/history", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") == 8


def test_retried_issue_with_the_same_idempotency_key_issues_once(gateway, members):
    """The same Idempotency-Key returns the same operation; reused for another document it is a 409."""
    carrier, shipper = members["carrier"], members["shipper"]
    body = {"document": issued_example(transportDocumentReference="API-IDEM-1"), "issueTo": shipper.org}
    with gateway.client(carrier.token) as c:
        first = c.post("/v1/carriers/ebls", json=body, headers={"Idempotency-Key": "k-1"})
        again = c.post("/v1/carriers/ebls", json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == 201 and again.status_code == 201
        assert first.json()["operationId"] == again.json()["operationId"]
        other = {"document": issued_example(transportDocumentReference="API-IDEM-2"), "issueTo": shipper.org}
        conflict = c.post("/v1/carriers/ebls", json=other, headers={"Idempotency-Key": "k-1"})
        assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
        assert conflict.headers["content-type"] == "application/problem+json"
