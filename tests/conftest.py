"""Session-wide fixtures: one real anvil for the whole run, the registry deployed once with the cast
onboarded, and an EVM snapshot around every test that touches the registry.

With ``EBL_TEST_LEDGER=hardhat`` (``make test-hardhat``) the session chain is the Hardhat node (EDR)
instead of anvil (:mod:`tests.support.hardhat_node`), and tests marked ``anvil_only`` are skipped with
their reason: they test the embedded chain itself (state dumps, its process being killed)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.middleware import SignAndSendRawMiddlewareBuilder

from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment, deploy
from registry.chain.errors import type_string
from registry.types import DocumentKind, Role
from tests import hypothesis_profiles  # noqa: F401 - registers and loads HYPOTHESIS_PROFILE for every test
from tests.contracts.parties import CAST, Party, party, test_key
from tests.support.chains import TestChain, new_chain, on_hardhat


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``long`` run in ``make test-long`` (HYPOTHESIS_PROFILE=long), not in ``make test``:
    CI on two cores has 20 minutes, and the PINT crash tests alone take five."""
    if on_hardhat():
        for item in items:
            marker = item.get_closest_marker("anvil_only")
            if marker is not None:
                item.add_marker(pytest.mark.skip(reason=f"anvil only: {marker.args[0]}"))
    if os.environ.get("HYPOTHESIS_PROFILE") == "long":
        return
    skip = pytest.mark.skip(reason="long: runs in make test-long")
    for item in items:
        if item.get_closest_marker("long") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def anvil() -> Iterator[TestChain]:
    """The session chain (automine), started for the session and stopped by its own pid: a real anvil,
    or the Hardhat node with ``EBL_TEST_LEDGER=hardhat``."""
    with new_chain() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: TestChain) -> Web3:
    """web3 connected to the session chain."""
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))


FUNDS = Web3.to_wei(1_000_000, "ether")


@pytest.fixture(scope="session")
def governance() -> LocalAccount:
    """The governance account (deployer, admin and pauser)."""
    return test_key("governance")


@pytest.fixture(scope="session")
def bridge() -> LocalAccount:
    """The registry's bridge key (CROSS_PLATFORM_ROLE, granted at deployment): ends exports to other
    platforms and records bills arriving from them (PINT)."""
    return test_key("bridge")


@pytest.fixture(scope="session")
def cast() -> dict[str, Party]:
    """Every member organisation of the tests, plus an outsider that is not a member."""
    members = {name: party(name, role) for name, role in CAST.items()}
    members["outsider"] = party("outsider", Role.NONE)
    return members


@pytest.fixture(scope="session")
def deployment(
    w3: Web3, governance: LocalAccount, bridge: LocalAccount, cast: dict[str, Party]
) -> Deployment:
    """The registry deployed once per session (the bridge key granted CROSS_PLATFORM_ROLE), members
    onboarded, keys funded."""
    return deploy_onboarded(w3, governance, bridge, cast)


def deploy_onboarded(
    w3: Web3, governance: LocalAccount, bridge: LocalAccount, cast: dict[str, Party]
) -> Deployment:
    """Deploy the registry on ``w3``'s chain (the bridge key granted CROSS_PLATFORM_ROLE), fund the
    keys and onboard every member of ``cast``."""
    assert fund_dev_accounts(
        w3, [a.address for a in [governance, bridge, *(p.key for p in cast.values())]], FUNDS
    )
    w3.middleware_onion.inject(
        SignAndSendRawMiddlewareBuilder.build([governance, bridge, *(p.key for p in cast.values())]),
        layer=0,
    )
    dep = deploy(w3, governance, bridge=bridge.address)
    registry = w3.eth.contract(address=dep.address, abi=load_artifact().abi)
    for p in cast.values():
        if p.role is Role.NONE:
            continue
        tx = registry.functions.registerOrganisation(
            p.org, int(p.role), keccak(text=f"LEI:{p.name}"), p.address
        ).transact({"from": governance.address})
        w3.eth.wait_for_transaction_receipt(tx)
    return dep


@pytest.fixture(scope="session")
def registry(w3: Web3, deployment: Deployment) -> Contract:
    """The deployed TitleRegistry."""
    return w3.eth.contract(address=deployment.address, abi=load_artifact().abi)


@pytest.fixture(autouse=True)
def _snapshot(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each contract test from the same post-onboarding state."""
    if "registry" not in request.fixturenames:
        yield
        return
    w3: Web3 = request.getfixturevalue("w3")
    request.getfixturevalue("registry")
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [snap])


@pytest.fixture(scope="session")
def carrier(cast: dict[str, Party]) -> Party:
    return cast["carrier"]


@pytest.fixture(scope="session")
def other_carrier(cast: dict[str, Party]) -> Party:
    return cast["other_carrier"]


@pytest.fixture(scope="session")
def shipper(cast: dict[str, Party]) -> Party:
    return cast["shipper"]


@pytest.fixture(scope="session")
def bank(cast: dict[str, Party]) -> Party:
    return cast["bank"]


@pytest.fixture(scope="session")
def consignee(cast: dict[str, Party]) -> Party:
    return cast["consignee"]


@pytest.fixture(scope="session")
def buyer(cast: dict[str, Party]) -> Party:
    return cast["buyer"]


@pytest.fixture(scope="session")
def outsider(cast: dict[str, Party]) -> Party:
    return cast["outsider"]


def encode_error(registry: Contract, name: str, *args: Any) -> str:
    """ABI-encode a custom error exactly as the contract would revert with it."""
    for entry in registry.abi:
        if entry["type"] == "error" and entry["name"] == name:
            types = [type_string(p) for p in entry["inputs"]]
            selector = keccak(text=f"{name}({','.join(types)})")[:4]
            return "0x" + (selector + encode(types, list(args))).hex()
    raise KeyError(name)


@pytest.fixture(scope="session")
def reverts(registry: Contract) -> Callable[..., Any]:
    """``with reverts("TitleNotHolder", ebl_id, bank.org): ...`` asserts the exact error and arguments."""

    @contextmanager
    def check(name: str, *args: Any) -> Iterator[None]:
        with pytest.raises(ContractCustomError) as excinfo:
            yield
        assert excinfo.value.data == encode_error(registry, name, *args)

    return check


@pytest.fixture(scope="session")
def send(w3: Web3) -> Callable[..., Any]:
    """``send(registry.functions.x(...), party)`` transacts from the party's key and returns the receipt."""

    def _send(fn: Any, sender: Party | LocalAccount) -> Any:
        address = sender.address
        receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": address}))
        assert receipt["status"] == 1
        return receipt

    return _send


TDR_COUNTER = iter(range(10**9))


@pytest.fixture
def issue(registry: Contract, send: Callable[..., Any], carrier: Party) -> Callable[..., int]:
    """Issue a fresh eBL: ``issue(to=shipper, endorsee=None, kind=DocumentKind.TO_ORDER) -> eblId``."""

    def _issue(
        to: Party,
        endorsee: Party | None = None,
        kind: DocumentKind = DocumentKind.TO_ORDER,
        by: Party | None = None,
    ) -> int:
        issuer = by or carrier
        tdr = keccak(text=f"TDR-{next(TDR_COUNTER)}")
        doc = keccak(text=f"doc-{tdr.hex()}")
        endorsee_org = endorsee.org if endorsee else "0x" + "00" * 20
        send(registry.functions.issue(tdr, doc, to.org, endorsee_org, int(kind)), issuer)
        return int(registry.functions.eblIdOf(issuer.org, tdr).call())

    return _issue
