"""The parts a :class:`~registry.runtime.Runtime` opens before its services: the embedded chain (or, in
a worker, the wait for the one its supervisor keeps), the keystore passphrase, the operator keys, and
the deployment (loaded and verified, or deployed)."""

from __future__ import annotations

import os
import secrets
import time

from web3 import Web3
from web3.exceptions import Web3RPCError

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.deploy import Deployment, deploy, verify_deployment
from registry.config import Settings
from registry.errors import ConfigurationError, LedgerUnavailableError
from registry.keys import KeyStore, LocalSigner, PassphraseSource

__all__ = [
    "KEPT_CHAIN_WAIT",
    "await_kept_chain",
    "embedded_anvil_config",
    "open_deployment",
    "operator_signer",
    "passphrase_source",
    "start_embedded_chain",
]


def embedded_anvil_config(s: Settings) -> AnvilConfig:
    """How the registry runs its embedded anvil (see ``docs/ledger.md`` for what each setting bounds):
    on-demand mining at ``chain_block_time`` (plus ``confirmations`` trailing blocks), at most
    ``chain_states_kept`` historical states in memory, the transactions and receipts of the last
    ``chain_tx_kept`` blocks (older ones in the registry's chain archive), the state dumped to the data
    folder every ``chain_state_interval`` seconds or, for a larger state, less often up to
    ``chain_state_interval_max`` (:mod:`registry.chain.anvil_persist` on demand, else
    :func:`registry.chain.anvil_state.state_interval_for`)."""
    return AnvilConfig(
        block_time=s.chain_block_time,
        on_demand=s.chain_on_demand,
        trailing_blocks=s.confirmations,
        states_kept=s.chain_states_kept,
        transactions_kept=s.chain_tx_kept,
        gas_limit=s.chain_gas_limit,
        state_path=s.chain_state_path,
        state_interval=s.chain_state_interval,
        state_interval_max=max(s.chain_state_interval, min(s.chain_state_interval_max, s.signature_ttl // 4)),
        port=s.chain_port,
    )


def start_embedded_chain(settings: Settings) -> AnvilProcess:
    """Start the embedded anvil of ``settings`` (its state in the data folder)."""
    return AnvilProcess(embedded_anvil_config(settings)).start()


def passphrase_source(s: Settings) -> PassphraseSource:
    """The keystore passphrase: from a secret file or an environment variable; in development a random
    one generated once into ``data/secrets/keystore-passphrase`` (mode 0600)."""
    if s.keystore_passphrase_file is not None:
        return PassphraseSource.from_file(s.keystore_passphrase_file)
    if s.keystore_passphrase_env is not None:
        return PassphraseSource.from_env(s.keystore_passphrase_env)
    if s.env == "production":  # pragma: no cover - Settings already refuses this
        raise ConfigurationError("production needs a keystore passphrase source")
    secret = s.data_dir / "secrets" / "keystore-passphrase"
    if not secret.exists():
        secret.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return PassphraseSource.from_file(secret)


def operator_signer(keystore: KeyStore, name: str) -> LocalSigner:
    """The active key of an operator account (governance, relayer, bridge), created on first use."""
    active = [k for k in keystore.list_keys(name) if k.is_active]
    info = active[0] if active else keystore.create_key(name, label=name)
    return keystore.signer(info.address)


def open_deployment(
    w3: Web3, settings: Settings, governance: LocalSigner, bridge: LocalSigner, *, may_deploy: bool
) -> Deployment:
    """The deployment of the manifest, verified on chain; or, without one, a fresh deployment (refused
    in production unless ``may_deploy``: ``ebl ledger deploy``)."""
    manifest = settings.manifest_path
    if manifest.exists():
        if may_deploy:
            raise ConfigurationError(f"the registry is already deployed: {manifest} exists")
        deployment = Deployment.load(manifest)
        verify_deployment(w3, deployment)
        return deployment
    if settings.env == "production" and not may_deploy:
        raise ConfigurationError(
            f"no deployment manifest at {manifest}: deploy the registry first (ebl ledger deploy)"
        )
    try:
        deployment = deploy(
            w3, governance, bridge=bridge.address, gas_price=settings.ledger_profile.gas_price
        )
    except Web3RPCError as exc:
        if "insufficient funds" not in str(exc).lower():
            raise
        raise ConfigurationError(
            f"the governance account {governance.address} cannot pay for the deployment: fund it "
            "(and the relayer and bridge accounts, which send the registry's transactions later) or "
            "run a ledger that charges no gas (Besu QBFT with min-gas-price=0)"
        ) from exc
    deployment.save(manifest)
    return deployment


KEPT_CHAIN_WAIT = 60.0
"""Seconds a starting worker waits for the supervisor's chain to answer (its keeper restarts it)."""


def await_kept_chain(w3: Web3, timeout: float = KEPT_CHAIN_WAIT) -> None:
    """Wait until the chain the supervisor keeps answers. A worker uvicorn starts again (after a kill)
    may start while the keeper is restarting the chain; failing then made uvicorn stop every worker
    ("Child process failed to start"), found by the multi-worker crash harness (seed 1873574198).

    Raises:
        LedgerUnavailableError: it did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            w3.eth.get_block_number()
            return
        except Exception as exc:  # requests' ConnectionError, a refused or half-started node
            if time.monotonic() >= deadline:
                raise LedgerUnavailableError(f"the kept chain did not answer within {timeout:.0f} s") from exc
            time.sleep(0.25)
