"""The acting key's standing at its block, proven from the registry's storage (``keyProof``)."""

from __future__ import annotations

import copy

import pytest
from eth_account import Account

from registry.proofs.audit import verify_bundle
from registry.proofs.errors import ProofError
from registry.proofs.headers import Header
from registry.proofs.key_proofs import prove_key, read_key_proof


def test_every_acting_key_is_proven_active_for_its_organisation(bundle, bundle_keys):
    checked = verify_bundle(bundle, bundle_keys.public_jwks())
    assert checked.keys_proven == len(checked.timeline) == 3 and checked.key_notes == []


def test_another_actions_key_proof_is_refused(bundle, bundle_keys):
    """The carrier's proof (issuance) put under the shipper's endorsement proves other slots."""
    forged = copy.deepcopy(bundle)
    forged["actions"][1]["keyProof"] = bundle["actions"][0]["keyProof"]
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, bundle_keys.public_jwks())
    assert refused.value.reason in ("storage_proof", "account_proof")


def test_a_missing_key_proof_is_refused(bundle, bundle_keys):
    forged = copy.deepcopy(bundle)
    del forged["actions"][2]["keyProof"]
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, bundle_keys.public_jwks())
    assert refused.value.reason == "account_proof" and "action 2" in str(refused.value)


def _head(w3) -> Header:
    block = w3.provider.make_request("eth_getBlockByNumber", ["latest", False])["result"]
    return Header.from_rpc(block)


def test_a_key_of_another_organisation_is_refused(w3, deployment, bundle, shipper, bank):
    """The shipper's key, claimed for the bank: the proven record names the shipper."""
    head = _head(w3)
    key = bundle["actions"][1]["actorKey"]
    proof = read_key_proof(w3, deployment.address, key, bank.org, head.hash)
    with pytest.raises(ProofError) as refused:
        prove_key(head, deployment.address, bank.org, key, proof, "action 1")
    assert refused.value.reason == "action_key" and f"not a key of {bank.org}" in str(refused.value)
    assert (
        prove_key(
            head,
            deployment.address,
            shipper.org,
            key,
            read_key_proof(w3, deployment.address, key, shipper.org, head.hash),
            "action 1",
        )
        is None
    )


def test_a_key_never_registered_is_refused(w3, deployment, shipper):
    head = _head(w3)
    stranger = Account.create().address
    proof = read_key_proof(w3, deployment.address, stranger, shipper.org, head.hash)
    with pytest.raises(ProofError) as refused:
        prove_key(head, deployment.address, shipper.org, stranger, proof, "action 0")
    assert refused.value.reason == "action_key"
