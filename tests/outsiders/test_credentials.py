"""Governance lists and revokes API credentials over HTTP and the CLI; credentials may expire; every 401
tells the client how to authenticate (RFC 6750).

Found from governance's side: a leaked token could not be revoked over HTTP at all, and even in-process a
revoked token kept working for up to 60 s (the verified-token cache); 401s carried no
``WWW-Authenticate`` header.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from registry.chain.build import project_root
from tests.outsiders.conftest import Served

EBL = project_root() / ".venv" / "bin" / "ebl"


def _auditor(gov: httpx.Client, **extra: Any) -> dict[str, Any]:
    r = gov.post("/v1/governance/credentials", json={"name": "Port customs", "role": "auditor", **extra})
    assert r.status_code == 201, r.text
    issued: dict[str, Any] = r.json()
    return issued


def _as(served: Served, token: str) -> httpx.Response:
    """An auditor's read with ``token``."""
    params = {
        "org": served.party("carrier").org,
        "since": "2020-01-01T00:00:00Z",
        "until": "2100-01-01T00:00:00Z",
    }
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as c:
        return c.get("/v1/auditors/events", params=params)


def test_governance_revokes_a_leaked_token_and_the_very_next_request_is_refused(served: Served) -> None:
    with served.client("governance") as gov:
        issued = _auditor(gov)
        assert _as(served, issued["token"]).status_code == 200  # verified, and remembered by the gateway

        listed = {c["credentialId"]: c for c in gov.get("/v1/governance/credentials").json()}
        assert listed[issued["credentialId"]]["status"] == "active"
        assert all("token" not in c and "secretHash" not in c for c in listed.values())
        assert not any(issued["token"] in json.dumps(c) for c in listed.values())

        r = gov.post(f"/v1/governance/credentials/{issued['credentialId']}/revoke")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "revoked" and r.json()["revokedAt"]

        refused = _as(served, issued["token"])
        assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated", refused.text
        challenge = refused.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
        assert "revoked" in refused.json()["detail"]

        again = gov.post(f"/v1/governance/credentials/{issued['credentialId']}/revoke")
        assert again.status_code == 200 and again.json()["status"] == "revoked"
        revoked = gov.get("/v1/governance/credentials", params={"status": "revoked"}).json()
        assert issued["credentialId"] in {c["credentialId"] for c in revoked}
        unknown = gov.post("/v1/governance/credentials/0123456789abcdef/revoke")
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_a_credential_stops_working_at_its_expiry(served: Served) -> None:
    expires_at = datetime.now(UTC) + timedelta(seconds=6)  # room for argon2 on a busy machine
    with served.client("governance") as gov:
        issued = _auditor(gov, expiresAt=expires_at.isoformat())
        assert issued["expiresAt"]
        assert _as(served, issued["token"]).status_code == 200
        past = gov.post(
            "/v1/governance/credentials",
            json={"name": "x", "role": "auditor", "expiresAt": "2001-01-01T00:00:00Z"},
        )
        assert past.status_code == 422, past.text

        time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
        refused = _as(served, issued["token"])
        assert refused.status_code == 401 and "expired" in refused.json()["detail"], refused.text
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        listed = {c["credentialId"]: c for c in gov.get("/v1/governance/credentials").json()}
        assert listed[issued["credentialId"]]["status"] == "expired"


def test_every_401_carries_a_bearer_challenge(served: Served) -> None:
    with served.client() as anonymous:
        missing = anonymous.get("/v1/members/keys")
        wrong = anonymous.get(
            "/v1/members/keys", headers={"Authorization": "Bearer ebl_0000000000000000.nope"}
        )
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="ebl-registry"'
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]


def test_only_governance_lists_or_revokes_credentials(served: Served) -> None:
    with served.client("auditor") as auditor, served.client("bank") as bank:
        for client in (auditor, bank):
            assert client.get("/v1/governance/credentials").json()["code"] == "forbidden_role"
            me = served.credentials["bank"]["token"].removeprefix("ebl_").split(".")[0]
            r = client.post(f"/v1/governance/credentials/{me}/revoke")
            assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    with served.client("bank") as bank:  # still works
        assert bank.get("/v1/members/keys").status_code == 200


def _ebl(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBL_")} | {"COLUMNS": "250"}
    token = served.credentials["governance"]["token"]
    return subprocess.run(
        [str(EBL), "--gateway", served.url, "--token", token, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_governance_issues_lists_and_revokes_credentials_with_the_ebl_cli(served: Served) -> None:
    done = _ebl(served, "credential", "Harbour auditor", "--role", "auditor", "--expires", "1h", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    issued = json.loads(done.stdout)
    assert issued["token"] and issued["expiresAt"]

    done = _ebl(served, "credentials", "list", "--role", "auditor", "--json")
    assert done.returncode == 0, done.stderr
    listed = {c["credentialId"]: c for c in json.loads(done.stdout)}
    assert listed[issued["credentialId"]]["status"] == "active"
    assert issued["token"] not in done.stdout

    done = _ebl(served, "credentials", "revoke", issued["credentialId"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "revoked"
    assert _as(served, issued["token"]).status_code == 401

    done = _ebl(served, "credentials", "list")  # the table, for a person
    assert done.returncode == 0 and issued["credentialId"] in done.stdout, done.stderr

    done = _ebl(served, "credentials", "revoke", "0123456789abcdef")
    assert done.returncode == 1 and "not_found" in done.stdout + done.stderr
