"""Client-signed mode: the organisation signs EIP-712 typed data with a key the gateway never sees.

The key is authorised on chain by the organisation's own custodial key (ADD_KEY through the registry
layer: there is no ADD_KEY endpoint); from then on only its signatures travel over HTTP.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Stages, add_client_key, assert_problem, ok, sign_hex


@pytest.fixture(scope="module")
def stages(gateway, members) -> Iterator[Stages]:
    s = Stages(gateway, members)
    yield s
    s.close()


@pytest.fixture(scope="module")
def shipper_key(gateway, members) -> Any:
    """A key of the shipper's organisation that only this test module holds."""
    return add_client_key(gateway, members["shipper"].org)


def _prepared_transfer(stages: Stages, members, ebl: str, to: str = "consignee") -> dict[str, Any]:
    body = {"action": "TRANSFER", "party": members[to].org}
    return stages.post("shipper", f"/v1/holders/ebls/{ebl}/actions/prepare", body)


def _holder(stages: Stages, ebl: str) -> str:
    r = stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification")
    return str(ok(r)["holder"]["address"])


def test_shipper_transfers_with_a_key_the_gateway_never_sees(gateway, members, stages, shipper_key):
    """prepare → sign with the client-held key → submit: 200 final and the consignee now holds."""
    shipper = members["shipper"]
    custodial = {k.address for k in gateway.runtime.keystore.list_keys(shipper.org)}
    assert shipper_key.address not in custodial
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    assert typed["primaryType"] == "TitleAction" and typed["message"]["eblId"] in (ebl, int(ebl))
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": typed, "signature": sign_hex(shipper_key, typed)}
    )
    body = ok(r)
    assert body["status"] == "final" and body["action"] == "TRANSFER" and body["eblId"] == ebl
    assert _holder(stages, ebl) == members["consignee"].org


def test_signature_by_a_key_of_another_organisation_is_bad_signature(gateway, members, stages):
    """The shipper submits typed data signed with the consignee's client key: 400 bad_signature."""
    consignee_key = add_client_key(gateway, members["consignee"].org)
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": typed, "signature": sign_hex(consignee_key, typed)}
    )
    assert_problem(r, 400, "bad_signature")
    assert _holder(stages, ebl) == members["shipper"].org


def test_typed_data_tampered_after_signing_is_bad_signature(members, stages, shipper_key):
    """Changing the party after signing makes the signature recover to a stranger: 400 bad_signature."""
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    signature = sign_hex(shipper_key, typed)
    tampered = copy.deepcopy(typed)
    tampered["message"]["party"] = members["bank"].org
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": tampered, "signature": signature}
    )
    assert_problem(r, 400, "bad_signature")
    assert _holder(stages, ebl) == members["shipper"].org


def test_typed_data_for_another_chain_is_bad_signature(members, stages, shipper_key):
    """Typed data signed for another chain id (same message) is refused: 400 bad_signature."""
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    typed["domain"]["chainId"] = int(typed["domain"]["chainId"]) + 1
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": typed, "signature": sign_hex(shipper_key, typed)}
    )
    assert_problem(r, 400, "bad_signature")


def test_signature_with_an_expired_deadline_is_refused_as_expired(members, stages, shipper_key):
    """A deadline in the past, correctly signed, passes the gateway and the chain refuses it: 400 expired."""
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    typed["message"]["deadline"] = int(time.time()) - 3600
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": typed, "signature": sign_hex(shipper_key, typed)}
    )
    body = assert_problem(r, 400, "expired")
    assert body["error"] == "TitleExpiredSignature"
    assert _holder(stages, ebl) == members["shipper"].org


def test_replayed_signed_action_without_idempotency_key_is_nonce_used(members, stages, shipper_key):
    """The same signed transfer posted twice: the second is 409 nonce_used and title moved once."""
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    body = {"typedData": typed, "signature": sign_hex(shipper_key, typed)}
    shipper = stages.client("shipper")
    assert ok(shipper.post("/v1/holders/signed-actions", json=body))["status"] == "final"
    problem = assert_problem(shipper.post("/v1/holders/signed-actions", json=body), 409, "nonce_used")
    assert problem["error"] == "TitleNonceUsed"
    assert _holder(stages, ebl) == members["consignee"].org


def test_replayed_signed_action_with_the_same_idempotency_key_returns_the_first_operation(
    members, stages, shipper_key
):
    """With the same Idempotency-Key the journal answers the first operation; a new key hits the nonce."""
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    body = {"typedData": typed, "signature": sign_hex(shipper_key, typed)}
    shipper = stages.client("shipper")
    key = f"signed-{ebl[:16]}-{time.time_ns()}"
    first = ok(shipper.post("/v1/holders/signed-actions", json=body, headers={"Idempotency-Key": key}))
    again = ok(shipper.post("/v1/holders/signed-actions", json=body, headers={"Idempotency-Key": key}))
    assert first["operationId"] == again["operationId"] and again["status"] == "final"
    other = shipper.post("/v1/holders/signed-actions", json=body, headers={"Idempotency-Key": key + "-b"})
    assert_problem(other, 409, "nonce_used")


def test_signature_by_a_key_never_registered_on_chain_is_bad_signature(members, stages):
    """A fresh key that was never added for the shipper: 400 bad_signature."""
    from eth_account import Account

    from registry.keys import LocalSigner

    stranger = LocalSigner(bytes(Account.create().key))
    ebl = stages.issued()
    typed = _prepared_transfer(stages, members, ebl)
    r = stages.client("shipper").post(
        "/v1/holders/signed-actions", json={"typedData": typed, "signature": sign_hex(stranger, typed)}
    )
    assert_problem(r, 400, "bad_signature")


def _post_raw(gateway, token: str, body: dict[str, Any]) -> Any:
    """POST a body that may hold non-standard JSON numbers (Infinity) on a fresh connection."""
    with gateway.client(token) as c:
        return c.post(
            "/v1/holders/signed-actions",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )


def test_infinite_number_in_typed_data_is_a_client_error(gateway, members, stages, shipper_key):
    """typedData.message.action = Infinity is malformed typed data: 400 bad_signature, not 500."""
    typed = _prepared_transfer(stages, members, stages.issued())
    signature = sign_hex(shipper_key, typed)
    typed["message"]["action"] = float("inf")
    r = _post_raw(gateway, members["shipper"].token, {"typedData": typed, "signature": signature})
    assert_problem(r, 400, "bad_signature")
    assert gateway.client().get("/healthz").status_code == 200


def test_integer_data_field_in_typed_data_is_a_client_error(gateway, members, stages, shipper_key):
    """typedData.message.data = 2**62 (not a bytes32 hex string) is refused with 400, not 500."""
    typed = _prepared_transfer(stages, members, stages.issued())
    signature = sign_hex(shipper_key, typed)
    typed["message"]["data"] = 2**62
    r = _post_raw(gateway, members["shipper"].token, {"typedData": typed, "signature": signature})
    assert_problem(r, 400, "bad_signature")
