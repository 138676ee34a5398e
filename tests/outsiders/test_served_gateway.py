"""The served gateway, as a newcomer first meets it: `make run`'s process answers its probes, and the
credentials it printed once sign the demo organisations in."""

from __future__ import annotations

from tests.outsiders.conftest import Served


def test_the_served_gateway_is_ready_and_knows_the_demo_parties(served: Served) -> None:
    with served.client() as anonymous:
        assert anonymous.get("/readyz").status_code == 200
    for name in ("carrier", "shipper", "bank", "consignee", "auditor", "governance"):
        assert served.credentials[name]["token"]
    with served.client("auditor") as auditor:
        r = auditor.get(
            "/v1/auditors/events",
            params={
                "org": served.party("carrier").org,
                "since": "2020-01-01T00:00:00Z",
                "until": "2100-01-01T00:00:00Z",
            },
        )
        assert r.status_code == 200, r.text
