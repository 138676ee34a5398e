"""Bad input gets a 4xx problem+json (type, title, status, detail, code) and the process stays healthy:
``/healthz`` answers 200 after every test in this module."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Stages, assert_problem, new_document, ok

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _still_healthy(gateway) -> Iterator[None]:
    yield
    with gateway.client() as c:
        assert c.get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def ebl(stages) -> str:
    """An eBL issued by the carrier to the shipper, for path tests."""
    return stages.issued()


def _raw(stages: Stages, who: str, path: str, content: Any, content_type: str = "application/json") -> Any:
    return stages.client(who).post(path, content=content, headers={"Content-Type": content_type})


# ------------------------------------------------------------------ body guard


def test_body_over_two_mebibytes_is_413(stages):
    """A 2 MiB + 1 byte body is refused before parsing: 413 payload_too_large."""
    r = _raw(stages, "carrier", "/v1/carriers/ebls", b" " * (2 * MIB + 1))
    assert_problem(r, 413, "payload_too_large")


def test_chunked_body_over_two_mebibytes_is_413(stages):
    """Without a Content-Length (chunked), the guard counts the bytes as they arrive: 413."""

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b" " * MIB

    r = stages.client("carrier").post(
        "/v1/carriers/ebls", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 413, "payload_too_large")


def test_json_nested_one_hundred_thousand_deep_is_400_too_deep(stages):
    """[[[[...]]]] nested 100000 deep never reaches the parser: 400 too_deep."""
    r = _raw(stages, "carrier", "/v1/carriers/ebls", b"[" * 100_000 + b"]" * 100_000)
    assert_problem(r, 400, "too_deep")


def test_brackets_inside_strings_do_not_count_as_nesting(stages, members):
    """A string full of '[' is not nesting: the request reaches validation (422, not 400 too_deep)."""
    body = {"document": {"transportDocumentReference": "[" * 200}, "issueTo": members["shipper"].org}
    r = stages.client("carrier").post("/v1/carriers/ebls", json=body)
    assert_problem(r, 422, "invalid_document")


def test_body_that_is_not_utf8_is_400(stages):
    """Latin-1 bytes are not UTF-8: 400 invalid_encoding."""
    r = _raw(stages, "carrier", "/v1/carriers/ebls", b'{"document": {"n": "caf\xe9"}, "issueTo": "\xff"}')
    assert_problem(r, 400, "invalid_encoding")


def test_text_plain_body_on_a_json_endpoint_is_4xx(stages, members):
    """A JSON-looking body sent as text/plain is not accepted as the request model: 4xx problem."""
    body = b'{"to": "%s"}' % members["consignee"].org.encode()
    r = _raw(stages, "shipper", "/v1/holders/ebls/1/transfer", body, "text/plain")
    problem = assert_problem(r, r.status_code)
    assert 400 <= r.status_code < 500, problem


def test_syntactically_invalid_json_is_422(stages):
    """A truncated JSON body is 422 invalid_request."""
    r = _raw(stages, "carrier", "/v1/carriers/ebls", b'{"document": {')
    assert_problem(r, 422, "invalid_request")


# ------------------------------------------------------------------ request models


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("carrier", "/v1/carriers/ebls", {"document": {}, "issueTo": "0x" + "11" * 20, "priority": "high"}),
        ("shipper", "/v1/holders/ebls/1/transfer", {"to": "0x" + "11" * 20, "amount": 1}),
        ("shipper", "/v1/holders/ebls/1/surrender", {"reason": "DELIVERY", "note": "x"}),
        ("shipper", "/v1/holders/signed-actions", {"typedData": {}, "signature": "0x" + "1" * 130, "v": 1}),
        ("governance", "/v1/governance/credentials", {"name": "n", "role": "auditor", "admin": True}),
    ],
    ids=["issue", "transfer", "surrender", "signed-action", "credential"],
)
def test_unknown_fields_in_request_bodies_are_422(gateway, members, governance_token, who, path, body):
    """Request models forbid extra fields: 422 invalid_request naming the field."""
    token = governance_token if who == "governance" else members[who].token
    with gateway.client(token) as c:
        problem = assert_problem(c.post(path, json=body), 422, "invalid_request")
    extra = (
        set(body) - {"document", "issueTo", "to", "reason", "typedData", "signature", "name", "role"}
    ).pop()
    assert any(extra in e["path"] and e["type"] == "extra_forbidden" for e in problem["errors"]), problem


def test_document_missing_issue_date_and_with_wrong_types_is_422_with_violation_paths(stages, members):
    """A DCSA document without issueDate and with isToOrder as a string: 422 invalid_document + paths."""
    document = new_document("BAD", issueDate=None, isToOrder="yes")
    r = stages.client("carrier").post(
        "/v1/carriers/ebls", json={"document": document, "issueTo": members["shipper"].org}
    )
    problem = assert_problem(r, 422, "invalid_document")
    paths = {v["path"] for v in problem["violations"]}
    assert all(p.startswith("$") for p in paths), paths
    assert "$.isToOrder" in paths, paths
    assert any(
        "issueDate" in p or "issueDate" in v["message"] for v in problem["violations"] for p in [v["path"]]
    )


@pytest.mark.parametrize("address", ["0x123", "not-an-address", "0x" + "zz" * 20, "0x" + "11" * 21, ""])
def test_malformed_addresses_are_422(stages, address):
    """issueTo / to that are not 0x + 40 hex digits: 422 invalid_request."""
    r = stages.client("carrier").post("/v1/carriers/ebls", json={"document": {}, "issueTo": address})
    assert_problem(r, 422, "invalid_request")
    r = stages.client("shipper").post("/v1/holders/ebls/1/transfer", json={"to": address})
    assert_problem(r, 422, "invalid_request")


def test_malformed_organisation_address_in_a_governance_path_is_422(gateway, governance_token):
    """POST /v1/governance/organisations/abc/suspend: 422, not 500."""
    with gateway.client(governance_token) as g:
        assert_problem(g.post("/v1/governance/organisations/abc/suspend"), 422)


def test_batch_of_more_than_five_hundred_items_is_422(stages, members):
    """/v1/carriers/ebls/batch accepts at most 500 items: 501 is 422 invalid_request, nothing issued."""
    items = [{"document": {}, "issueTo": members["shipper"].org}] * 501
    r = stages.client("carrier").post("/v1/carriers/ebls/batch", json={"items": items})
    assert_problem(r, 422, "invalid_request")


def test_empty_batch_is_422(stages):
    """An empty batch is 422 invalid_request."""
    assert_problem(stages.client("carrier").post("/v1/carriers/ebls/batch", json={"items": []}), 422)


# ------------------------------------------------------------------ ids and lookups


@pytest.mark.parametrize("ebl_id", ["abc", "-1", str(2**256), "0x" + "f" * 65, "1.5"])
def test_invalid_ebl_ids_in_paths_are_422(stages, ebl_id):
    """Ids that are not a uint256 (decimal or 0x-hex): 422 invalid_request on reads and writes."""
    assert_problem(stages.client("bank").get(f"/v1/banks/ebls/{ebl_id}/verification"), 422, "invalid_request")
    r = stages.client("shipper").post(f"/v1/holders/ebls/{ebl_id}/endorse-in-blank")
    assert_problem(r, 422, "invalid_request")


@pytest.mark.parametrize("ebl_id", ["1_0", "+10"])
def test_non_canonical_ebl_id_spellings_are_422(stages, ebl_id):
    """Only plain decimal or 0x-hex ids are eBL ids: '1_0' and '+10' are 422, not eBL 10."""
    assert_problem(stages.client("bank").get(f"/v1/banks/ebls/{ebl_id}/verification"), 422, "invalid_request")


def test_unknown_ebl_is_404_for_reads_and_writes(stages, members):
    """A well-formed id no eBL has: 404 not_found (bank verification, holder transfer)."""
    unknown = str(2**255 + 12345)
    assert_problem(stages.client("bank").get(f"/v1/banks/ebls/{unknown}/verification"), 404, "not_found")
    r = stages.client("shipper").post(
        f"/v1/holders/ebls/{unknown}/transfer", json={"to": members["bank"].org}
    )
    assert_problem(r, 404, "not_found")


def test_verification_with_an_empty_body_is_422(stages):
    """POST /v1/banks/verifications without a document: 422."""
    assert_problem(stages.client("bank").post("/v1/banks/verifications"), 422, "invalid_request")


def test_verification_of_a_document_never_issued_is_404(stages):
    """A valid document nobody issued: 404 no_matching_ebl, in those words."""
    r = stages.client("bank").post("/v1/banks/verifications", json=new_document("NEVER"))
    assert "No eBL was issued for this document" in assert_problem(r, 404, "no_matching_ebl")["detail"]


# ------------------------------------------------------------------ credentials


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer garbage",
        "Bearer ebl_0000000000000000.secret",
        "Basic dXNlcjpwYXNz",
        "bearer x",
    ],
    ids=["missing", "empty-bearer", "garbage", "unknown-id", "basic", "lowercase-scheme"],
)
def test_missing_or_invalid_token_is_401(gateway, ebl, authorization):
    """No or an unusable Authorization header: 401 unauthenticated on reads and writes."""
    headers = {"Authorization": authorization} if authorization else {}
    with gateway.client() as c:
        assert_problem(c.get(f"/v1/banks/ebls/{ebl}/verification", headers=headers), 401, "unauthenticated")
        assert_problem(
            c.post(f"/v1/holders/ebls/{ebl}/endorse-in-blank", headers=headers), 401, "unauthenticated"
        )


def test_token_with_a_wrong_secret_is_401(gateway, members, ebl):
    """The right credential id with another secret: 401."""
    credential_id = members["bank"].token.split(".")[0]
    with gateway.client(credential_id + ".wrong-secret") as c:
        assert_problem(c.get(f"/v1/banks/ebls/{ebl}/verification"), 401, "unauthenticated")


def test_revoked_token_is_401_at_once(gateway, members, ebl):
    """A second bank credential works, is revoked, then answers 401."""
    issued = gateway.credentials.issue("bank second credential", "bank", members["bank"].org)
    with gateway.client(issued.token) as c:
        assert c.get(f"/v1/banks/ebls/{ebl}/verification").status_code == 200
        gateway.credentials.revoke(issued.principal.credential_id)
        assert_problem(c.get(f"/v1/banks/ebls/{ebl}/verification"), 401, "unauthenticated")


# ------------------------------------------------------------------ asynchronous writes


def test_issue_without_waiting_is_202_with_an_operation_to_poll(gateway, stages, members):
    """?wait=false → 202 + Location /v1/operations/{id}; polled to final; other orgs get 404 for it."""
    body = {"document": new_document("ASYNC"), "issueTo": members["shipper"].org}
    r = stages.client("carrier").post("/v1/carriers/ebls", params={"wait": "false"}, json=body)
    assert r.status_code == 202, r.text
    operation = r.json()["operationId"]
    assert r.headers["Location"] == f"/v1/operations/{operation}"
    deadline = time.monotonic() + 30
    while True:
        polled = ok(stages.client("carrier").get(r.headers["Location"]))
        if polled["status"] in ("final", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert polled["status"] == "final" and polled["txHash"] and polled["blockNumber"] > 0
    assert polled["eblId"] == r.json()["eblId"]
    for other in ("shipper", "other_carrier", "bank"):
        assert_problem(stages.client(other).get(r.headers["Location"]), 404, "not_found")
    with gateway.client(members["auditor"].token) as a:
        assert ok(a.get(r.headers["Location"]))["status"] == "final"


def test_a_write_while_the_ledger_recovers_is_503_with_retry_after_and_reads_still_answer(
    gateway, stages, members, ebl
):
    """While the runtime resubmits what a restored chain lost, the shipper's transfer is 503
    ledger_unavailable with Retry-After (clients retry with their Idempotency-Key); a bank's title check
    still answers from the chain; once recovered the same request goes through."""
    gate = gateway.runtime.title.writes
    body = {"to": members["bank"].org}
    headers = {"Idempotency-Key": "recovering-transfer-1"}
    gate.close("the ledger is recovering; retry shortly")
    try:
        refused = stages.client("shipper").post(
            f"/v1/holders/ebls/{ebl}/transfer", json=body, headers=headers
        )
        problem = assert_problem(refused, 503, "ledger_unavailable")
        assert refused.headers["Retry-After"] == "1" and "recovering" in problem["detail"]
        assert (
            ok(stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification"))["holder"]["address"]
            == members["shipper"].org
        )
    finally:
        gate.open()
    moved = stages.client("shipper").post(f"/v1/holders/ebls/{ebl}/transfer", json=body, headers=headers)
    assert ok(moved)["status"] == "final"
    back = stages.client("bank").post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": members["shipper"].org})
    assert ok(back)["status"] == "final"  # the module's eBL is the shipper's again for the other tests


def test_unknown_operation_is_404(stages):
    """Polling an operation id that does not exist: 404 not_found."""
    assert_problem(stages.client("carrier").get("/v1/operations/00000000-0000-0000-0000-000000000000"), 404)


# ------------------------------------------------------------------ governance


def test_refused_duplicate_onboarding_leaves_the_organisations_keys_unchanged(gateway, governance_token):
    """Onboarding an existing identifier again: 409 duplicate, and the organisation's keys are as before."""
    body = {"identifier": f"LEI:DUP-{time.time_ns()}", "name": "Dup Ltd", "role": "trader"}
    with gateway.client(governance_token) as g:
        org = ok(g.post("/v1/governance/organisations", json=body), 201)["organisation"]["address"]
        before = ok(g.get(f"/v1/governance/organisations/{org}"))
        assert_problem(g.post("/v1/governance/organisations", json=body), 409, "duplicate")
        after = ok(g.get(f"/v1/governance/organisations/{org}"))
    assert after["keyCount"] == before["keyCount"] == 1
    assert after["keys"] == before["keys"]


# ------------------------------------------------------------------ values the registry cannot act on
# Each of these once reached a blanket ``ValueError -> 422`` handler; now each is refused where it is
# read (a typed InvalidRequestError, a route's Problem, or path validation), with the same answer.


def test_an_auditor_query_naming_an_unknown_action_code_is_422(stages, members):
    """``action=NOPE`` is no DCSA action code: 422 invalid_request naming it."""
    params = {"org": members["shipper"].org, "since": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z"}
    r = stages.client("auditor").get("/v1/auditors/events", params={**params, "action": "NOPE"})
    assert "NOPE" in assert_problem(r, 422, "invalid_request")["detail"]


def test_an_events_cursor_the_gateway_did_not_hand_out_is_422(stages, members):
    params = {"org": members["shipper"].org, "since": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z"}
    r = stages.client("auditor").get("/v1/auditors/events", params={**params, "cursor": "f2"})
    assert assert_problem(r, 422, "invalid_request")["detail"] == "invalid cursor 'f2'"


@pytest.mark.parametrize(
    "path", ["/organisations/0", "/organisations/0/suspend", "/organisations/abc/rotate-key"]
)
def test_an_organisation_path_that_is_no_address_is_422(gateway, governance_token, path):
    with gateway.client(governance_token) as g:
        r = g.get("/v1/governance" + path) if path.count("/") == 2 else g.post("/v1/governance" + path)
    assert_problem(r, 422, "invalid_request")


def test_a_credential_expiring_in_the_past_is_422(gateway, governance_token):
    body = {"name": "late", "role": "auditor", "expiresAt": "2001-01-01T00:00:00Z"}
    with gateway.client(governance_token) as g:
        r = g.post("/v1/governance/credentials", json=body)
    assert assert_problem(r, 422, "invalid_request")["detail"] == "expiresAt must be in the future"
