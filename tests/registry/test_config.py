"""Ledger profiles: what the registry assumes about each kind of node is written down in Settings, and
settings that contradict it are refused before anything starts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from registry.config import LEDGER_PROFILES, Settings
from registry.errors import ConfigurationError


def test_qbft_is_final_at_once_never_reorganised_and_free_of_gas() -> None:
    profile = Settings(ledger="qbft", rpc_url="http://besu-1:8545").ledger_profile
    assert (profile.finality, profile.confirmations, profile.reorgs) == ("immediate", 0, False)
    assert profile.gas_price == 0
    assert not profile.dev_funding and not profile.rollback_on_restart


def test_development_chains_fund_operators_and_follow_the_nodes_fees() -> None:
    for kind in ("embedded", "hardhat"):
        profile = LEDGER_PROFILES[kind]
        assert (profile.confirmations, profile.reorgs, profile.gas_price) == (0, False, None)
        assert profile.dev_funding and profile.rollback_on_restart


def test_the_ledger_kind_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBL_LEDGER", "qbft")
    monkeypatch.setenv("EBL_RPC_URL", "http://besu-1:8545")
    assert Settings().ledger_profile is LEDGER_PROFILES["qbft"]
    assert Settings(rpc_url=None, ledger="embedded").ledger_profile.kind == "embedded"


def test_the_default_is_the_embedded_anvil() -> None:
    settings = Settings()
    assert settings.ledger == "embedded" and settings.embedded_chain


@pytest.mark.parametrize("kind", ["qbft", "hardhat"])
def test_a_node_the_registry_does_not_start_needs_its_url(kind: str) -> None:
    with pytest.raises(ConfigurationError, match=f"EBL_LEDGER={kind} needs EBL_RPC_URL"):
        Settings(ledger=kind)


def test_confirmations_on_qbft_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="EBL_CONFIRMATIONS=2 contradicts QBFT"):
        Settings(ledger="qbft", rpc_url="http://besu-1:8545", confirmations=2)


def test_an_operator_turns_the_chain_keepers_off_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EBL_CHAIN_TX_KEPT=none keeps every transaction on the node (their defaults, 64 and 4, are not None,
    so leaving the variables out cannot say it); a number still parses, a word is refused by name."""
    monkeypatch.setenv("EBL_CHAIN_TX_KEPT", "none")
    monkeypatch.setenv("EBL_CHAIN_STATES_KEPT", "none")
    settings = Settings()
    assert settings.chain_tx_kept is None and settings.chain_states_kept is None
    monkeypatch.setenv("EBL_CHAIN_TX_KEPT", "128")
    assert Settings().chain_tx_kept == 128
    monkeypatch.setenv("EBL_CHAIN_TX_KEPT", "all")
    with pytest.raises(ValidationError, match="chain_tx_kept"):
        Settings()
