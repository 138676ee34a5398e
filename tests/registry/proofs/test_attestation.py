"""Title attestations signed on the session chain and verified offline: round trip, every mutation
refused with its reason, key rotation, and the age of a statement about an old block."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.documents import document_hash
from registry.proofs.attestation import Attestation, Attester
from registry.proofs.errors import AttestationError
from registry.proofs.keyring import AttestationKeys
from registry.proofs.verify import verify_attestation
from tests.fixtures.dcsa import issued_example
from tests.support.mutations import leaves

# What the payload states that only the registry's signature vouches for (not on chain).
SIGNED_ONLY = ("issuedAt", "chainId", "legalName", "lei")


@pytest.fixture
def keys(tmp_path: Path) -> AttestationKeys:
    return AttestationKeys(tmp_path / "data")


@pytest.fixture
def attester(w3, service, registry, keys) -> Attester:
    return Attester(w3, registry.address, w3.eth.chain_id, service.head, keys)


def test_a_bank_files_an_attestation_and_a_court_verifies_it_offline_ten_days_later(
    service, attester, keys, carrier, shipper, bank
):
    """The carrier issues to the shipper, who endorses and hands the bill to the bank; the bank's
    attestation proves holder, endorsee, carrier and status, and says how old it is."""
    doc = issued_example("regular", transportDocumentReference="ATTEST-1")
    issued = service.issue(carrier.org, doc, shipper.org)
    service.endorse(shipper.org, issued.ebl_id, bank.org)
    service.transfer(shipper.org, issued.ebl_id, bank.org)
    signed = attester.attest(int(issued.ebl_id), presented_hash=document_hash(doc))
    later = datetime.fromtimestamp(signed.payload["block"]["timestamp"], UTC) + timedelta(days=10)

    checked = verify_attestation(signed.jws, keys.public_jwks(), now=later)

    assert checked.title.holder == checked.title.endorsee == bank.org
    assert checked.title.carrier == carrier.org and checked.title.status.name == "ACTIVE"
    assert checked.payload["documentMatches"] is True
    assert checked.age_statement() == (
        f"a statement about block {checked.header.number} at {checked.block_time.isoformat()}, "
        "10.0 days ago — not about now"
    )


def _mutated(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return "1"
    text = str(value)
    if text.startswith("0x") and len(text) > 2:
        last = text[-1].lower()
        return text[:-1] + ("1" if last != "1" else "2")
    if text.isdigit():
        return str(int(text) + 1)
    return text + "X"


def _expected(path: tuple[Any, ...]) -> set[str]:
    top = path[0]
    if top in ("header", "block"):
        return {"header"}
    if top == "registry":
        return {"account_proof"}
    if top == "proof":
        if path[1] == "storageProof":
            return {"storage_proof"}
        return {"account_proof"}
    if top == "eblId":
        return {"storage_proof"}
    if top == "type":
        return {"malformed"}
    return {"claims", "malformed"}


@pytest.fixture
def filed(service, attester, carrier, shipper) -> Attestation:
    doc = issued_example("regular", transportDocumentReference="ATTEST-M")
    issued = service.issue(carrier.org, doc, shipper.org)
    return attester.attest(int(issued.ebl_id), presented_hash=document_hash(doc))


def test_every_proven_field_changed_and_re_signed_is_refused_with_its_reason(filed, keys):
    """Even a registry key signing a doctored payload cannot make it verify: every field the chain proves,
    changed one at a time, is refused, and the reason names the check (header, proofs, claims)."""
    paths = [p for p in leaves(filed.payload) if not any(part in SIGNED_ONLY for part in p)]
    assert len(paths) > 40
    jwks = keys.public_jwks()
    for path in paths:
        payload = copy.deepcopy(filed.payload)
        node = payload
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = _mutated(node[path[-1]])
        with pytest.raises(AttestationError) as refused:
            verify_attestation(keys.signer.sign(payload), jwks)
        assert refused.value.reason in _expected(path), (path, refused.value.reason, str(refused.value))


def test_signed_only_fields_are_reported_as_such(filed, keys):
    checked = verify_attestation(filed.jws, keys.public_jwks())
    said = " ".join(checked.signed_only())
    assert f"chain id {filed.payload['chainId']}" in said and "signed at" in said


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_character_of_the_jws_is_refused(filed, keys, data):
    """A changed character anywhere in the compact JWS (header, payload or signature) never verifies."""
    jws = filed.jws
    i = data.draw(st.integers(0, len(jws) - 1), label="index")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    c = data.draw(st.sampled_from([a for a in alphabet if a != jws[i]]), label="char")
    with pytest.raises(AttestationError) as refused:
        verify_attestation(jws[:i] + c + jws[i + 1 :], keys.public_jwks())
    assert refused.value.reason in {"malformed", "signature", "unknown_key"}


def test_an_attestation_from_a_rotated_out_key_still_verifies_but_not_without_that_key(filed, keys, attester):
    old_kid = filed.kid
    new_kid = keys.rotate()
    assert new_kid != old_kid and keys.signer.kid == new_kid
    jwks = keys.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    assert verify_attestation(filed.jws, jwks).kid == old_kid
    assert attester.attest(int(filed.payload["eblId"])).kid == new_kid

    without_old = {"keys": [k for k in jwks["keys"] if k["kid"] != old_kid]}
    with pytest.raises(AttestationError) as refused:
        verify_attestation(filed.jws, without_old)
    assert refused.value.reason == "unknown_key"

    keys.retire(old_kid)
    assert [k["kid"] for k in keys.public_jwks()["keys"]] == [new_kid]


def test_an_es256_key_signs_attestations_too(tmp_path, w3, service, registry, filed):
    keys = AttestationKeys(tmp_path / "es", "ES256")
    signed = Attester(w3, registry.address, w3.eth.chain_id, service.head, keys).attest(
        int(filed.payload["eblId"])
    )
    assert signed.alg == "ES256" and verify_attestation(signed.jws, keys.public_jwks()).alg == "ES256"
    assert json.loads(json.dumps(keys.public_jwks()))["keys"][0]["crv"] == "P-256"
