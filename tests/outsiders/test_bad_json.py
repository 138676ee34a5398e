"""Input that must not be misread, tried the way a client meets the gateway: raw JSON text over HTTP and
files handed to the ``ebl`` CLI in a subprocess.

A text naming one key twice in an object (``{"transportDocumentReference": "A", ...,
"transportDocumentReference": "B"}``) is read as "B" by Python and JavaScript and as "A" (or refused)
by other parsers; I-JSON (RFC 7493) forbids it. Before this was fixed, such an issuance request was
issued under the last value. Every body the gateway reads, and every document file the CLI reads, is
refused with ``422 duplicate_key`` naming the JSON path of the repeat, and nothing is recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from registry.chain.build import project_root
from tests.outsiders.conftest import Served

EXAMPLES = project_root() / "examples"
JSON = {"Content-Type": "application/json"}
ONE, TWO = "0x" + "1" * 40, "0x" + "2" * 40


def _document(reference: str, **changes: Any) -> dict[str, Any]:
    """The shipped example document under another transport document reference (each test its own)."""
    document: dict[str, Any] = json.loads((EXAMPLES / "bl.json").read_text(encoding="utf-8"))
    document["transportDocumentReference"] = reference
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


def _reference() -> str:
    return "DUP" + uuid.uuid4().hex[:17].upper()


def _with_key_first(obj: dict[str, Any], key: str, value: Any) -> str:
    """JSON text of ``obj`` with ``"key": value`` written once more, in front of everything else."""
    return "{" + json.dumps(key) + ": " + json.dumps(value) + ", " + json.dumps(obj)[1:]


def _assert_duplicate_key(response: Any, *paths: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "duplicate_key", problem
    assert [v["path"] for v in problem["violations"]] == list(paths), problem
    assert all(v["rule"] == "json.duplicate-key" for v in problem["violations"])


def test_a_carrier_cannot_issue_a_document_naming_its_reference_twice(served: Served) -> None:
    """Refused at the repeated key's path, nothing issued; the same document written once then issues."""
    first, last = _reference(), _reference()
    shipper = served.party("shipper")
    document_text = _with_key_first(_document(last), "transportDocumentReference", first)
    body = '{"document": ' + document_text + ", " + json.dumps({"issueTo": shipper.org})[1:]

    with served.client("carrier") as carrier, served.client("bank") as bank:
        refused = carrier.post("/v1/carriers/ebls", content=body, headers=JSON)
        _assert_duplicate_key(refused, "$.document.transportDocumentReference")

        # Nothing was recorded under either reading of the text.
        for reference in (first, last):
            presented = bank.post("/v1/banks/verifications", json=_document(reference))
            assert presented.status_code == 404, presented.text

        issued = carrier.post("/v1/carriers/ebls", json={"document": _document(last), "issueTo": shipper.org})
        assert issued.status_code == 201, issued.text


def test_a_bank_presenting_a_document_with_a_key_twice_gets_duplicate_key(served: Served) -> None:
    """The verification body is the presented document itself: the path is the document's own."""
    text = _with_key_first(_document(_reference()), "transportDocumentReference", "SOMETHINGELSE")
    with served.client("bank") as bank:
        _assert_duplicate_key(
            bank.post("/v1/banks/verifications", content=text, headers=JSON), "$.transportDocumentReference"
        )
        # Also without a JSON content type: the route reads the raw body.
        _assert_duplicate_key(
            bank.post("/v1/banks/verifications", content=text, headers={"Content-Type": "text/plain"}),
            "$.transportDocumentReference",
        )


def test_a_holder_submitting_typed_data_with_a_nonce_twice_is_refused_before_any_signature_check(
    served: Served,
) -> None:
    """Typed data is read exactly as it was signed or not at all: the repeated nonce is named."""
    message = '{"eblId": "1", "action": 1, "nonce": "1", "nonce": "2", "deadline": "1"}'
    body = (
        '{"typedData": {"primaryType": "TitleAction", "domain": {}, "types": {}, "message": '
        + message
        + '}, "signature": "0x'
        + "11" * 65
        + '"}'
    )
    with served.client("shipper") as shipper:
        _assert_duplicate_key(
            shipper.post("/v1/holders/signed-actions", content=body, headers=JSON),
            "$.typedData.message.nonce",
        )


@pytest.mark.parametrize(
    ("who", "path", "body", "where"),
    [
        (
            "shipper",
            "/v1/holders/ebls/1/transfer",
            '{"to": "' + ONE + '", "to": "' + TWO + '"}',
            "$.to",
        ),
        (
            "governance",
            "/v1/governance/credentials",
            '{"name": "a", "role": "auditor", "role": "governance"}',
            "$.role",
        ),
        (
            "carrier",
            "/v1/carriers/ebls/batch",
            '{"items": [{"document": {}, "issueTo": "' + ONE + '", "issueTo": "' + TWO + '"}]}',
            "$.items[0].issueTo",
        ),
    ],
)
def test_every_request_body_refuses_a_key_twice(
    served: Served, who: str, path: str, body: str, where: str
) -> None:
    """Not only documents: a request whose meaning depends on which of two values wins is refused."""
    with served.client(who) as client:
        _assert_duplicate_key(client.post(path, content=body, headers=JSON), where)


def test_a_document_with_both_shipment_dates_names_both_paths(served: Served) -> None:
    """A bill cannot be both shipped on board and received for shipment; the client is shown both fields."""
    document = _document(_reference(), receivedForShipmentDate="2023-12-18")
    with served.client("carrier") as carrier:
        r = carrier.post(
            "/v1/carriers/ebls", json={"document": document, "issueTo": served.party("shipper").org}
        )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "invalid_document"
    paths = {v["path"] for v in problem["violations"] if v["rule"] == "dcsa.one-shipment-date"}
    assert paths == {"$.shippedOnBoardDate", "$.receivedForShipmentDate"}, problem


def _ebl(served: Served, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    ebl = Path(sys.executable).with_name("ebl")
    return subprocess.run(
        [str(ebl), "--gateway", served.url, "--token", token, *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={"COLUMNS": "200", "PATH": str(ebl.parent) + ":/usr/bin:/bin"},
    )


def test_the_cli_refuses_a_document_file_naming_a_key_twice(served: Served, tmp_path: Path) -> None:
    """``ebl issue`` and ``ebl verify`` read files strictly: exit 1, the code and the path on screen."""
    file = tmp_path / "twice.json"
    file.write_text(_with_key_first(_document(_reference()), "transportDocumentReference", "OTHER"), "utf-8")
    carrier, bank = served.party("carrier"), served.party("bank")

    issued = _ebl(served, carrier.token, "issue", str(file), "--to", served.party("shipper").org)
    assert issued.returncode == 1, issued.stdout + issued.stderr
    assert "duplicate_key" in issued.stdout + issued.stderr
    assert "$.transportDocumentReference" in issued.stdout + issued.stderr

    verified = _ebl(served, bank.token, "verify", str(file))
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "duplicate_key" in verified.stdout + verified.stderr
    assert "$.transportDocumentReference" in verified.stdout + verified.stderr
