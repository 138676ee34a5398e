"""The registry runs unchanged on any standard EVM JSON-RPC node: outside the embedded-chain modules
(``registry/chain/anvil*.py``) no code names an ``anvil_*``, ``evm_*`` or ``hardhat_*`` method, and a
registry on the QBFT ledger profile, talking to a node that refuses every such method, opens, deploys,
onboards a carrier, a shipper and a bank, and issues and transfers an eBL without asking for one."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.config import Settings
from registry.documents import CarrierCode
from registry.runtime import Runtime
from registry.types import Action, Role, Status
from tests.fixtures.dcsa import issued_example
from tests.support.standard_rpc_proxy import STANDARD_PREFIXES, StandardRpcProxy

ROOT = Path(__file__).resolve().parents[2]
DEV_METHOD = re.compile(r"(anvil|evm|hardhat)_[A-Za-z]\w*")


def dev_methods_named(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is, or in an f-string starts with, a development
    method name (``"anvil_setBalance"``, ``f"evm_{what}"``); docstrings that merely mention one are
    prose and do not count, since nothing sends them."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if DEV_METHOD.fullmatch(node.value):
                found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and re.match(r"(anvil|evm|hardhat)_", str(head.value)):
                found.append((node.lineno, str(head.value) + "…"))
    return found


def _product_sources() -> Iterator[Path]:
    for package in ("registry", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if not (path.parent.name == "chain" and path.name.startswith("anvil")):
                yield path


def test_no_code_outside_the_embedded_chain_modules_names_a_development_method() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _product_sources()
        for line, text in dev_methods_named(path.read_text())
    ]
    assert offenders == []


def test_the_scan_finds_a_development_method_however_it_is_written() -> None:
    planted = '''
"""Mentions anvil_setBalance in prose only."""
rpc(w3, "evm_mine", [])
w3.provider.make_request(f"hardhat_{name}", [])
METHODS = ("anvil_setBalance", "eth_call", "anvil_state")
'''
    assert dev_methods_named(planted) == [
        (3, "evm_mine"),
        (4, "hardhat_…"),
        (5, "anvil_setBalance"),
        (5, "anvil_state"),
    ]


def test_the_dev_chain_funding_lives_in_the_embedded_chain_modules() -> None:
    names = dev_methods_named((ROOT / "registry" / "chain" / "anvil_dev.py").read_text())
    assert {text for _, text in names} == {"anvil_setBalance", "hardhat_setBalance"}


@pytest.fixture
def free_gas_chain() -> Iterator[AnvilProcess]:
    """anvil charging no gas (base fee 0, gas price 0), as a Besu QBFT network with min-gas-price 0 and
    zeroBaseFee does: the registry's accounts hold nothing and pay nothing."""
    with AnvilProcess(AnvilConfig(extra_args=("--base-fee", "0", "--gas-price", "0"))) as node:
        yield node


def test_a_registry_on_the_qbft_profile_asks_a_standard_node_for_nothing_else(
    free_gas_chain: AnvilProcess, tmp_path: Path
) -> None:
    with StandardRpcProxy(free_gas_chain.url) as node:
        settings = Settings(
            data_dir=tmp_path / "data",
            rpc_url=node.url,
            ledger="qbft",
            keystore_kdf_n=2**14,
            relayer_max_delay=0.01,
        )
        with Runtime.open(settings) as runtime:
            carrier = runtime.members.onboard("LEI:QBFT-CARRIER", Role.CARRIER, [CarrierCode("MSC", "SMDG")])[
                0
            ]
            shipper = runtime.members.onboard("LEI:QBFT-SHIPPER", Role.TRADER)[0]
            bank = runtime.members.onboard("LEI:QBFT-BANK", Role.BANK)[0]
            document = issued_example(transportDocumentReference="QBFT-1")
            issued = runtime.title.issue(carrier.address, document, shipper.address)
            moved = runtime.title.transfer(shipper.address, issued.ebl_id, bank.address)
            assert (issued.status, moved.status) == ("final", "final")
            runtime.indexer.sync()
            view = runtime.title.verify(document=document)
            assert (view.holder, view.status) == (bank.address, Status.ACTIVE)
            assert [e.action for e in runtime.title.history(issued.ebl_id)] == [Action.ISSUE, Action.TRANSFER]
            for operator in ("governance", "relayer"):  # they hold nothing and paid nothing
                (key,) = runtime.keystore.list_keys(operator)
                assert runtime.w3.eth.get_balance(key.address) == 0
    assert node.refused == {}, node.refused
    assert all(method.startswith(STANDARD_PREFIXES) for method in node.seen)
    assert node.seen["eth_sendRawTransaction"] > 0
