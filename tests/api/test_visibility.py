"""Who may read what: verification by id, auditor history and events, metrics and readiness."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from registry.errors import ArchiveGapError
from tests.api.helpers import Stages, assert_problem, ok


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


@pytest.fixture(scope="module")
def shipped(gateway, stages, members) -> str:
    """An eBL issued by the carrier to the shipper and transferred to the consignee, indexed."""
    ebl = stages.transferred()
    gateway.runtime.indexer.sync()
    return ebl


def _verification(stages: Stages, who: str, ebl: str):
    return stages.client(who).get(f"/v1/banks/ebls/{ebl}/verification")


def test_carrier_not_party_to_an_ebl_cannot_read_its_verification_by_id(stages, shipped):
    """The other carrier never touched the eBL: 404 not_found, as for an id that does not exist."""
    assert_problem(_verification(stages, "other_carrier", shipped), 404, "not_found")


def test_trader_not_party_to_an_ebl_cannot_read_its_verification_by_id(gateway, stages, members):
    """An eBL the consignee never held nor was named in: 404 for the consignee."""
    ebl = stages.issued()
    gateway.runtime.indexer.sync()
    assert_problem(_verification(stages, "consignee", ebl), 404, "not_found")


def test_bank_verifies_any_ebl_by_id(stages, shipped, members):
    """A bank (not party) reads the title state: holder is the consignee, carrier named."""
    v = ok(_verification(stages, "bank", shipped))
    assert v["holder"]["address"] == members["consignee"].org
    assert v["carrier"]["address"] == members["carrier"].org and v["live"] is True


@pytest.mark.parametrize("party", ["carrier", "shipper", "consignee"])
def test_parties_to_an_ebl_read_its_verification(stages, shipped, party):
    """Issuing carrier, former holder and current holder all see the eBL."""
    assert ok(_verification(stages, party, shipped))["eblId"] == shipped


def test_auditor_reads_verification_and_history_of_any_ebl(gateway, shipped, members):
    """The auditor is party to nothing and still sees the state and the full history."""
    with gateway.client(members["auditor"].token) as a:
        assert ok(a.get(f"/v1/banks/ebls/{shipped}/verification"))["eblId"] == shipped
        history = ok(a.get(f"/v1/auditors/ebls/{shipped}/history"))
    assert [e["action"] for e in history] == ["ISSUE", "TRANSFER"]
    assert (
        history[1]["actor"] == members["shipper"].org
        and history[1]["counterparty"] == members["consignee"].org
    )


def test_governance_reads_history_of_any_ebl(gateway, governance_token, shipped):
    """Governance may use the auditor endpoints too."""
    with gateway.client(governance_token) as g:
        assert len(ok(g.get(f"/v1/auditors/ebls/{shipped}/history"))) == 2


@pytest.mark.parametrize("member", ["shipper", "consignee", "bank", "carrier"])
def test_members_cannot_call_auditor_endpoints(stages, shipped, members, member):
    """History and events are for auditors: a member, even a party, gets 403 forbidden_role."""
    c = stages.client(member)
    assert_problem(c.get(f"/v1/auditors/ebls/{shipped}/history"), 403, "forbidden_role")
    now = datetime.now(UTC)
    params = {
        "org": members["shipper"].org,
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(days=1)).isoformat(),
    }
    assert_problem(c.get("/v1/auditors/events", params=params), 403, "forbidden_role")


def test_auditor_lists_events_of_an_organisation(gateway, shipped, members):
    """Events the consignee took part in include the transfer it received."""
    now = datetime.now(UTC)
    params = {
        "org": members["consignee"].org,
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(days=1)).isoformat(),
        "action": "TRANSFER",
        "limit": 1000,
    }
    with gateway.client(members["auditor"].token) as a:
        page = ok(a.get("/v1/auditors/events", params=params))
    assert any(
        e["eblId"] == shipped and e["counterparty"] == members["consignee"].org for e in page["events"]
    )


def test_metrics_expose_http_request_counter(gateway, stages, shipped):
    """/metrics is Prometheus text with ebl_http_requests_total labelled by route template."""
    ok(_verification(stages, "bank", shipped))
    with gateway.client() as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "ebl_http_requests_total" in r.text
    assert 'route="/v1/banks/ebls/{ebl_id}/verification"' in r.text


def test_readiness_reports_indexer_lag_after_a_sync(gateway):
    """After an explicit indexer sync /readyz is 200 with a small non-negative indexerLag."""
    gateway.runtime.indexer.sync()
    with gateway.client() as c:
        body = ok(c.get("/readyz"))
    assert body["status"] == "ready" and 0 <= body["indexerLag"] <= 30 and body["chainHead"] > 0
    assert body["leader"] is True  # a single gateway process always relays


def test_a_chain_archive_that_cannot_advance_makes_the_gateway_not_ready(gateway, monkeypatch):
    """When the node no longer serves a block the archive needs, the index follower stops there, and
    /readyz answers 503 naming the block until the archive can advance again."""
    runtime = gateway.runtime
    honest = runtime.indexer.archive.ingest

    def pruned(to_block=None):
        raise ArchiveGapError(7, "the node serves none of the transactions its header commits to")

    monkeypatch.setattr(runtime.indexer.archive, "ingest", pruned)
    runtime._follow_now.set()
    deadline = time.monotonic() + 30
    while runtime.archive_failure is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with gateway.client() as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and "block 7" in r.json()["detail"], r.text
    monkeypatch.setattr(runtime.indexer.archive, "ingest", honest)
    runtime._follow_now.set()
    deadline = time.monotonic() + 30
    while runtime.archive_failure is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    with gateway.client() as c:
        assert c.get("/readyz").status_code == 200


def test_issuing_carrier_reads_its_ebl_right_after_issuance(stages):
    """Read-your-writes: a 201 final issuance is immediately verifiable by its carrier (three in a row)."""
    ebls = [stages.issued() for _ in range(3)]
    statuses = [_verification(stages, "carrier", ebl).status_code for ebl in ebls]
    assert statuses == [200, 200, 200]


def test_credential_role_must_match_the_organisations_role(gateway, governance_token, members):
    """A 'bank' credential for the consignee (a trader), or one for a non-member, is refused: 422."""
    with gateway.client(governance_token) as g:
        trader_as_bank = g.post(
            "/v1/governance/credentials", json={"name": "x", "role": "bank", "org": members["consignee"].org}
        )
        stranger = g.post(
            "/v1/governance/credentials", json={"name": "y", "role": "carrier", "org": "0x" + "34" * 20}
        )
    assert (trader_as_bank.status_code, stranger.status_code) == (422, 422)
