"""GET /v1/members/directory over HTTP: the member organisations a holder names as counterparty."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_problem, ok


def test_a_member_finds_every_member_organisation_by_name_and_lei(gateway: Any, members: Any) -> None:
    with gateway.client(members["shipper"].token) as c:
        listed = ok(c.get("/v1/members/directory", params={"limit": 1000}))
        by_address = {o["address"]: o for o in listed}
        for name in ("carrier", "shipper", "bank", "consignee"):
            entry = by_address[members[name].org]
            assert entry["name"] == f"{name.title()} Ltd" and entry["identifier"] == f"LEI:API-{name.upper()}"
        assert by_address[members["bank"].org]["role"] == "bank"
        names = [(o["name"], o["address"]) for o in listed]
        assert names == sorted(names)
        found = ok(c.get("/v1/members/directory", params={"q": "lei:api-CONSIGNEE"}))
        assert [o["address"] for o in found] == [members["consignee"].org]
        for wildcard in ("%", "_", "\\", "\x00"):  # wildcards taken literally; a NUL dropped
            assert ok(c.get("/v1/members/directory", params={"q": f"LEI{wildcard}API"})) == []
        assert len(ok(c.get("/v1/members/directory", params={"q": "LEI:API-"}))) >= 4


def test_the_directory_is_for_members(gateway: Any, members: Any) -> None:
    with gateway.client(members["auditor"].token) as c:
        assert_problem(c.get("/v1/members/directory"), 403, "forbidden_role")
    with gateway.client(members["bank"].token) as c:
        assert_problem(c.get("/v1/members/directory", params={"limit": 0}), 422, "invalid_request")
