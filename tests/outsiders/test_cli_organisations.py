"""Governance meets ``ebl org add / show / suspend / reinstate`` and ``ebl keys export``: each prints
the organisation as the gateway serves it (``GET /v1/governance/organisations/{org}``), through the
gateway and in direct mode alike, with the role and status spelled the same way everywhere.

The defect: each of these commands printed a shape of its own (the role ``carrier`` through the
gateway, ``CARRIER`` in direct mode, no status after a suspension, the organisation's record without
its keys in direct mode), so a script written against one mode broke on the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.outsiders.conftest import Served

EBL = str(Path(sys.executable).with_name("ebl"))


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Any:
    done = subprocess.run(
        [EBL, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _gateway_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("EBL_GATEWAY_URL", "EBL_TOKEN", "EBL_DATA_DIR"):
        env.pop(name, None)
    return env


def _direct_env(data_dir: Path) -> dict[str, str]:
    env = _gateway_env()
    env |= {"EBL_DATA_DIR": str(data_dir), "EBL_KEYSTORE_KDF_N": "16384", "EBL_CHAIN_BLOCK_TIME": "0.5"}
    return env


def _served_organisation(served: Served, address: str) -> dict[str, Any]:
    with served.client("governance") as governance:
        r = governance.get(f"/v1/governance/organisations/{address}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _session(ebl: Any, identifier: str) -> dict[str, Any]:
    """The five commands, in order, as governance would run them on a new carrier."""
    code = ["--carrier-code", "NMFTA:ZQXJ", "--name", "Zed Quay Lines"]
    added = ebl(["org", "add", identifier, "--role", "carrier", *code, "--json"])
    address = added["address"]
    return {
        "added": added,
        "shown": ebl(["org", "show", identifier, "--json"]),
        "suspended": ebl(["org", "suspend", address, "--json"]),
        "reinstated": ebl(["org", "reinstate", identifier, "--json"]),
        "identity": ebl(["keys", "export", address]),  # JSON always
    }


@pytest.fixture(scope="module")
def identifier() -> str:
    return f"LEI:ZQX{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture(scope="module")
def through_gateway(served: Served, identifier: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The session through the served gateway, with each step's organisation as the gateway serves it
    right after that step."""
    env, cwd = _gateway_env(), tmp_path_factory.mktemp("gateway-cli")
    token = served.credentials["governance"]["token"]
    steps: dict[str, Any] = {}

    def ebl(args: list[str]) -> Any:
        printed = _run(["--gateway", served.url, "--token", token, *args], env, cwd)
        address = printed.get("address") or printed.get("organisation")
        steps[args[1]] = _served_organisation(served, address)
        return printed

    return _session(ebl, identifier), steps


@pytest.fixture(scope="module")
def in_direct_mode(identifier: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same session in direct mode, on a registry of its own (one process per command)."""
    cwd = tmp_path_factory.mktemp("direct-cli")
    env = _direct_env(cwd / "data")
    return _session(lambda args: _run(args, env, cwd), identifier)


def test_org_show_prints_the_organisation_the_gateway_serves(through_gateway: Any) -> None:
    printed, served = through_gateway
    assert printed["shown"] == served["show"]
    assert served["show"]["role"] == "CARRIER" and served["show"]["status"] == "ACTIVE"


def test_org_add_prints_the_served_organisation_with_its_first_key_and_credential(
    served: Served, through_gateway: Any, identifier: str
) -> None:
    printed, after = through_gateway
    added = printed["added"]
    assert {k: added[k] for k in after["add"]} == after["add"]
    assert (added["identifier"], added["name"]) == (identifier, "Zed Quay Lines")
    assert added["key"] == next(k for k in after["add"]["keys"] if k["address"] == added["keyAddress"])
    assert added["carrierCodes"] == [{"carrierCode": "ZQXJ", "carrierCodeListProvider": "NMFTA"}]
    with served.client() as anyone:  # the token printed once works
        headers = {"Authorization": f"Bearer {added['credential']['token']}"}
        assert anyone.get("/v1/members/keys", headers=headers).status_code == 200


def test_suspend_and_reinstate_print_the_served_record_with_its_new_status(through_gateway: Any) -> None:
    printed, after = through_gateway
    for step, done, status in (("suspend", "suspended", "SUSPENDED"), ("reinstate", "reinstated", "ACTIVE")):
        answer = printed[done]
        assert {"address", "role", "status"} <= answer.keys()
        assert answer.items() <= after[step].items(), (answer, after[step])
        assert answer["status"] == status


def test_keys_export_names_the_served_role_status_and_active_keys(through_gateway: Any) -> None:
    printed, after = through_gateway
    identity, served = printed["identity"], after["export"]
    assert (identity["organisation"], identity["role"], identity["status"]) == (
        served["address"],
        served["role"],
        served["status"],
    )
    assert identity["keys"] == [k["address"] for k in served["keys"] if k["status"] == "active"]


_REGISTRY_OWN = {"keyAddress", "index", "addedBlock", "revokedBlock", "credential", "chainId", "registry"}
"""What two registries make differently of the same onboarding: the member index (the served one has
demo members), key addresses and blocks (each makes its own keys), the gateway's credential."""


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if not isinstance(value, dict):
        return value
    is_key = "custodial" in value
    return {
        k: None
        if k in _REGISTRY_OWN or (is_key and k == "address")
        else [None] * len(v)
        if k == "keys" and all(isinstance(item, str) for item in v)
        else _comparable(v)
        for k, v in value.items()
    }


def test_direct_mode_prints_the_same_records_as_gateway_mode(
    through_gateway: Any, in_direct_mode: dict[str, Any]
) -> None:
    """Same identifier, same carrier code, two registries: the same records, field for field, but for
    what each registry makes of its own (key addresses, blocks, index, the gateway's credential)."""
    printed, _ = through_gateway
    for step, direct in in_direct_mode.items():
        assert _comparable(direct) == _comparable(printed[step]), step
    assert in_direct_mode["added"]["address"] == printed["added"]["address"]  # derived from the LEI
    assert in_direct_mode["added"]["credential"] is None  # direct mode issues no API credential
    assert in_direct_mode["identity"]["chainId"] and in_direct_mode["identity"]["registry"]
