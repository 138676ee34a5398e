"""A trader signs title actions with an ordinary Ethereum wallet: ethers 6, viem 2, eth-sig-util.

Found from the trader's side: the typed data handed out for signing carried eBL ids and nonces as bare
JSON numbers near 10^76. JavaScript reads those as rounded floats: ethers 6 threw, viem 2 and
MetaMask's eth-sig-util signed the rounded values, and the gateway then answered a misleading "not an
active key". Here the trader holds its own key (registered over HTTP, never seen by the gateway),
signs what the gateway served with all three libraries in node, and submits.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.dcsa import issued_example
from tests.outsiders.conftest import Party, Served
from tests.outsiders.wallets import LIBRARIES, Wallet, register

JS_SAFE = 2**53 - 1


def _unsafe_integers(value: Any, path: str = "$") -> list[str]:
    """JSON paths of integers a JavaScript client would round (parsed exactly here by Python)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [path] if abs(value) > JS_SAFE else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unsafe_integers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unsafe_integers(v, f"{path}[{i}]")]
    return []


def _safe_json(response: httpx.Response) -> Any:
    """The response body, asserting no integer in it exceeds 2^53."""
    body = response.json()
    assert not _unsafe_integers(body), (_unsafe_integers(body), response.text[:300])
    return body


def _issue(carrier: httpx.Client, to: str, prefix: str) -> dict[str, Any]:
    document = issued_example(transportDocumentReference=(prefix + uuid.uuid4().hex.upper())[:20])
    r = carrier.post("/v1/carriers/ebls", json={"document": document, "issueTo": to})
    assert r.status_code == 201, r.text
    issued: dict[str, Any] = _safe_json(r)
    return issued


@pytest.fixture
def trader(served: Served, tmp_path: Path) -> tuple[Party, Wallet]:
    """A trader holding its own wallet key, registered over HTTP."""
    party, wallet = served.onboard("trader"), Wallet(tmp_path)
    with served.client(party) as client:
        register(client, wallet)
    return party, wallet


def test_a_trader_signs_the_served_typed_data_with_ethers_viem_and_eth_sig_util(
    served: Served, trader: tuple[Party, Wallet]
) -> None:
    party, wallet = trader
    consignee = served.party("consignee").org
    with served.client("carrier") as carrier, served.client(party) as client:
        ebls = [_issue(carrier, party.org, "WL") for _ in LIBRARIES]
        submitted: list[dict[str, Any]] = []
        for library, ebl in zip(LIBRARIES, ebls, strict=True):
            # the hex id works wherever an id does; this is the form a spreadsheet keeps intact
            assert ebl["eblIdHex"] == f"0x{int(ebl['eblId']):064x}"
            r = client.post(
                f"/v1/holders/ebls/{ebl['eblIdHex']}/actions/prepare",
                json={"action": "TRANSFER", "party": consignee},
            )
            assert r.status_code == 200, r.text
            typed = _safe_json(r)
            assert typed["message"]["eblId"] == ebl["eblId"]  # the decimal string, exact
            assert isinstance(typed["message"]["nonce"], str)

            signed = wallet.sign(r.content)  # the body exactly as served
            signatures = {name: signed[name].get("signature") for name in LIBRARIES}
            assert None not in signatures.values(), signed
            assert len(set(signatures.values())) == 1, f"the libraries disagree: {signed}"

            body = {"typedData": typed, "signature": signatures[library]}
            r = client.post("/v1/holders/signed-actions", json=body)
            assert r.status_code == 200, f"{library}: {r.text}"
            op = _safe_json(r)
            assert op["status"] == "final" and op["action"] == "TRANSFER" and op["eblId"] == ebl["eblId"]
            submitted.append(body)

        for ebl in ebls:
            view = _safe_json(client.get(f"/v1/banks/ebls/{ebl['eblId']}/verification"))
            assert view["holder"]["address"] == consignee and view["eblIdHex"] == ebl["eblIdHex"]

        # a replay of any of the three is refused: its nonce is spent
        for body in submitted:
            replay = client.post("/v1/holders/signed-actions", json=body)
            assert replay.status_code == 409 and replay.json()["code"] == "nonce_used", replay.text


def test_a_wallet_that_rounds_the_integers_gets_an_answer_that_says_so(
    served: Served, trader: tuple[Party, Wallet]
) -> None:
    """The old failure, on purpose: a client turns the decimal strings into JavaScript numbers first.
    ethers refuses; viem and eth-sig-util sign rounded values, and the gateway says that the typed
    data signed is not the typed data submitted (not "not an active key")."""
    party, wallet = trader
    with served.client("carrier") as carrier, served.client(party) as client:
        ebl = _issue(carrier, party.org, "WR")
        r = client.post(
            f"/v1/holders/ebls/{ebl['eblId']}/actions/prepare",
            json={"action": "TRANSFER", "party": served.party("consignee").org},
        )
        typed = r.json()
        signed = wallet.sign(r.content, rounded=True)
        assert "error" in signed["ethers"], signed  # ethers 6 will not sign an unsafe integer
        rounded_signature = signed["viem"]["signature"]
        assert rounded_signature == signed["ethSigUtil"]["signature"]

        refused = client.post(
            "/v1/holders/signed-actions", json={"typedData": typed, "signature": rounded_signature}
        )
        assert refused.status_code == 400 and refused.json()["code"] == "bad_signature", refused.text
        detail = refused.json()["detail"]
        assert "does not recover to an active key of " + party.org in detail
        assert "not the typed data submitted" in detail and "round" in detail

        # the same client posting what it holds: the rounded numbers themselves, as JSON.stringify writes
        text = json.dumps({"typedData": typed, "signature": rounded_signature})
        text = re.sub(r'"eblId": "(\d+)"', lambda m: f'"eblId": {float(int(m[1]))!r}', text)
        refused = client.post(
            "/v1/holders/signed-actions", content=text, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 400 and refused.json()["code"] == "bad_signature", refused.text
        assert "eblId" in refused.json()["detail"] and "decimal strings" in refused.json()["detail"]

        # nothing moved
        view = client.get(f"/v1/banks/ebls/{ebl['eblId']}/verification").json()
        assert view["holder"]["address"] == party.org


def test_no_answer_carries_an_integer_a_javascript_client_would_round(
    served: Served, trader: tuple[Party, Wallet]
) -> None:
    party, _ = trader
    with (
        served.client("carrier") as carrier,
        served.client(party) as client,
        served.client("auditor") as auditor,
        served.client("governance") as gov,
    ):
        issued = carrier.post(
            "/v1/carriers/ebls",
            params={"wait": "false"},
            json={
                "document": issued_example(transportDocumentReference="WJ" + party.org[2:12]),
                "issueTo": party.org,
            },
        )
        assert issued.status_code == 202, issued.text
        op = _safe_json(issued)
        while op["status"] != "final":
            assert op["status"] in ("pending", "submitted"), op
            time.sleep(0.05)
            op = _safe_json(carrier.get(issued.headers["Location"]))
        ebl = op["eblId"]
        _safe_json(client.post(f"/v1/holders/ebls/{ebl}/actions/prepare", json={"action": "BLANK_ENDORSE"}))
        _safe_json(client.get(f"/v1/banks/ebls/{ebl}/verification"))
        history = _safe_json(auditor.get(f"/v1/auditors/ebls/{op['eblIdHex']}/history"))
        assert [e["eblId"] for e in history] == [ebl] and history[0]["eblIdHex"] == op["eblIdHex"]
        _safe_json(
            auditor.get(
                "/v1/auditors/events",
                params={"org": party.org, "since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
            )
        )
        _safe_json(client.get("/v1/members/keys"))
        _safe_json(gov.get(f"/v1/governance/organisations/{party.org}"))
