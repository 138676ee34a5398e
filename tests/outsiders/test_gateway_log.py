"""The served gateway's log, as an operator reads it: what `make run` writes to stderr.

The defect: the gateway wrote no log at all, while its 500 answers said "see the server log". Now every
request is one JSON line (request id, principal, route, status, duration, operation id), the request id
comes back in ``X-Request-ID`` and in every 5xx problem, a 5xx is logged with its traceback, and no
token, key or passphrase is ever written.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from registry.chain.build import project_root
from tests.support.gateway_process import GatewayProcess

EXAMPLE = json.loads((project_root() / "examples" / "issuance-request.json").read_text())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """`make run`'s process in its own data folder (its chain is killed below), stopped by pid."""
    process = GatewayProcess(tmp_path_factory.mktemp("logged"))
    try:
        process.start()
        yield process
    finally:
        process.close()


def _stderr(gateway: GatewayProcess) -> str:
    return "".join(p.read_text() for p in sorted(gateway.root.glob("serve-*.err")))


def _log(gateway: GatewayProcess) -> list[dict[str, Any]]:
    """Every line the gateway wrote to stderr, each of which must be one JSON object."""
    lines = []
    for line in _stderr(gateway).splitlines():
        parsed = json.loads(line)  # a line that is not JSON fails here, naming it
        assert isinstance(parsed, dict), line
        lines.append(parsed)
    return lines


def _request_line(gateway: GatewayProcess, request_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """The one ``request`` line logged for ``request_id`` (written just after the response is sent)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            x for x in _log(gateway) if x.get("event") == "request" and x.get("request_id") == request_id
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, f"{len(found)} request lines for {request_id}"
    return found[0]


def _client(gateway: GatewayProcess, who: str | None = None) -> httpx.Client:
    headers = {}
    if who is not None:
        assert gateway.credentials is not None
        headers["Authorization"] = f"Bearer {gateway.credentials[who]['token']}"
    return httpx.Client(base_url=gateway.url, headers=headers, timeout=60)


def _credential_id(token: str) -> str:
    return token.removeprefix("ebl_").split(".", 1)[0]


def test_each_request_is_one_line_with_its_id_principal_route_status_and_operation(
    gateway: GatewayProcess,
) -> None:
    assert gateway.credentials is not None
    carrier, shipper = gateway.credentials["carrier"], gateway.credentials["shipper"]
    body = copy.deepcopy(EXAMPLE)
    body["document"]["transportDocumentReference"] = uuid.uuid4().hex[:20].upper()
    body["issueTo"] = shipper["org"]

    with _client(gateway, "carrier") as client:
        issued = client.post("/v1/carriers/ebls", json=body, headers={"X-Request-ID": "outsider-issue-1"})
        assert issued.status_code in (201, 202), issued.text
        operation_id = issued.json()["operationId"]
        polled = client.get(f"/v1/operations/{operation_id}", headers={"X-Request-ID": "outsider-poll-1"})
        assert polled.status_code == 200, polled.text
    with _client(gateway) as anonymous:
        health = anonymous.get("/healthz")
        refused = anonymous.get("/v1/operations/nope", headers={"Authorization": "Bearer ebl_00.wrong"})

    assert issued.headers["X-Request-ID"] == "outsider-issue-1"
    line = _request_line(gateway, "outsider-issue-1")
    assert {k: line[k] for k in ("method", "path", "route", "status", "operation_id")} == {
        "method": "POST",
        "path": "/v1/carriers/ebls",
        "route": "/v1/carriers/ebls",
        "status": issued.status_code,
        "operation_id": operation_id,
    }
    assert (line["credential_id"], line["role"], line["org"]) == (
        _credential_id(carrier["token"]),
        "carrier",
        carrier["org"],
    )
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["timestamp"]

    polled_line = _request_line(gateway, "outsider-poll-1")
    assert polled_line["route"] == "/v1/operations/{operation_id}"
    assert polled_line["operation_id"] == operation_id and polled_line["status"] == 200

    generated = health.headers["X-Request-ID"]
    uuid.UUID(generated)  # none was sent: the gateway made one
    assert _request_line(gateway, generated)["status"] == 200
    refused_line = _request_line(gateway, refused.headers["X-Request-ID"])
    assert (
        refused.status_code == 401 and refused_line["status"] == 401 and "credential_id" not in refused_line
    )


def test_a_5xx_names_its_request_id_and_the_log_has_its_traceback(gateway: GatewayProcess) -> None:
    """The chain dies under the gateway: ``/readyz`` answers 503 (a problem, "see the server log"
    style) with a request id that leads to the logged traceback."""
    answer = None
    with _client(gateway) as client:
        for attempt in range(20):  # the gateway restarts its chain at once: catch it while it is down
            gateway.kill_chain()
            r = client.get("/readyz", headers={"X-Request-ID": f"outsider-5xx-{attempt}"})
            if r.status_code == 503:
                answer = r
                break
            gateway.wait_ready()
    assert answer is not None, "the chain never seemed down"
    gateway.wait_ready()

    request_id = answer.headers["X-Request-ID"]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["requestId"] == request_id
    assert (answer.json()["ledgerReachable"], answer.json()["leader"]) == (False, True)
    line = _request_line(gateway, request_id)
    assert line["status"] == 503 and line["level"] == "error" and line["route"] == "/readyz"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "not_ready" in line["exception"] or "Not ready" in line["exception"]


def test_uvicorn_does_not_log_the_requests_again(gateway: GatewayProcess) -> None:
    with _client(gateway) as client:
        client.get("/healthz", headers={"X-Request-ID": "outsider-once"})
    _request_line(gateway, "outsider-once")
    assert not [x for x in _log(gateway) if x.get("logger") == "uvicorn.access"]
    assert '"GET /healthz HTTP/1.1"' not in _stderr(gateway)


def _private_keys(data_dir: Path, passphrase: str) -> list[str]:
    """Every key in the gateway's keystore, decrypted as an operator could with eth-account."""
    keys = []
    for path in sorted((data_dir / "keys").rglob("0x*.json")):
        if path.name.endswith(".meta.json"):
            continue
        keys.append(bytes(Account.decrypt(json.loads(path.read_text()), passphrase)).hex())
    return keys


def test_no_token_key_or_passphrase_reaches_the_log(gateway: GatewayProcess) -> None:
    """After an authenticated session of every demo party (and a credential issued over HTTP), the log
    holds none of the tokens printed at start, nor the new one, nor any private key or the keystore
    passphrase."""
    assert gateway.credentials is not None
    with _client(gateway, "governance") as governance:
        made = governance.post(
            "/v1/governance/credentials",
            json={"name": "log probe", "role": "auditor"},
            headers={"X-Request-ID": "outsider-credential"},
        )
    assert made.status_code == 201, made.text
    new_token = made.json()["token"]
    session = []
    for who in ("carrier", "shipper", "bank", "consignee", "auditor", "governance"):
        token = gateway.credentials[who]["token"]
        with _client(gateway, who) as client:
            rid = f"outsider-session-{who}"
            client.get("/v1/operations/unknown", params={"token": token}, headers={"X-Request-ID": rid})
            session.append(rid)
    with _client(gateway) as client:
        client.get("/healthz", headers={"Authorization": f"Bearer {new_token}"})

    for rid in session:
        assert _request_line(gateway, rid)["credential_id"]  # the session was logged, by credential id
    assert _request_line(gateway, "outsider-credential")["role"] == "governance"

    log = _stderr(gateway)
    tokens = [c["token"] for c in gateway.credentials.values()] + [new_token]
    for token in tokens:
        assert token not in log
        assert token.split(".", 1)[1] not in log  # nor the secret part alone
    passphrase = (gateway.data_dir / "secrets" / "keystore-passphrase").read_text().strip()
    assert passphrase and passphrase not in log
    keys = _private_keys(gateway.data_dir, passphrase)
    assert keys, "the keystore holds the operators' and members' keys"
    lowered = log.lower()
    for key in keys:
        assert key.lower() not in lowered
