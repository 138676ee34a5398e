"""Concurrent writes on one eBL: exactly one wins, the others get the same problem codes as a
sequential refusal.

To make a race deterministic, mining is paused (``evm_setAutomine false``) until every request has
passed the gateway's simulation and sits in the relayer, then resumed; the losers then fail on chain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.api.helpers import Stages, assert_problem, new_document, ok


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


@contextmanager
def mining_paused(gateway: Any, in_flight: int) -> Iterator[None]:
    """Pause mining; on exit wait until ``in_flight`` entries reached the relayer, then mine them."""
    w3 = gateway.runtime.w3
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        yield
        deadline = time.monotonic() + 10
        while gateway.runtime.relayer.pending < in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        w3.provider.make_request("evm_mine", [])


def _race(gateway: Any, token: str, requests: list[Callable[[httpx.Client], httpx.Response]]) -> list[Any]:
    """Send the requests at once (each on its own connection) with mining paused; their responses."""

    def send(request: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with gateway.client(token) as c:
            return request(c)

    with ThreadPoolExecutor(len(requests)) as pool:
        with mining_paused(gateway, len(requests)):
            futures: list[Future[httpx.Response]] = [pool.submit(send, r) for r in requests]
        return [f.result(timeout=60) for f in futures]


def test_concurrent_transfers_of_one_ebl_move_title_exactly_once(gateway, stages, members):
    """Three transfers by the holder race: one 200, the others 403 not_holder; one recipient holds."""
    ebl = stages.issued()
    recipients = ["consignee", "bank", "other_carrier"]
    responses = _race(
        gateway,
        members["shipper"].token,
        [
            lambda c, to=to: c.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": members[to].org})
            for to in recipients
        ],
    )
    winners = [to for to, r in zip(recipients, responses, strict=True) if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    for r in responses:
        if r.status_code != 200:
            assert_problem(r, 403, "not_holder")
    holder = ok(stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification"))["holder"]["address"]
    assert holder == members[winners[0]].org


def test_duplicate_issuance_losing_a_race_is_409_duplicate_like_a_sequential_one(gateway, stages, members):
    """Two identical issuances race: one 201, the other 409 with code 'duplicate' (as sequentially)."""
    body = {"document": new_document("RACE"), "issueTo": members["shipper"].org}
    responses = _race(
        gateway, members["carrier"].token, [lambda c: c.post("/v1/carriers/ebls", json=body)] * 2
    )
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    sequential = assert_problem(
        stages.client("carrier").post("/v1/carriers/ebls", json=body), 409, "duplicate"
    )
    loser = next(r for r in responses if r.status_code == 409)
    problem = assert_problem(loser, 409)
    assert (problem["code"], problem.get("error")) == (sequential["code"], sequential["error"])
