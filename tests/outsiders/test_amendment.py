"""An amendment answers with the amended eBL's id beside the original's, over HTTP and in the CLI.

Found from the carrier's side: ``POST /v1/carriers/ebls/{id}/amend`` answered only the voided eBL's id,
so the carrier had to compute keccak256(abi.encode(id)) itself to find the bill it had just issued.
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


def _document() -> dict[str, Any]:
    return issued_example(transportDocumentReference=("AM" + uuid.uuid4().hex.upper())[:20])


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _surrendered_for_amendment(served: Served) -> str:
    with served.client("carrier") as carrier, served.client("shipper") as shipper:
        body = {"document": _document(), "issueTo": served.party("shipper").org}
        ebl = str(_ok(carrier.post("/v1/carriers/ebls", json=body))["eblId"])
        _ok(
            shipper.post(
                f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "AMENDMENT", "reasonCode": "COD"}
            )
        )
        _ok(carrier.post(f"/v1/carriers/ebls/{ebl}/accept-surrender"))
    return ebl


def test_a_carrier_amending_an_ebl_is_told_the_amended_ebls_id(served: Served) -> None:
    original = _surrendered_for_amendment(served)
    with served.client("carrier") as carrier:
        answer = _ok(carrier.post(f"/v1/carriers/ebls/{original}/amend", json={"document": _document()}))
        assert answer["action"] == "AMEND" and answer["status"] == "final"
        assert answer["eblId"] == original
        successor = answer["successorEblId"]
        assert successor and successor != original

        amended = _ok(carrier.get(f"/v1/banks/ebls/{successor}/verification"))
        voided = _ok(carrier.get(f"/v1/banks/ebls/{original}/verification"))
    assert amended["predecessor"] == original and amended["status"] == "ACTIVE"
    assert voided["successor"] == successor and voided["status"] == "VOIDED"


def test_other_operations_name_no_successor(served: Served) -> None:
    with served.client("carrier") as carrier:
        body = {"document": _document(), "issueTo": served.party("shipper").org}
        assert _ok(carrier.post("/v1/carriers/ebls", json=body))["successorEblId"] is None


def test_the_cli_amend_shows_the_amended_ebls_id(served: Served, tmp_path: Path) -> None:
    original = _surrendered_for_amendment(served)
    amended_file = tmp_path / "amended.json"
    amended_file.write_text(json.dumps(_document()))
    command = [str(Path(sys.executable).with_name("ebl")), "--gateway", served.url]
    command += ["--token", served.party("carrier").token, "amend", original, str(amended_file)]
    as_json = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["eblId"] == original and answer["successorEblId"]

    again = _surrendered_for_amendment(served)
    command[command.index(original)] = again
    (tmp_path / "amended.json").write_text(json.dumps(_document()))
    table = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "amended eBL" in table.stdout
