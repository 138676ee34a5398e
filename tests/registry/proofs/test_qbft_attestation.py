"""Title attestations whose one header is trusted by QBFT commit seals.

An attestation is signed on the session chain; its header is re-sealed as a four-validator QBFT
network would have sealed it (the state root, so the account and storage proofs, unchanged) and the
payload is re-signed. The verifier, given the validators, checks the seals; with no JWK set it reads
the payload unsigned, and the proofs alone still bind every claim about the record.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deploy.besu.network import NetworkSpec, genesis
from registry.documents import document_hash
from registry.proofs.attestation import Attester
from registry.proofs.errors import AttestationError
from registry.proofs.keyring import AttestationKeys
from registry.proofs.seals import ValidatorTrust, load_validators
from registry.proofs.verify import verify_attestation
from tests.fixtures.dcsa import issued_example
from tests.registry.proofs.qbft_sealing import VALIDATORS, Sealing, sealed_fields
from tests.support.ebl_cli import run_ebl


@pytest.fixture
def keys(tmp_path: Path) -> AttestationKeys:
    return AttestationKeys(tmp_path / "data")


@pytest.fixture
def payload(w3, service, registry, keys, carrier, shipper, bank) -> dict[str, Any]:
    """The payload of an attestation of a bill the bank holds, taken on the embedded chain."""
    attester = Attester(w3, registry.address, w3.eth.chain_id, service.head, keys)
    doc = issued_example("regular", transportDocumentReference="QBFT-ATTEST")
    issued = service.issue(carrier.org, doc, shipper.org)
    service.endorse(shipper.org, issued.ebl_id, bank.org)
    service.transfer(shipper.org, issued.ebl_id, bank.org)
    return attester.attest(int(issued.ebl_id), presented_hash=document_hash(doc)).payload


@pytest.fixture
def trust(w3) -> ValidatorTrust:
    return load_validators(genesis(NetworkSpec(chain_id=w3.eth.chain_id), VALIDATORS))


def _sealed(payload: dict[str, Any], how: Sealing | None = None) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    out["header"] = sealed_fields(payload["header"], how or Sealing(), None)
    out["block"]["hash"] = out["header"]["hash"]
    return out


def test_a_sealed_attestation_verifies_with_no_jwk_set(payload, keys, trust, bank):
    checked = verify_attestation(keys.signer.sign(_sealed(payload)), None, validators=trust)
    assert checked.title.holder == bank.org and checked.kid is None
    assert checked.trust == "QBFT seals of 4 validators (quorum 3, from the genesis)"
    assert checked.signed_only()[0] == "(the signature was not checked: stated, not vouched for)"


def test_with_both_roots_both_are_checked_and_named(payload, keys, trust):
    compact = keys.signer.sign(_sealed(payload))
    alone = verify_attestation(compact, keys.public_jwks())  # a signature is trusted for QBFT hashes too
    assert alone.trust == f"registry signature (key {alone.kid})"
    checked = verify_attestation(compact, keys.public_jwks(), validators=trust)
    assert checked.kid is not None
    assert checked.trust == (
        f"QBFT seals of 4 validators (quorum 3, from the genesis) and registry signature (key {checked.kid})"
    )


def test_too_few_seals_are_refused(payload, keys, trust):
    compact = keys.signer.sign(_sealed(payload, Sealing(signers=("Alba", "Brno"))))
    with pytest.raises(AttestationError) as refused:
        verify_attestation(compact, None, validators=trust)
    assert refused.value.reason == "commit_seals" and "2 commit seals; 3 of 4" in str(refused.value)


def test_an_embedded_header_is_not_taken_for_a_sealed_one(payload, keys, trust):
    with pytest.raises(AttestationError) as refused:
        verify_attestation(keys.signer.sign(payload), None, validators=trust)
    assert refused.value.reason == "header"


def test_unsigned_claims_are_still_bound_by_the_proofs(payload, keys, trust, shipper):
    """Without a signature check, a payload claiming another holder is refused by the storage proof."""
    forged = _sealed(payload)
    forged["holder"] = {**forged["holder"], "address": shipper.org}
    with pytest.raises(AttestationError) as refused:
        verify_attestation(keys.signer.sign(forged), None, validators=trust)
    assert refused.value.reason == "claims" and "holder" in str(refused.value)


def test_nothing_to_trust_is_refused(payload, keys):
    with pytest.raises(AttestationError) as refused:
        verify_attestation(keys.signer.sign(_sealed(payload)), None)
    assert refused.value.reason == "malformed" and "nothing to trust" in str(refused.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ebl("attest", "verify", *args)


def test_ebl_attest_verify_with_the_network_genesis(payload, keys, w3, tmp_path):
    (tmp_path / "genesis.json").write_text(
        json.dumps(genesis(NetworkSpec(chain_id=w3.eth.chain_id), VALIDATORS))
    )
    (tmp_path / "attestation.jws").write_text(keys.signer.sign(_sealed(payload)))
    done = _cli(str(tmp_path / "attestation.jws"), "--qbft-genesis", str(tmp_path / "genesis.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(signature not checked)" in done.stdout
    assert "trust: QBFT seals of 4 validators (quorum 3, from the genesis)" in done.stdout

    (tmp_path / "short.jws").write_text(keys.signer.sign(_sealed(payload, Sealing(signers=("Doha",)))))
    done = _cli(str(tmp_path / "short.jws"), "--qbft-genesis", str(tmp_path / "genesis.json"))
    assert done.returncode == 1 and "attestation_commit_seals" in done.stdout + done.stderr
