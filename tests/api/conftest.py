"""The gateway served over real HTTP (uvicorn on 127.0.0.1) on top of a registry runtime.

The runtime connects to the session anvil and deploys its own registry, so API tests never share
title state with the contract tests. Every party signs in with its own API credential.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.auth import Credentials
from api.main import create_app
from registry.chain.anvil import AnvilProcess, free_port
from registry.config import Settings
from registry.runtime import Runtime


@pytest.fixture(scope="session")
def api_runtime(anvil: AnvilProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data: Path = tmp_path_factory.mktemp("api-data")
    settings = Settings(data_dir=data, rpc_url=anvil.url, keystore_kdf_n=2**14, relayer_max_delay=0.01)
    with Runtime.open(settings) as runtime:
        yield runtime


@dataclass
class Gateway:
    url: str
    runtime: Runtime
    credentials: Credentials

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="session")
def gateway(api_runtime: Runtime) -> Iterator[Gateway]:
    """uvicorn serving the gateway on a free loopback port, in a thread, stopped at session end."""
    port = free_port()
    app = create_app(api_runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("gateway did not start")
        time.sleep(0.02)
    yield Gateway(f"http://127.0.0.1:{port}", api_runtime, app.state.credentials)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def governance_token(gateway: Gateway) -> str:
    """The first governance credential, bootstrapped as the CLI does (shown once)."""
    return gateway.credentials.issue("registry governance", "governance", None).token


@dataclass(frozen=True)
class Member:
    name: str
    org: str
    token: str


@pytest.fixture(scope="session")
def members(gateway: Gateway, governance_token: str) -> dict[str, Member]:
    """A carrier, a shipper, a bank and a consignee onboarded through the governance API, plus an auditor."""
    out: dict[str, Member] = {}
    with gateway.client(governance_token) as gov:
        for name, role in (
            ("carrier", "carrier"),
            ("shipper", "trader"),
            ("bank", "bank"),
            ("consignee", "trader"),
            ("other_carrier", "carrier"),
        ):
            r = gov.post(
                "/v1/governance/organisations",
                json={"identifier": f"LEI:API-{name.upper()}", "name": f"{name.title()} Ltd", "role": role},
            )
            assert r.status_code == 201, r.text
            body = r.json()
            out[name] = Member(name, body["organisation"]["address"], body["credential"]["token"])
        r = gov.post("/v1/governance/credentials", json={"name": "Customs auditor", "role": "auditor"})
        assert r.status_code == 201, r.text
        out["auditor"] = Member("auditor", "", r.json()["token"])
    return out
