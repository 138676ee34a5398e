"""Session-wide fixtures: one real anvil on 127.0.0.1 for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from registry.chain.anvil import AnvilConfig, AnvilProcess


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """A real anvil (automine) started for the session and stopped by its own pid."""
    with AnvilProcess(AnvilConfig()) as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: AnvilProcess) -> Web3:
    """web3 connected to the session anvil."""
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
