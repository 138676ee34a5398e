"""Outsiders' fixtures: the gateway exactly as `make run` starts it, reached only over HTTP.

Nothing here imports the registry's own client code to act: a test in this folder speaks HTTP to
``python -m scripts.serve`` (its own data folder, chain and ports), runs the ``ebl`` CLI in a
subprocess, or drives a standard wallet library through node. That is how the registry's users meet
it, and the only way to find the defects that our own helpers share assumptions with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess


@dataclass(frozen=True)
class Party:
    """One demo organisation of the served gateway: its name, address and bearer token."""

    name: str
    org: str
    token: str


@dataclass
class Served:
    """The running gateway and the credentials its first start printed."""

    process: GatewayProcess

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def credentials(self) -> dict[str, dict[str, str]]:
        assert self.process.credentials is not None
        return self.process.credentials

    def party(self, name: str) -> Party:
        c = self.credentials[name]
        return Party(name, c.get("org", ""), c["token"])

    def client(self, who: str | Party | None = None, **kw: Any) -> httpx.Client:
        """An HTTP client as ``who`` (a demo name, a :class:`Party`, or None for no credential)."""
        headers: dict[str, str] = {}
        if who is not None:
            token = who.token if isinstance(who, Party) else self.credentials[who]["token"]
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def onboard(self, role: str, legal_name: str | None = None, **extra: Any) -> Party:
        """A new organisation onboarded through the governance API, with its own credential.

        ``extra`` adds to the request body; a carrier gets a fresh NMFTA ``carrierCode`` of its own
        unless ``extra`` names its codes (every carrier is onboarded with the codes its documents carry).
        """
        name = legal_name or f"{role.title()} {uuid.uuid4().hex[:8]}"
        body = {"identifier": f"LEI:{uuid.uuid4().hex[:20].upper()}", "name": name, "role": role, **extra}
        if role == "carrier" and "carrierCode" not in body and "carrierCodes" not in body:
            body |= {"carrierCode": uuid.uuid4().hex[:4].upper(), "carrierCodeListProvider": "NMFTA"}
        with self.client("governance") as gov:
            r = gov.post("/v1/governance/organisations", json=body)
        assert r.status_code == 201, r.text
        out = r.json()
        return Party(name, out["organisation"]["address"], out["credential"]["token"])


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``python -m scripts.serve`` in a fresh data folder, once per test process, stopped by pid."""
    process = GatewayProcess(tmp_path_factory.mktemp("served"))
    try:
        process.start()
        yield Served(process)
    finally:
        process.close()
