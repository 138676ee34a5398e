"""PINT across crashes (issue 14): two full registries, EBLA sending to EBLB through a proxy that
withholds one chosen request; the sender (A) or the receiver (B) is killed with SIGKILL at that moment
and started again on the same data folder. Whatever the moment, the bill ends held on exactly one side,
and A never builds a second envelope: every envelope B was sent ends with the entry A journaled.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from tests.outsiders.test_pint_between_registries import Registry, _start, issue, send
from tests.support.withholding_proxy import WithholdingProxy

# The issue's two cases run in make test (a sender killed mid-transfer, a receiver killed mid-envelope);
# the other seven add about four minutes of kill -9 and restarts on two cores: make test-long.
LONG = pytest.mark.long


@dataclass
class Crossing:
    a: Registry
    b: Registry
    proxy: WithholdingProxy


def _trust(registry: Registry, other: Registry, url: str) -> None:
    with other.client("governance") as gov:
        own = next(p for p in gov.get("/v1/platforms").json() if p["own"])
    entry = {"code": own["code"], "name": f"registry {own['code']}", "url": url, "jwks": own["jwks"]}
    with registry.client("governance") as gov:
        added = gov.post("/v1/platforms", json=entry)
    assert added.status_code == 201, added.text


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crossing]:
    root = tmp_path_factory.mktemp("pintcrash")
    started: list[Registry] = []
    proxy: WithholdingProxy | None = None
    try:
        started.append(_start(root, "a", "EBLA"))
        started.append(_start(root, "b", "EBLB"))
        a, b = started
        proxy = WithholdingProxy(b.url)
        _trust(a, b, proxy.url)  # A reaches B only through the proxy
        _trust(b, a, a.url)
        yield Crossing(a, b, proxy)
    finally:
        if proxy is not None:
            proxy.close()
        for registry in started:
            registry.gateway.close()


INVOICE = {"name": "invoice.txt", "mediaType": "text/plain", "content": base64.b64encode(b"inv 7").decode()}


def _send_in_background(c: Crossing, ebl: str, documents: list[dict[str, str]]) -> threading.Thread:
    """The shipper asks A to send ``ebl`` to B's bank; the request may never be answered (A killed)."""

    def run() -> None:
        with contextlib.suppress(httpx.HTTPError):  # A may be killed under the request
            send(c.a, "shipper", ebl, c.b, "bank", documents=documents)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _transfer_of(registry: Registry, ebl: str) -> dict[str, Any]:
    with registry.client("governance") as gov:
        transfers = [t for t in gov.get("/v1/platform-transfers").json() if str(t["eblId"]) == ebl]
    assert len(transfers) == 1, transfers
    return transfers[0]


def _settled(registry: Registry, ebl: str, timeout: float = 180.0) -> dict[str, Any]:
    """The transfer once A's resume thread finished it (asking A to resume now, too)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        transfer = _transfer_of(registry, ebl)
        if transfer["status"] != "IN_PROGRESS":
            return transfer
        if time.monotonic() > deadline:
            raise AssertionError(f"transfer still in progress: {transfer}")
        with registry.client("governance") as gov:
            gov.post(f"/v1/platform-transfers/{transfer['transferId']}/resume")
        time.sleep(1)


def _status_there(registry: Registry, last_entry: str) -> dict[str, Any] | None:
    """B's verification of the bill that arrived with ``last_entry``; None when B does not know it."""
    with registry.client("governance") as gov:
        incoming = gov.get("/v1/incoming-envelopes").json()
    accepted = [e for e in incoming if e["lastEntryChecksum"] == last_entry and e["state"] == "accepted"]
    if not accepted:
        return None
    return registry.status(str(accepted[0]["eblId"]))


def _assert_held_once(c: Crossing, ebl: str, transfer: dict[str, Any]) -> None:
    """Exactly one side holds the bill, and every envelope B saw ends with A's journaled entry."""
    here = c.a.status(ebl)
    there = _status_there(c.b, transfer["lastEntryChecksum"])
    held_here = here["status"] == "ACTIVE" and here["holder"]["address"] == c.a.org("shipper")
    held_there = (
        there is not None and there["status"] == "ACTIVE" and there["holder"]["address"] == c.b.org("bank")
    )
    assert held_here != held_there, (here, there)
    if held_there:
        assert here["status"] == "EXPORTED" and transfer["status"] == "EXPORTED", (here, transfer)
    steps = [s["step"] for s in transfer["journal"]]
    assert steps.count("envelope-built") == 1, steps
    posted = [s for s in c.proxy.seen if s.method == "POST" and s.path == "/v3/envelopes"]
    assert posted, c.proxy.seen
    for seen in posted:
        envelope = json.loads(seen.body)
        assert _last_entry(envelope) == transfer["lastEntryChecksum"]


def _states(registry: Registry) -> list[str]:
    with registry.client("governance") as gov:
        return [e["state"] for e in gov.get("/v1/incoming-envelopes").json()]


def _wait_accepting(registry: Registry, accepted_before: int, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = _states(registry)
        if "accepting" in states or states.count("accepted") > accepted_before:
            return
        time.sleep(0.05)
    raise AssertionError("the receiver never started accepting")


def _last_entry(envelope: dict[str, Any]) -> str:
    from registry.pint.checksums import jws_checksum

    return jws_checksum(envelope["envelopeTransferChain"][-1])


def _crash(
    c: Crossing,
    method: str,
    path: str,
    when: Literal["before", "during", "after"],
    victim: Literal["a", "b"],
    documents: list[dict[str, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Send a bill, withhold ``method path`` (``when``), SIGKILL ``victim`` meanwhile, start it again;
    the bill and its settled transfer."""
    ebl = issue(c.a, to_order=True)
    c.proxy.seen.clear()
    accepted_before = _states(c.b).count("accepted")
    c.proxy.withhold(method, path, when)
    request = _send_in_background(c, ebl, documents or [])
    c.proxy.wait_withheld()
    gateway = (c.a if victim == "a" else c.b).gateway
    if when == "during":  # kill B once it started accepting (or, were it quicker, once it accepted)
        _wait_accepting(c.b, accepted_before)
    gateway.kill_gateway()
    c.proxy.release()
    gateway.start()
    request.join(timeout=120)
    settled = _settled(c.a, ebl)
    again = [s for s in c.proxy.seen if s.method == method and path in s.path]
    assert len(again) >= 2, c.proxy.seen  # the withheld request was made again after the crash
    return ebl, settled


@LONG
def test_sender_killed_before_the_receiver_saw_the_envelope(crossing: Crossing) -> None:
    """A's bill is frozen for export and its envelope on the wire; B never got it; A dies and on
    restart posts the very same envelope."""
    ebl, transfer = _crash(crossing, "POST", "/v3/envelopes", "before", "a")
    assert transfer["status"] == "EXPORTED" and transfer["responseCode"] == "RECE", transfer
    _assert_held_once(crossing, ebl, transfer)


def test_sender_killed_after_the_receiver_accepted_but_before_it_heard_so(crossing: Crossing) -> None:
    """B accepted the bill (RECE, B's bank holds it) but the answer never reached A, which dies: on
    restart A asks again and closes the export with B's stored answer."""
    ebl, transfer = _crash(crossing, "POST", "/v3/envelopes", "after", "a")
    assert transfer["status"] == "EXPORTED", transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_receiver_killed_before_it_answered_the_envelope(crossing: Crossing) -> None:
    """B is killed while A's envelope is on its way to it; B starts again and A's retry lands."""
    ebl, transfer = _crash(crossing, "POST", "/v3/envelopes", "before", "b")
    assert transfer["status"] == "EXPORTED", transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_receiver_killed_after_it_accepted_the_envelope(crossing: Crossing) -> None:
    """B accepted the envelope and is killed before its answer got out; after B's restart A's retry
    is answered DUPE (or the stored RECE) and the bill is B's once only."""
    ebl, transfer = _crash(crossing, "POST", "/v3/envelopes", "after", "b")
    assert transfer["status"] == "EXPORTED" and transfer["responseCode"] in ("RECE", "DUPE"), transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_sender_killed_while_the_receiver_finishes_the_transfer(crossing: Crossing) -> None:
    """With a document: B got the envelope and the document, and answered finish-transfer (RECE);
    A, killed before it heard, asks again after restart and gets B's stored answer."""
    ebl, transfer = _crash(crossing, "PUT", "/finish-transfer", "after", "a", documents=[INVOICE])
    assert transfer["status"] == "EXPORTED" and transfer["responseCode"] == "RECE", transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_receiver_killed_between_the_envelope_and_finish_transfer(crossing: Crossing) -> None:
    """With a document: B answered the envelope (201) and took the document; it is killed before
    finish-transfer reaches it, starts again with the envelope it journaled, and A's retry finishes."""
    ebl, transfer = _crash(crossing, "PUT", "/finish-transfer", "before", "b", documents=[INVOICE])
    assert transfer["status"] == "EXPORTED" and transfer["responseCode"] == "RECE", transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_receiver_killed_after_it_finished_the_transfer(crossing: Crossing) -> None:
    """With a document: B accepted at finish-transfer and is killed before its answer got out; after
    B's restart A's retry gets the stored RECE."""
    ebl, transfer = _crash(crossing, "PUT", "/finish-transfer", "after", "b", documents=[INVOICE])
    assert transfer["status"] == "EXPORTED" and transfer["responseCode"] == "RECE", transfer
    _assert_held_once(crossing, ebl, transfer)


def test_receiver_killed_while_it_accepts_the_envelope(crossing: Crossing) -> None:
    """No document: B accepts at POST /v3/envelopes (importing the bill on its chain) and is killed
    while doing so; after B's restart A's retry is answered and the bill is held once."""
    ebl, transfer = _crash(crossing, "POST", "/v3/envelopes", "during", "b")
    assert transfer["status"] == "EXPORTED", transfer
    _assert_held_once(crossing, ebl, transfer)


@LONG
def test_receiver_killed_while_it_finishes_the_transfer(crossing: Crossing) -> None:
    """With a document: B is killed while finish-transfer imports the bill; A's retry after B's
    restart is answered and the bill is held once."""
    ebl, transfer = _crash(crossing, "PUT", "/finish-transfer", "during", "b", documents=[INVOICE])
    assert transfer["status"] == "EXPORTED", transfer
    _assert_held_once(crossing, ebl, transfer)
