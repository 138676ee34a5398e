"""A member registers its own wallet key over HTTP, lists its keys and revokes one.

Found from the member's side: a trader that wanted to sign with a key it holds itself could not
register that key at all except in-process, through our Python helpers. Here it does it the way an
integrator would: the gateway's challenge, signed by the new key with standard wallet libraries in
node, the organisation's credential as authorisation.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from registry.chain.build import project_root
from tests.outsiders.conftest import Party, Served
from tests.outsiders.wallets import Wallet


def _register(client: httpx.Client, wallet: Wallet) -> httpx.Response:
    """Ask for the challenge of the wallet's key, sign it in node, post the proof."""
    challenge = client.post("/v1/members/keys/challenge", json={"key": wallet.address})
    assert challenge.status_code == 200, challenge.text
    signature = wallet.signature(challenge.content)
    return client.post("/v1/members/keys", json={"typedData": challenge.json(), "signature": signature})


def _keys(client: httpx.Client) -> dict[str, dict[str, object]]:
    r = client.get("/v1/members/keys")
    assert r.status_code == 200, r.text
    return {k["address"]: k for k in r.json()}


@pytest.fixture
def trader(served: Served) -> Party:
    return served.onboard("trader")


def test_a_trader_registers_its_own_wallet_key_lists_it_and_revokes_it(
    served: Served, trader: Party, tmp_path: Path
) -> None:
    wallet = Wallet(tmp_path)
    with served.client(trader) as client:
        (custodial,) = _keys(client).values()  # onboarding gave it one custodial key
        assert custodial["custodial"] is True and custodial["status"] == "active"

        r = _register(client, wallet)
        assert r.status_code == 201, r.text
        added = r.json()
        assert added["address"] == wallet.address
        assert added["status"] == "active" and added["custodial"] is False and added["operationId"]

        keys = _keys(client)
        assert set(keys) == {custodial["address"], wallet.address}
        assert keys[wallet.address]["custodial"] is False and keys[wallet.address]["status"] == "active"

        # governance sees the same keys of the organisation
        with served.client("governance") as gov:
            record = gov.get(f"/v1/governance/organisations/{trader.org}").json()
        assert {k["address"] for k in record["keys"]} == set(keys) and record["keyCount"] == 2

        r = client.post(f"/v1/members/keys/{wallet.address}/revoke")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "revoked" and r.json()["revokedBlock"] is not None
        assert _keys(client)[wallet.address]["status"] == "revoked"

        again = client.post(f"/v1/members/keys/{wallet.address}/revoke")  # nothing more to do
        assert again.status_code == 200 and again.json()["status"] == "revoked", again.text

        # a revoked key never comes back, not even with a fresh proof
        refused = _register(client, wallet)
        assert refused.status_code == 409 and refused.json()["code"] == "duplicate", refused.text


def test_the_same_proof_cannot_register_a_key_twice(served: Served, trader: Party, tmp_path: Path) -> None:
    wallet = Wallet(tmp_path)
    with served.client(trader) as client:
        challenge = client.post("/v1/members/keys/challenge", json={"key": wallet.address})
        body = {"typedData": challenge.json(), "signature": wallet.signature(challenge.content)}
        assert client.post("/v1/members/keys", json=body).status_code == 201
        replay = client.post("/v1/members/keys", json=body)
    assert replay.status_code == 409 and replay.json()["code"] == "duplicate", replay.text


def test_an_organisation_cannot_register_a_key_with_a_proof_made_for_another(
    served: Served, trader: Party, tmp_path: Path
) -> None:
    other = served.onboard("trader")
    wallet = Wallet(tmp_path)
    with served.client(other) as client:
        challenge = client.post("/v1/members/keys/challenge", json={"key": wallet.address})
        signature = wallet.signature(challenge.content)
    with served.client(trader) as client:
        r = client.post("/v1/members/keys", json={"typedData": challenge.json(), "signature": signature})
        assert r.status_code == 400 and r.json()["code"] == "bad_signature", r.text
        assert other.org in r.json()["detail"]
        assert wallet.address not in _keys(client)


def test_a_key_cannot_be_registered_with_a_signature_of_another_key(
    served: Served, trader: Party, tmp_path: Path
) -> None:
    named, signer = Wallet(tmp_path), Wallet(tmp_path)
    with served.client(trader) as client:
        challenge = client.post("/v1/members/keys/challenge", json={"key": named.address})
        r = client.post(
            "/v1/members/keys",
            json={"typedData": challenge.json(), "signature": signer.signature(challenge.content)},
        )
        assert r.status_code == 400 and r.json()["code"] == "bad_signature", r.text
        assert named.address not in _keys(client)


def test_a_proof_whose_typed_data_was_altered_is_refused(
    served: Served, trader: Party, tmp_path: Path
) -> None:
    wallet = Wallet(tmp_path)
    with served.client(trader) as client:
        challenge = client.post("/v1/members/keys/challenge", json={"key": wallet.address})
        typed = challenge.json()
        signature = wallet.signature(challenge.content)
        typed["message"]["deadline"] = str(int(typed["message"]["deadline"]) + 60)
        r = client.post("/v1/members/keys", json={"typedData": typed, "signature": signature})
        assert r.status_code == 400 and r.json()["code"] == "bad_signature", r.text
        typed["message"]["deadline"] = "1"  # long past
        r = client.post("/v1/members/keys", json={"typedData": typed, "signature": signature})
        assert r.status_code == 400 and r.json()["code"] == "expired", r.text


def test_a_member_cannot_revoke_its_last_key_nor_another_organisations_key(
    served: Served, trader: Party
) -> None:
    other = served.onboard("trader")
    with served.client(other) as client:
        (other_key,) = _keys(client)
    with served.client(trader) as client:
        (only,) = _keys(client)
        last = client.post(f"/v1/members/keys/{only}/revoke")
        assert last.status_code == 409 and last.json()["code"] == "last_key", last.text
        foreign = client.post(f"/v1/members/keys/{other_key}/revoke")
        assert foreign.status_code == 404 and foreign.json()["code"] == "not_found", foreign.text
        assert _keys(client)[only]["status"] == "active"


def test_only_member_credentials_manage_member_keys(served: Served) -> None:
    with served.client("auditor") as auditor:
        assert auditor.get("/v1/members/keys").json()["code"] == "forbidden_role"
    with served.client() as anonymous:
        r = anonymous.get("/v1/members/keys")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


# --- the same from the terminal ---------------------------------------------------------------

EBL = project_root() / ".venv" / "bin" / "ebl"


def _ebl(served: Served, party: Party, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EBL_")} | {"COLUMNS": "250"} | env
    return subprocess.run(
        [str(EBL), "--gateway", served.url, "--token", party.token, *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_trader_manages_its_own_keys_with_the_ebl_cli(
    served: Served, trader: Party, tmp_path: Path
) -> None:
    # a key exported by a wallet as an Ethereum JSON keystore (V3), unlocked by its passphrase
    wallet = Wallet(tmp_path)
    keyfile = tmp_path / "wallet.json"
    keyfile.write_text(
        json.dumps(Account.encrypt(wallet.private_key, "correct horse", kdf="scrypt", iterations=2**14))
    )
    done = _ebl(
        served, trader, "keys", "add", "--keyfile", str(keyfile), "--json", EBL_KEY_PASSPHRASE="correct horse"
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["address"] == wallet.address
    assert "correct horse" not in done.stdout + done.stderr

    # a key held elsewhere (a hardware wallet, a browser): the challenge out, the signature back in
    other = Wallet(tmp_path)
    done = _ebl(served, trader, "keys", "challenge", other.address)
    assert done.returncode == 0, done.stderr
    challenge = tmp_path / "challenge.json"
    challenge.write_text(done.stdout)
    signature = other.signature(done.stdout)
    done = _ebl(
        served, trader, "keys", "add", "--typed-data", str(challenge), "--signature", signature, "--json"
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["custodial"] is False

    done = _ebl(served, trader, "keys", "list", "--json")
    assert done.returncode == 0, done.stderr
    keys = {k["address"]: k for k in json.loads(done.stdout)}
    assert {wallet.address, other.address} < set(keys) and len(keys) == 3
    done = _ebl(served, trader, "keys", "list")
    assert done.returncode == 0 and wallet.address in done.stdout and "member's own" in done.stdout

    done = _ebl(served, trader, "keys", "revoke", other.address, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "revoked"

    # a refusal is a code and a message, exit 1, never a traceback
    done = _ebl(served, trader, "keys", "add", "--typed-data", str(challenge), "--signature", signature)
    assert done.returncode == 1 and "duplicate" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
