"""The gateway served over real HTTP (uvicorn on 127.0.0.1) on top of a registry runtime.

The runtime runs on an anvil of its own and deploys its own registry, so API tests never share title
state with the contract tests. The chain is its own, not the session's, because the runtime's watchdog
treats a head that goes backwards as a rollback (gate closed, journal re-checked), and the recovery,
relayer and indexer tests rewind the session chain with ``evm_revert`` while this session-scoped gateway
is alive on the same worker. Every party signs in with its own API credential.

With ``EBL_TEST_LEDGER=hardhat`` that chain is the Hardhat node (EDR) and the runtime runs on the
``hardhat`` ledger profile (:mod:`tests.support.chains`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.auth import Credentials
from api.main import create_app
from api.serving import serve_in_thread
from registry.config import Settings
from registry.runtime import Runtime
from tests.api.helpers import ok, onboard_cast
from tests.support.callback_receiver import CallbackReceiver, callback_receiver
from tests.support.chains import TestChain, ledger_kind, new_chain


@pytest.fixture(scope="session")
def api_chain() -> Iterator[TestChain]:
    """The gateway's own chain (anvil, or the Hardhat node), which no other test rewinds."""
    with new_chain() as node:
        yield node


@pytest.fixture(scope="session")
def api_runtime(api_chain: TestChain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data: Path = tmp_path_factory.mktemp("api-data")
    settings = Settings(
        data_dir=data,
        rpc_url=api_chain.url,
        ledger=ledger_kind(),
        keystore_kdf_n=2**14,
        relayer_max_delay=0.01,
    )
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
    app = create_app(api_runtime)
    with serve_in_thread(app) as server:
        yield Gateway(server.url, api_runtime, app.state.credentials)


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
        cast = onboard_cast(gov, "API", "Customs auditor")
    for name, body in cast.items():
        if name == "auditor":
            out[name] = Member("auditor", "", body["token"])
        else:
            out[name] = Member(name, body["organisation"]["address"], body["credential"]["token"])
    return out


# ---------------------------------------------------------------- DCSA platform APIs (EBL_DCSA_APIS)

DCSA_PLATFORM = "WAVE"


@dataclass
class DcsaGateway:
    """A second gateway with the DCSA platform APIs enabled: its own registry (own deployment on the
    API chain, own database), its cast onboarded, and the carrier's callback receiver registered."""

    gateway: Gateway
    members: dict[str, Member]
    receiver: CallbackReceiver
    settings: Settings


@pytest.fixture(scope="session")
def dcsa_gateway(api_chain: TestChain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcsaGateway]:
    data: Path = tmp_path_factory.mktemp("dcsa-data")
    settings = Settings(
        data_dir=data,
        rpc_url=api_chain.url,
        ledger=ledger_kind(),
        keystore_kdf_n=2**14,
        relayer_max_delay=0.01,
        dcsa_apis=True,
        platform_code=DCSA_PLATFORM,
        dcsa_callback_max_backoff=1.0,
    )
    with callback_receiver() as receiver, Runtime.open(settings) as runtime:
        app = create_app(runtime)
        with serve_in_thread(app) as server:
            gw = Gateway(server.url, runtime, app.state.credentials)
            token = gw.credentials.issue("dcsa governance", "governance", None).token
            with gw.client(token) as gov:
                cast = onboard_cast(gov, "DCSA", "DCSA auditor")
            members = {
                name: Member(name, body["organisation"]["address"], body["credential"]["token"])
                if name != "auditor"
                else Member("auditor", "", body["token"])
                for name, body in cast.items()
            }
            with gw.client(members["carrier"].token) as carrier:
                ok(
                    carrier.post(
                        "/v1/carriers/dcsa-endpoint", json={"url": receiver.url, "token": "carrier-secret"}
                    )
                )
            yield DcsaGateway(gw, members, receiver, settings)
