"""A bank presented with a document for an eBL gets a verdict it can act on, in the words of DCSA.

Found from the bank's side: a doctored copy presented for a given eBL answered ``404 not_found`` (the
document hash was looked up, the id ignored), so the bank could not tell "forged" from "unknown"; the
CLI's ``verify ID --document FILE`` ignored the id in gateway mode; refusals read
``TitleWrongStatus(eblId=…, status=3)``. Every request here is plain HTTP against the served gateway
or the ``ebl`` command in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.dcsa import issued_example
from tests.outsiders.conftest import Served

PROBLEM_JSON = "application/problem+json"


def _document() -> dict[str, Any]:
    return issued_example(transportDocumentReference=("BV" + uuid.uuid4().hex.upper())[:20])


def _issue(served: Served, document: dict[str, Any], to: str = "shipper") -> str:
    with served.client("carrier") as carrier:
        r = carrier.post("/v1/carriers/ebls", json={"document": document, "issueTo": served.party(to).org})
    assert r.status_code == 201, r.text
    return str(r.json()["eblId"])


def _post_document(client: httpx.Client, path: str, document: Any) -> httpx.Response:
    text = document if isinstance(document, str) else json.dumps(document)
    return client.post(path, content=text, headers={"Content-Type": "application/json"})


def _doctored(document: dict[str, Any]) -> dict[str, Any]:
    forged = json.loads(json.dumps(document))
    forged["transportDocumentReference"] = document["transportDocumentReference"][:-1] + "X"
    forged["shippedOnBoardDate"] = "2024-02-29"
    return forged


def test_a_bank_presented_a_doctored_copy_for_an_ebl_gets_a_mismatch_verdict_with_the_title_state(
    served: Served,
) -> None:
    document = _document()
    ebl = _issue(served, document)
    with served.client("bank") as bank:
        r = _post_document(bank, f"/v1/banks/ebls/{ebl}/verification", _doctored(document))
        genuine = _post_document(bank, f"/v1/banks/ebls/{ebl}/verification", document)
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert verdict["eblId"] == ebl and verdict["documentMatches"] is False
    assert verdict["presentedHash"] and verdict["documentHash"]
    assert verdict["presentedHash"] != verdict["documentHash"]
    assert verdict["status"] == "ACTIVE" and verdict["live"] is True
    assert verdict["holder"]["address"] == served.party("shipper").org
    assert verdict["endorsee"]["address"] == served.party("shipper").org
    assert verdict["carrier"]["address"] == served.party("carrier").org
    assert verdict["predecessor"] is None and verdict["successor"] is None
    assert verdict["anchoredBlock"] > 0 and verdict["anchoredBlockHash"].startswith("0x")
    assert verdict["anchoredAt"]

    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["documentMatches"] is True
    assert genuine.json()["presentedHash"] == genuine.json()["documentHash"] == verdict["documentHash"]


def test_a_document_no_ebl_was_issued_for_is_answered_in_those_words(served: Served) -> None:
    with served.client("bank") as bank:
        r = _post_document(bank, "/v1/banks/verifications", _document())
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON, r.text
    problem = r.json()
    assert problem["code"] == "no_matching_ebl"
    assert "No eBL was issued for this document" in problem["detail"]
    assert len(problem["presentedHash"]) == 64


def test_a_document_presented_for_an_id_that_does_not_exist_is_not_found(served: Served) -> None:
    with served.client("bank") as bank:
        r = _post_document(bank, "/v1/banks/ebls/12345/verification", _document())
    assert r.status_code == 404 and r.json()["code"] == "not_found", r.text


def test_a_carrier_voiding_a_delivered_ebl_is_refused_in_dcsa_words(served: Served) -> None:
    ebl = _issue(served, _document())
    with served.client("shipper") as shipper:
        assert (
            shipper.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"}).status_code == 200
        )
    with served.client("carrier") as carrier:
        assert carrier.post(f"/v1/carriers/ebls/{ebl}/accept-surrender").status_code == 200
        r = carrier.post(f"/v1/carriers/ebls/{ebl}/void")
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM_JSON, r.text
    problem = r.json()
    assert problem["code"] == "wrong_state"
    assert problem["detail"] == "the eBL is SURRENDERED"
    assert problem["args"]["status"] == "SURRENDERED"
    assert "status=" not in r.text and "TitleWrongStatus(" not in r.text


def _ebl_cli(served: Served, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ebl")), "--gateway", served.url]
    command += ["--token", served.party(who).token, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_verifies_a_presented_document_against_the_ebl_id_it_is_given(
    served: Served, tmp_path: Path
) -> None:
    document = _document()
    ebl = _issue(served, document)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(_doctored(document)))
    genuine = tmp_path / "genuine.json"
    genuine.write_text(json.dumps(document, indent=2))

    mismatch = _ebl_cli(served, "bank", "verify", ebl, "--document", str(forged), "--json")
    assert mismatch.returncode == 1, mismatch.stdout + mismatch.stderr
    verdict = json.loads(mismatch.stdout)
    assert verdict["eblId"] == ebl and verdict["documentMatches"] is False
    assert verdict["presentedHash"] != verdict["documentHash"]
    assert "document_mismatch" in mismatch.stderr + mismatch.stdout

    match = _ebl_cli(served, "bank", "verify", ebl, "--document", str(genuine), "--json")
    assert match.returncode == 0, match.stdout + match.stderr
    assert json.loads(match.stdout)["documentMatches"] is True

    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(_document()))
    nothing = _ebl_cli(served, "bank", "verify", str(unknown))
    assert nothing.returncode == 1
    assert "no_matching_ebl" in nothing.stdout + nothing.stderr
    assert "Traceback" not in nothing.stderr
