"""No existence leaks: a member party to nothing about an eBL learns nothing from writing to it.

Found from an outsider's side: a trader that never touched an eBL, posting a transfer to its id, got
``403 not_holder`` (so the eBL exists), while an id that does not exist answered ``404 not_found``; a
second carrier got ``403 not_issuing_carrier`` or ``409 wrong_state``. Each holder and carrier write
route is tried here by outsiders over HTTP, against a live eBL in several states and against an id
that was never issued: the two answers must be the same, bar the ``instance`` (the request path).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.dcsa import issued_example
from tests.outsiders.conftest import Party, Served

NEVER_ISSUED = str(int.from_bytes(uuid.uuid4().bytes * 2, "big"))


def _document() -> dict[str, Any]:
    return issued_example(transportDocumentReference=("EX" + uuid.uuid4().hex.upper())[:20])


def _ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _issued(served: Served) -> str:
    with served.client("carrier") as c:
        body = {"document": _document(), "issueTo": served.party("shipper").org}
        return str(_ok(c.post("/v1/carriers/ebls", json=body))["eblId"])


def _surrender_requested(served: Served) -> str:
    ebl = _issued(served)
    with served.client("shipper") as s:
        _ok(s.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "AMENDMENT", "reasonCode": "COD"}))
    return ebl


def _surrendered_for_amendment(served: Served) -> str:
    ebl = _surrender_requested(served)
    with served.client("carrier") as c:
        _ok(c.post(f"/v1/carriers/ebls/{ebl}/accept-surrender"))
    return ebl


def _voided(served: Served) -> str:
    ebl = _surrendered_for_amendment(served)
    with served.client("carrier") as c:
        _ok(c.post(f"/v1/carriers/ebls/{ebl}/void"))
    return ebl


STATES: dict[str, Callable[[Served], str]] = {
    "active": _issued,
    "surrender-requested": _surrender_requested,
    "surrendered-for-amendment": _surrendered_for_amendment,
    "voided": _voided,
}


@pytest.fixture(scope="module")
def ebls(served: Served) -> dict[str, str]:
    return {state: make(served) for state, make in STATES.items()}


@pytest.fixture(scope="module")
def outsiders(served: Served) -> dict[str, Party]:
    """A trader, a bank and a carrier onboarded for this test: party to nothing."""
    return {role: served.onboard(role) for role in ("trader", "bank", "carrier")}


def _holder_writes(served: Served) -> list[tuple[str, dict[str, Any] | None]]:
    bank = served.party("bank").org
    return [
        ("transfer", {"to": bank}),
        ("endorse", {"endorsee": bank}),
        ("endorse", {"endorsee": bank, "toOrder": False}),
        ("endorse-in-blank", None),
        ("nominate", {"nominee": bank}),
        ("nominate", {"nominee": None}),
        ("reject", None),
        ("surrender", {"reason": "DELIVERY"}),
        ("surrender", {"reason": "AMENDMENT", "reasonCode": "COD"}),
    ]


def _carrier_writes() -> list[tuple[str, dict[str, Any] | None]]:
    return [
        ("accept-surrender", None),
        ("reject-surrender", None),
        ("void", None),
        ("amend", {"document": _document()}),
        ("switch-to-paper", {"paperDocumentHash": "0x" + "ab" * 32}),
    ]


def _answer(served: Served, who: Party, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    with served.client(who) as c:
        r = c.post(path, json=body) if body is not None else c.post(path)
    problem = dict(r.json())
    problem.pop("instance", None)
    return r.status_code, problem


def _assert_same(served: Served, who: Party, route: str, ebl: str, body: dict[str, Any] | None) -> None:
    hidden = _answer(served, who, route.format(ebl=ebl), body)
    absent = _answer(served, who, route.format(ebl=NEVER_ISSUED), body)
    assert hidden == absent, f"{who.name} {route}: existing eBL {hidden} vs never issued {absent}"
    assert hidden[0] in (404, 422), hidden  # 422: the request itself is refused, for either id


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("role", ["trader", "bank", "carrier"])
def test_an_outsider_member_writing_as_holder_learns_nothing_about_an_ebl(
    served: Served, ebls: dict[str, str], outsiders: dict[str, Party], state: str, role: str
) -> None:
    for action, body in _holder_writes(served):
        _assert_same(served, outsiders[role], "/v1/holders/ebls/{ebl}/" + action, ebls[state], body)


@pytest.mark.parametrize("state", list(STATES))
def test_a_second_carrier_writing_as_carrier_learns_nothing_about_another_carriers_ebl(
    served: Served, ebls: dict[str, str], outsiders: dict[str, Party], state: str
) -> None:
    for action, body in _carrier_writes():
        _assert_same(served, outsiders["carrier"], "/v1/carriers/ebls/{ebl}/" + action, ebls[state], body)


def test_a_party_still_gets_the_precise_refusal(served: Served, ebls: dict[str, str]) -> None:
    """The holder's own wrong move is explained, not hidden: the shipper may see its eBL."""
    with served.client("consignee") as k:
        r = k.post(f"/v1/holders/ebls/{ebls['active']}/transfer", json={"to": served.party("bank").org})
    assert r.status_code == 404, r.text  # the consignee is party to nothing about it either
    with served.client("shipper") as s:
        r = s.post(
            f"/v1/holders/ebls/{ebls['surrender-requested']}/transfer", json={"to": served.party("bank").org}
        )
    assert r.status_code in (403, 409) and r.json()["code"] in ("not_holder", "wrong_state"), r.text
