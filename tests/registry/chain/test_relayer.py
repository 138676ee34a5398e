"""The relayer batches signed entries, resolves each one, and isolates bad entries."""

from __future__ import annotations

import time

import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.deploy import Deployment
from registry.chain.errors import error_class
from registry.chain.relayer import Relayer, SignedEntry
from registry.keys import Domain, IssuanceMessage, LocalSigner, TitleActionMessage
from registry.types import Action, DocumentKind
from tests.contracts.parties import Party
from tests.contracts.parties import test_key as key_for

ZERO = "0x" + "00" * 20


def _sign(party: Party, message: TitleActionMessage | IssuanceMessage, domain: Domain) -> SignedEntry:
    signer = LocalSigner(party.key.key)
    return SignedEntry(message, party.address, signer.sign_digest(message.digest(domain)))


@pytest.fixture
def relayer(w3: Web3, deployment: Deployment):
    key = key_for("relayer")
    w3.provider.make_request("anvil_setBalance", [key.address, hex(10**24)])
    with Relayer(w3, deployment, LocalSigner(key.key), max_delay=0.02) as r:
        yield r


@pytest.fixture
def domain(deployment: Deployment) -> Domain:
    return Domain(deployment.chain_id, deployment.address)


def _issuance(carrier: Party, to: Party, n: int, nonce: int) -> IssuanceMessage:
    tdr = keccak(text=f"relayer-TDR-{n}-{time.time_ns()}")
    return IssuanceMessage(
        tdr_hash=tdr,
        doc_hash=keccak(tdr),
        issue_to=to.org,
        endorsee=ZERO,
        kind=int(DocumentKind.TO_ORDER),
        nonce=nonce,
        deadline=2**40,
    )


def test_relayer_issues_a_batch_for_the_carrier(relayer, registry, domain, carrier, shipper):
    """Fifty signed issuances go out in batches and every future resolves final and applied."""
    base = time.time_ns()
    messages = [_issuance(carrier, shipper, n, base + n) for n in range(50)]
    futures = relayer.submit_many(_sign(carrier, m, domain) for m in messages)
    results = [f.result(timeout=60) for f in futures]
    assert all(r.ok for r in results)
    for m in messages:
        ebl = registry.functions.eblIdOf(carrier.org, m.tdr_hash).call()
        assert registry.functions.holderOf(ebl).call() == shipper.org


def test_relayer_fails_only_the_bad_entry(relayer, registry, domain, carrier, shipper, bank):
    """A transfer signed by a non-holder fails alone, decoded; its neighbours take effect."""
    base = time.time_ns()
    issued = [_issuance(carrier, shipper, n, base + n) for n in range(3)]
    assert all(
        f.result(timeout=60).ok for f in relayer.submit_many(_sign(carrier, m, domain) for m in issued)
    )
    ids = [registry.functions.eblIdOf(carrier.org, m.tdr_hash).call() for m in issued]

    def transfer(by: Party, ebl: int, nonce: int) -> SignedEntry:
        msg = TitleActionMessage(
            action=int(Action.TRANSFER),
            ebl_id=ebl,
            party=bank.org,
            data=b"\0" * 32,
            nonce=nonce,
            deadline=2**40,
        )
        return _sign(by, msg, domain)

    futures = relayer.submit_many(
        [
            transfer(shipper, ids[0], base + 10),
            transfer(bank, ids[1], base + 11),
            transfer(shipper, ids[2], base + 12),
        ]
    )
    good, bad, good2 = (f.result(timeout=60) for f in futures)
    assert good.ok and good2.ok and good.tx_hash == bad.tx_hash
    assert isinstance(bad.error, error_class("TitleNotHolder"))
    assert bad.error.args_by_name == {"eblId": ids[1], "org": bank.org}
    assert registry.functions.holderOf(ids[0]).call() == bank.org
    assert registry.functions.holderOf(ids[1]).call() == shipper.org
