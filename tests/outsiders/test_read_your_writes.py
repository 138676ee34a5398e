"""Read your own writes: once a write answers ``final``, history and verification already show it.

Found from the integrator's side: right after ``201 final`` the auditor history answered 404 for
30-200 ms (the index trailed the chain), so a client that issues and then reads had to poll. Here the
reads follow the answer at once, many times over, against the served gateway.
"""

from __future__ import annotations

import time
import uuid

from tests.fixtures.dcsa import issued_example
from tests.outsiders.conftest import Served

ROUNDS = 12


def _document() -> dict[str, object]:
    return issued_example(transportDocumentReference=("RW" + uuid.uuid4().hex.upper())[:20])


def test_an_issued_and_transferred_ebl_is_in_history_and_verification_the_moment_the_write_is_final(
    served: Served,
) -> None:
    shipper_org, consignee_org = served.party("shipper").org, served.party("consignee").org
    with (
        served.client("carrier") as carrier,
        served.client("shipper") as shipper,
        served.client("consignee") as consignee,
        served.client("auditor") as auditor,
    ):
        for _ in range(ROUNDS):
            r = carrier.post("/v1/carriers/ebls", json={"document": _document(), "issueTo": shipper_org})
            assert r.status_code == 201 and r.json()["status"] == "final", r.text
            ebl = r.json()["eblId"]

            history = auditor.get(f"/v1/auditors/ebls/{ebl}/history")
            assert history.status_code == 200, history.text
            assert [e["action"] for e in history.json()] == ["ISSUE"]
            seen = carrier.get(f"/v1/banks/ebls/{ebl}/verification")
            assert seen.status_code == 200, seen.text
            assert seen.json()["holder"]["address"] == shipper_org

            moved = shipper.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": consignee_org})
            assert moved.status_code == 200 and moved.json()["status"] == "final", moved.text
            history = auditor.get(f"/v1/auditors/ebls/{ebl}/history")
            assert [e["action"] for e in history.json()] == ["ISSUE", "TRANSFER"], history.text
            # the new holder, party only through the write just answered, sees it at once
            seen = consignee.get(f"/v1/banks/ebls/{ebl}/verification")
            assert seen.status_code == 200, seen.text
            assert seen.json()["holder"]["address"] == consignee_org


def test_an_operation_polled_to_final_is_in_history_at_once(served: Served) -> None:
    shipper_org = served.party("shipper").org
    with served.client("carrier") as carrier, served.client("auditor") as auditor:
        for _ in range(ROUNDS // 2):
            r = carrier.post(
                "/v1/carriers/ebls",
                params={"wait": "false"},
                json={"document": _document(), "issueTo": shipper_org},
            )
            assert r.status_code == 202, r.text
            location, ebl = r.headers["Location"], r.json()["eblId"]
            deadline = time.monotonic() + 60
            while (op := carrier.get(location).json())["status"] != "final":
                assert op["status"] in ("pending", "submitted"), op
                assert time.monotonic() < deadline, "the operation did not become final"
                time.sleep(0.02)
            history = auditor.get(f"/v1/auditors/ebls/{ebl}/history")
            assert history.status_code == 200, history.text
            assert [e["action"] for e in history.json()] == ["ISSUE"]
