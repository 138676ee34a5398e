"""The DCSA callback outbox from the outside: a carrier endpoint that fails is retried, and a callback
queued before the gateway stops is delivered by the next gateway on the same data folder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from api.serving import serve_in_thread
from registry.chain.anvil import AnvilProcess, free_port
from registry.config import Settings
from registry.runtime import Runtime
from tests.api.conftest import DCSA_PLATFORM, DcsaGateway
from tests.api.dcsa_helpers import issuance_request
from tests.api.helpers import ok, onboard_cast
from tests.fixtures.dcsa import FIXTURES_DIR
from tests.support.callback_receiver import callback_receiver


def test_a_failing_carrier_endpoint_gets_the_callback_on_a_later_attempt(dcsa_gateway: DcsaGateway) -> None:
    gw, m, receiver = dcsa_gateway.gateway, dcsa_gateway.members, dcsa_gateway.receiver
    body = issuance_request(DCSA_PLATFORM, m["shipper"].org)
    reference = body["document"]["transportDocumentReference"]
    receiver.fail_next = 2
    with gw.client(m["carrier"].token) as carrier:
        assert carrier.put("/v3/ebl-issuance-requests", json=body).status_code == 204
    callback = receiver.wait_for(lambda c: c.body.get("transportDocumentReference") == reference)
    assert callback.body["issuanceResponseCode"] == "ISSU"
    assert [c.body["transportDocumentReference"] for c in receiver.refused][-2:] == [reference, reference]


def test_a_callback_queued_before_a_restart_is_delivered_after_it(
    api_chain: AnvilProcess, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        rpc_url=api_chain.url,
        keystore_kdf_n=2**14,
        relayer_max_delay=0.01,
        dcsa_apis=True,
        platform_code=DCSA_PLATFORM,
        dcsa_callback_max_backoff=1.0,
    )
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every attempt fails
    with Runtime.open(settings) as runtime:
        app = create_app(runtime)
        with serve_in_thread(app) as server:
            token = app.state.credentials.issue("gov", "governance", None).token

            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as gov:
                cast = onboard_cast(gov, "RESTART", "auditor")
            carrier_token = cast["carrier"]["credential"]["token"]
            shipper = cast["shipper"]["organisation"]["address"]
            body = issuance_request(DCSA_PLATFORM, shipper)
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {carrier_token}"}) as c:
                ok(c.post("/v1/carriers/dcsa-endpoint", json={"url": dead}))
                assert c.put("/v3/ebl-issuance-requests", json=body).status_code == 204
        assert runtime.dcsa is not None
        assert len(runtime.dcsa.pending()) == 1  # still queued when the gateway stops
    reference = body["document"]["transportDocumentReference"]
    with callback_receiver() as receiver, Runtime.open(settings) as runtime:
        app = create_app(runtime)
        with serve_in_thread(app) as server:
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {carrier_token}"}) as c:
                ok(c.post("/v1/carriers/dcsa-endpoint", json={"url": receiver.url}))
            callback = receiver.wait_for(lambda cb: cb.body.get("transportDocumentReference") == reference)
    assert callback.body == {"transportDocumentReference": reference, "issuanceResponseCode": "ISSU"}


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in FIXTURES_DIR.glob("ebl-*v3.0.3_*.json")),
)
def test_the_dcsa_examples_parse_and_round_trip(name: str) -> None:
    text = (FIXTURES_DIR / name).read_text()
    value = json.loads(text)
    assert json.loads(json.dumps(value)) == value
    if name.startswith("ebl-iss-v3.0.3_put-issuance-request"):  # our model of IssuanceRequest takes it
        from api.routes.dcsa_carriers import IssuanceRequest

        assert IssuanceRequest.model_validate(value).model_dump(exclude_none=True) == value
    if name.startswith("ebl-sur-v3.0.3_post-surrender-request"):
        assert value["surrenderRequestCode"] in ("SREQ", "AREQ")
