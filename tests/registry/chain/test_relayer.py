"""The relayer batches signed entries, resolves each one, and isolates bad entries."""

from __future__ import annotations

import time

import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.deploy import Deployment
from registry.chain.errors import error_class
from registry.chain.relayer import Relayer, SignedEntry
from registry.chain.relayer_batch import TRANSACTION_GAS_CAP
from registry.errors import ChainError
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
    assert fund_dev_accounts(w3, [key.address], 10**24)
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


def test_a_batch_above_the_transaction_gas_cap_goes_out_in_transactions_under_it(
    w3, deployment, registry, domain, carrier, shipper
):
    """Regression (the Hardhat node, Osaka): 120 issuances in one batch asked for 22.9 M gas, and a node
    enforcing EIP-7825's cap of 2**24 gas per transaction refused the whole batch. They now go out in
    several transactions, each asking for at most the cap, and every one takes effect."""
    key = key_for("relayer")
    assert fund_dev_accounts(w3, [key.address], 10**24)
    base = time.time_ns()
    messages = [_issuance(carrier, shipper, n, base + n) for n in range(120)]
    entries = [_sign(carrier, m, domain) for m in messages]  # signed first: one batch, not a trickle
    with Relayer(w3, deployment, LocalSigner(key.key), max_delay=1.0) as relayer:
        results = [f.result(timeout=120) for f in relayer.submit_many(entries)]
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:1]
    hashes = {r.tx_hash for r in results}
    assert len(hashes) >= 2
    assert all(w3.eth.get_transaction(h)["gas"] <= TRANSACTION_GAS_CAP for h in hashes)
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


def test_reset_fails_entries_not_yet_sent_and_never_sends_them(
    w3, deployment, registry, domain, carrier, shipper
):
    """The chain restarted while an entry waited in the batch window: reset() fails it at once (the
    journal recovers it in order) and it is never sent to the restarted chain; the relayer goes on."""
    key = key_for("relayer-reset")
    assert fund_dev_accounts(w3, [key.address], 10**24)
    with Relayer(w3, deployment, LocalSigner(key.key), max_delay=1.0) as relayer:
        base = time.time_ns()
        waiting = _issuance(carrier, shipper, 0, base)
        future = relayer.submit(_sign(carrier, waiting, domain))
        time.sleep(0.2)  # the batch loop holds it, waiting for more entries
        assert relayer.reset("test: the chain restarted") == 1
        assert future.done() and isinstance(future.exception(), ChainError)

        time.sleep(1.5)  # past the batch window: nothing was sent
        assert w3.eth.get_transaction_count(key.address) == 0
        never_issued = registry.functions.eblIdOf(carrier.org, waiting.tdr_hash).call()
        assert registry.functions.statusOf(never_issued).call() == 0  # Status.NONE

        later = _issuance(carrier, shipper, 1, base + 1)
        assert relayer.submit(_sign(carrier, later, domain)).result(timeout=60).ok
        assert w3.eth.get_transaction_count(key.address) == 1


def test_after_a_reset_a_receipt_at_a_height_scanned_before_the_rollback_is_found(
    w3, deployment, registry, domain, carrier, shipper
):
    """The chain came back below heights the relayer had scanned and mined a new block at one of them:
    the receipt there is found at once, not only by the same-nonce resubmission (here an hour away)."""
    key = key_for("relayer-rescan")
    assert fund_dev_accounts(w3, [key.address], 10**24)
    with Relayer(w3, deployment, LocalSigner(key.key), max_delay=0.01, resubmit_after=3600) as relayer:
        base = time.time_ns()
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
        lost = _issuance(carrier, shipper, 0, base)
        assert relayer.submit(_sign(carrier, lost, domain)).result(timeout=60).ok
        w3.provider.make_request("evm_revert", [snapshot])
        relayer.reset("test: the chain restarted from an older state")

        again = _issuance(carrier, shipper, 1, base + 1)
        assert relayer.submit(_sign(carrier, again, domain)).result(timeout=60).ok
        issued = registry.functions.eblIdOf(carrier.org, again.tdr_hash).call()
        assert registry.functions.holderOf(issued).call() == shipper.org
