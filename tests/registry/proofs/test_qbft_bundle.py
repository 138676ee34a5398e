"""Audit bundles trusted by QBFT commit seals instead of the registry's signature.

A real bundle is built on the session chain (an eBL issued, endorsed and transferred, every action a
relayed, EIP-712-signed batch entry), then its headers are re-sealed as a four-validator QBFT network
would have sealed them (tests/registry/proofs/qbft_sealing.py); the receipts and transaction proofs are
untouched, since they prove against ``receiptsRoot`` / ``transactionsRoot``. The verifier is given the
validators as ``deploy/besu`` writes them into the network's genesis.
"""

from __future__ import annotations

import copy
import json
import subprocess
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.besu.network import NetworkSpec, genesis
from registry.chain.qbft import Vote
from registry.proofs.audit import verify_bundle
from registry.proofs.errors import ProofError, ProofReason
from registry.proofs.headers import Header
from registry.proofs.seals import ValidatorTrust, load_validators, verify_sealed
from tests.registry.proofs.qbft_sealing import VALIDATORS, Sealing, address, reseal_bundle, sealed_fields
from tests.support.ebl_cli import run_ebl
from tests.support.mutations import changed, leaves


@pytest.fixture
def trust(w3) -> ValidatorTrust:
    """The validators, read from the genesis file deploy/besu generates for them."""
    return load_validators(genesis(NetworkSpec(chain_id=w3.eth.chain_id), VALIDATORS))


def _refused(bundle: dict[str, Any], trust: ValidatorTrust) -> ProofError:
    with pytest.raises(ProofError) as refused:
        verify_bundle(bundle, validators=trust)
    return refused.value


def test_a_sealed_bundle_verifies_with_no_registry_signature(bundle, trust, bank):
    sealed = reseal_bundle(bundle)
    assert "head" not in sealed and len(sealed["headers"]) >= 3
    checked = verify_bundle(sealed, validators=trust)
    assert [t.action for t in checked.timeline] == ["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER"]
    assert checked.holder == bank.org and checked.signed == checked.keys_proven == 3
    assert checked.kid is None
    assert checked.trust == "QBFT seals of 4 validators (quorum 3, from the genesis)"


def test_without_a_validator_set_the_sealed_bundle_has_nothing_to_trust(bundle):
    with pytest.raises(ProofError) as refused:
        verify_bundle(reseal_bundle(bundle))
    assert refused.value.reason == "malformed" and "nothing to trust" in str(refused.value)


def test_the_embedded_bundle_is_not_taken_for_a_qbft_one(bundle, trust):
    """Its headers hash the plain way and carry no validators: refused on the first header."""
    refused = _refused(bundle, trust)
    assert refused.reason == "header" and "QBFT" in str(refused)


def test_two_seals_of_four_are_too_few(bundle, trust):
    refused = _refused(reseal_bundle(bundle, {1: Sealing(signers=("Alba", "Doha"))}), trust)
    assert refused.reason == "commit_seals"
    assert "2 commit seals; 3 of 4 validators must seal a block" in str(refused)


def test_a_seal_by_a_non_validator_is_refused(bundle, trust):
    refused = _refused(reseal_bundle(bundle, {0: Sealing(signers=("Alba", "Brno", "Elst"))}), trust)
    assert refused.reason == "commit_seals"
    assert f"non-validators: {address('Elst')}" in str(refused)


def test_a_validator_sealing_twice_is_counted_once_and_refused(bundle, trust):
    refused = _refused(reseal_bundle(bundle, {2: Sealing(signers=("Cork", "Brno", "Cork"))}), trust)
    assert refused.reason == "commit_seals"
    assert f"duplicated commit seals by {address('Cork')}" in str(refused)


@pytest.mark.parametrize(("round_", "seal_round"), [(2, 1), (0, 3), (40, 39)])
def test_a_seal_replayed_from_another_round_is_named(bundle, trust, round_, seal_round):
    """Seals made in one round put into a header of another: the block hash is the same (the round is
    zeroed), the seal digest is not, so they recover strangers; the verifier finds their round."""
    refused = _refused(reseal_bundle(bundle, {1: Sealing(round=round_, seal_round=seal_round)}), trust)
    assert refused.reason == "commit_seals"
    named = f"commit seal 0 was made for round {seal_round}, not for the header's round {round_} (a replayed"
    assert named in str(refused)


def test_a_header_with_valid_seals_that_breaks_the_parent_link_is_refused(bundle, trust):
    """Header 1 sealed properly by a quorum, but over the parent hash the embedded chain gave it."""
    original = bundle["headers"][1]
    forged = reseal_bundle(bundle)
    forged["headers"][1] = sealed_fields(original, Sealing(), original["fields"]["parentHash"])
    assert verify_sealed([Header.from_json(forged["headers"][1], qbft=True)], trust).committers
    refused = _refused(forged, trust)
    assert refused.reason == "header_chain"
    assert f"header {original_number(original)} does not link" in str(refused)


def original_number(header: dict[str, Any]) -> int:
    return int(header["fields"]["number"], 16)


def test_a_changed_validator_set_inside_the_bundle_is_refused_not_followed(bundle, trust):
    """From header 2 on the headers list a fifth validator (a vote passed): votes are not followed."""
    five = (*VALIDATORS, address("Elst"))
    changed = {i: Sealing(validators=five) for i in range(2, len(bundle["headers"]))}
    refused = _refused(reseal_bundle(bundle, changed), trust)
    assert refused.reason == "validator_set"
    assert f"added ['{address('Elst')}']" in str(refused) and "votes are not followed" in str(refused)


def test_a_vote_that_does_not_change_the_set_is_reported(bundle, trust):
    sealed = reseal_bundle(bundle, {0: Sealing(vote=Vote(address("Elst"), add=True))})
    checked = verify_bundle(sealed, validators=trust)
    assert checked.votes == [
        f"block {original_number(sealed['headers'][0])}: a vote to add {address('Elst')} (set unchanged)"
    ]


def test_a_genesis_of_another_chain_is_refused(bundle, w3):
    other = load_validators(genesis(NetworkSpec(chain_id=w3.eth.chain_id + 1), VALIDATORS))
    refused = _refused(reseal_bundle(bundle), other)
    assert refused.reason == "validator_set" and "of chain" in str(refused)


def test_both_roots_are_checked_when_both_are_given(bundle, trust, bundle_keys):
    """A sealed bundle whose head the registry signed over the QBFT hash: both roots named."""
    keys = bundle_keys
    sealed = reseal_bundle(bundle)
    head = sealed["headers"][-1]
    sealed["head"] = keys.signer.sign(
        {
            "type": "ebl-bundle-head/1",
            "chainId": sealed["chainId"],
            "registry": sealed["registry"],
            "eblId": sealed["eblId"],
            "number": original_number(head),
            "hash": head["hash"],
            "actionCount": len(sealed["actions"]),
        }
    )
    alone = verify_bundle(sealed, keys.public_jwks())  # a signed head is trusted for QBFT hashes too
    assert alone.trust == f"registry signature (key {alone.kid})"
    checked = verify_bundle(sealed, keys.public_jwks(), validators=trust)
    assert checked.trust.startswith("QBFT seals of 4 validators") and checked.kid is not None
    assert checked.trust.endswith(f"and registry signature (key {checked.kid})")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ebl("audit", "verify", *args)


def test_ebl_audit_verify_with_the_network_genesis_needs_no_jwks(bundle, w3, tmp_path):
    (tmp_path / "genesis.json").write_text(
        json.dumps(genesis(NetworkSpec(chain_id=w3.eth.chain_id), VALIDATORS))
    )
    (tmp_path / "validators.json").write_text(json.dumps(list(VALIDATORS)))
    sealed = reseal_bundle(bundle)
    (tmp_path / "bundle.json").write_text(json.dumps(sealed))
    done = _cli(str(tmp_path / "bundle.json"), "--qbft-genesis", str(tmp_path / "genesis.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED audit bundle" in done.stdout
    assert "trust: QBFT seals of 4 validators (quorum 3, from the genesis)" in done.stdout

    done = _cli(str(tmp_path / "bundle.json"), "--validators", str(tmp_path / "validators.json"), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        json.loads(done.stdout)["trust"] == "QBFT seals of 4 validators (quorum 3, from the validator list)"
    )

    short = reseal_bundle(bundle, {0: Sealing(signers=("Alba",))})
    (tmp_path / "short.json").write_text(json.dumps(short))
    done = _cli(str(tmp_path / "short.json"), "--qbft-genesis", str(tmp_path / "genesis.json"))
    assert done.returncode == 1 and "bundle_commit_seals" in done.stdout + done.stderr

    done = _cli(str(tmp_path / "bundle.json"))
    assert done.returncode != 0 and "--jwks" in done.stdout + done.stderr


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_leaf_of_a_sealed_bundle_is_refused(bundle, trust, data):
    """One leaf changed anywhere in a sealed bundle (a seal, a validator, a header field, a proof node,
    a key proof, the document): refused under the validators alone, with a reason from the stable set."""
    sealed = reseal_bundle(bundle)
    path = data.draw(st.sampled_from(leaves(sealed)))
    forged = copy.deepcopy(sealed)
    target = forged
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = changed(target[path[-1]], data.draw(st.integers(min_value=0, max_value=10_000)))
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, validators=trust)
    assert refused.value.reason in get_args(ProofReason), refused.value
