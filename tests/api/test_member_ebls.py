"""GET /v1/members/ebls over HTTP: each member's held, awaiting and former bills, with legal names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Stages, assert_problem, ok


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


def _all(stages: Stages, who: str, view: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Every item of ``who``'s view, following nextCursor."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"view": view, "limit": limit}
    while True:
        page = ok(stages.client(who).get("/v1/members/ebls", params=params))
        items += page["items"]
        if page["nextCursor"] is None:
            return items
        params["cursor"] = page["nextCursor"]


def _ids(stages: Stages, who: str, view: str) -> dict[str, str | None]:
    return {i["eblId"]: i["awaiting"] for i in _all(stages, who, view)}


def test_the_consignee_sees_a_transfer_it_may_reject_and_the_shipper_sees_it_handed_on(stages, members):
    ebl = stages.transferred()
    assert _ids(stages, "consignee", "awaiting")[ebl] == "TRANSFER_RECEIVED"
    item = next(i for i in _all(stages, "consignee", "held") if i["eblId"] == ebl)
    assert item["holder"]["address"] == members["consignee"].org
    assert item["holder"]["name"]  # the legal name from the onboarding profile
    assert item["carrier"]["address"] == members["carrier"].org and item["status"] == "ACTIVE"
    assert item["eblIdHex"].startswith("0x") and len(item["eblIdHex"]) == 66
    assert ebl in _ids(stages, "shipper", "former")
    assert ebl not in _ids(stages, "shipper", "held")

    stages.post("consignee", f"/v1/holders/ebls/{ebl}/reject")
    assert ebl not in _ids(stages, "consignee", "awaiting")
    assert ebl in _ids(stages, "consignee", "former")
    assert _ids(stages, "shipper", "held")[ebl] is None


def test_a_surrender_waits_for_the_carrier(stages):
    ebl = stages.surrender_requested()
    assert _ids(stages, "carrier", "awaiting")[ebl] == "SURRENDER_REQUESTED"
    stages.post("carrier", f"/v1/carriers/ebls/{ebl}/accept-surrender")
    assert ebl not in _ids(stages, "carrier", "awaiting")
    assert ebl in _ids(stages, "shipper", "former")


def test_pages_follow_one_another_without_gaps_or_repeats(stages):
    issued = [stages.issued(to="bank") for _ in range(3)]
    whole = [i["eblId"] for i in _all(stages, "bank", "held")]
    assert [e for e in whole if e in issued] == issued[::-1]  # newest issuance first
    assert [i["eblId"] for i in _all(stages, "bank", "held", limit=1)] == whole


def test_a_bill_is_in_no_list_of_an_organisation_that_never_held_it(stages):
    ebl = stages.issued()
    for view in ("held", "awaiting", "former"):
        assert ebl not in _ids(stages, "bank", view)


@pytest.mark.parametrize(
    "params, code",
    [
        ({"view": "everything"}, "invalid_request"),
        ({"limit": 0}, "invalid_request"),
        ({"cursor": "x"}, "invalid_request"),
    ],
)
def test_a_bad_view_limit_or_cursor_is_a_problem(stages, params, code):
    assert_problem(stages.client("shipper").get("/v1/members/ebls", params=params), 422, code)


def test_the_auditor_holds_no_bills(gateway, members):
    with gateway.client(members["auditor"].token) as auditor:
        assert_problem(auditor.get("/v1/members/ebls"), 403)
