"""The composition root: everything the gateway and the CLI need, opened from one :class:`Settings`.

Opening a :class:`Runtime`:

1. connects to ``EBL_RPC_URL``, or starts the embedded anvil (state persisted in the data folder);
2. unlocks the keystore (passphrase from a secret file or environment variable; in development a
   random passphrase is generated once into ``data/secrets/keystore-passphrase``, mode 0600);
3. loads the deployment manifest and verifies the code on chain — or, on a development chain without
   one, deploys the registry with the governance key;
4. migrates the database, starts the relayer, resubmits what the journal holds unfinished, and starts
   the indexer following the chain.

Crashes (see docs/reliability.md, "Crash and restart"). A runtime that follows the chain also runs a
chain watchdog (:mod:`registry.watchdog`): it restarts a dead embedded chain and, after any outage or
rollback, resubmits what the chain lost behind the title service's closed write gate. When the registry
process itself is killed, its anvil keeps running; the next start stops it through its pidfile (see
:mod:`registry.chain.anvil`) and recovers the same way at start-up.

One runtime per data folder (:mod:`registry.data_lock`): opening a folder that a live process holds
(the gateway, ``ebl dev up``, another direct-mode ``ebl`` command) raises
:class:`~registry.errors.RegistryInUseError` before anything is started or stopped, so the holder's
chain is never touched and no second relayer signs with the same key. A direct-mode command is
refused, not attached: use ``--gateway URL`` while a gateway serves the folder.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.deploy import Deployment, deploy, verify_deployment
from registry.chain.relayer import Relayer
from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.dcsa import CallbackDrainer, CallbackOutbox
from registry.errors import ConfigurationError
from registry.interop.service import PintService
from registry.keys import KeyStore, LocalSigner, PassphraseSource
from registry.members import MembershipService
from registry.proofs.attestation import Attester
from registry.proofs.keyring import AttestationKeys
from registry.store.carriers import SqlCarrierCodes
from registry.store.db import create_engine_for, migrate
from registry.store.documents import SqlDocumentStore
from registry.store.governance import SqlGovernanceJournal
from registry.store.indexer import Indexer
from registry.store.journal import SqlJournal
from registry.title import TitleService
from registry.title.bridge import PlatformBridge
from registry.watchdog import ChainWatchdog, recheck_since

__all__ = ["Runtime", "embedded_anvil_config"]

log = logging.getLogger(__name__)

GOVERNANCE = "governance"
RELAYER = "relayer"
BRIDGE = "bridge"

INDEX_WAIT = 10.0
"""Seconds a write answered final waits at most for the index to show it (read your own writes)."""


def embedded_anvil_config(s: Settings) -> AnvilConfig:
    """How the registry runs its embedded anvil (see ``docs/ledger.md`` for what each setting bounds):
    on-demand mining at ``chain_block_time`` (plus ``confirmations`` trailing blocks), at most
    ``chain_states_kept`` historical states in memory, the state dumped every ``chain_state_interval``
    seconds to the data folder."""
    return AnvilConfig(
        block_time=s.chain_block_time,
        on_demand=s.chain_on_demand,
        trailing_blocks=s.confirmations,
        states_kept=s.chain_states_kept,
        gas_limit=s.chain_gas_limit,
        state_path=s.chain_state_path,
        state_interval=s.chain_state_interval,
        port=s.chain_port,
    )


class Runtime:
    """A running registry: chain, keys, database, relayer, services and indexer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.anvil: AnvilProcess | None = None
        self.w3: Web3
        self.deployment: Deployment
        self.engine: Engine
        self.keystore: KeyStore
        self.relayer: Relayer
        self.journal: SqlJournal
        self.documents: SqlDocumentStore
        self.carrier_codes: SqlCarrierCodes
        self.title: TitleService
        self.bridge: PlatformBridge
        self.members: MembershipService
        self.indexer: Indexer
        self.pint: PintService
        self.attester: Attester
        self.dcsa: CallbackOutbox | None = None
        """The DCSA callback outbox (``EBL_DCSA_APIS`` on), drained by :attr:`dcsa_drainer`."""
        self.dcsa_drainer: CallbackDrainer | None = None
        self._follow_stop = threading.Event()
        self._follow_now = threading.Event()  # a waiter needs a block indexed: sync without delay
        self._follower: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._lock = DataFolderLock(settings.data_dir)
        self._may_deploy = False

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        follow: bool = True,
        holder: str | None = None,
        url: str | None = None,
        deploy: bool = False,
    ) -> Runtime:
        """Open every component (see the module docstring); close it with :meth:`close`.

        Args:
            holder: what this process is, for the refusal another one gets while it holds the data
                folder ("the gateway"); by default the program and its subcommand.
            url: the gateway URL this process serves, which that refusal offers instead.
            deploy: deploy the registry now (``ebl ledger deploy``): the one way to deploy it in
                production, where opening a data folder without a manifest is refused; refused when
                the manifest exists.

        Raises:
            RegistryInUseError: another live runtime holds the data folder (nothing was touched).
        """
        runtime = cls(settings or Settings())
        runtime._may_deploy = deploy
        runtime._lock.acquire(holder, url)  # first: a refused open must not reach close()'s anvil
        try:
            runtime._open(follow)
        except BaseException:
            runtime.close()
            raise
        return runtime

    def _open(self, follow: bool) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        if s.embedded_chain:
            self.anvil = AnvilProcess(embedded_anvil_config(s)).start()
            url = self.anvil.url
        else:
            assert s.rpc_url is not None
            url = s.rpc_url
        # web3 asks eth_chainId before every signed call and transaction; the chain id never changes
        # under a deployment, so that round trip is answered from web3's request cache. Only that one:
        # caching blocks by number would hide a chain restored from an older state from the indexer.
        self.w3 = Web3(
            Web3.HTTPProvider(
                url,
                request_kwargs={"timeout": 60},
                cache_allowed_requests=True,
                cacheable_requests={RPCEndpoint("eth_chainId")},
            )
        )

        self.keystore = KeyStore(s.resolved_keystore_dir, self._passphrase(), kdf_n=s.keystore_kdf_n)
        governance = self._operator_signer(GOVERNANCE)
        relayer_signer = self._operator_signer(RELAYER)
        bridge_signer = self._operator_signer(BRIDGE)
        if s.env == "development" and s.ledger_profile.dev_funding:
            # gas money on a development node only; elsewhere the operator funds these accounts (in the
            # genesis alloc), or the chain charges no gas, as the Besu QBFT profile does
            fund_dev_accounts(self.w3, (governance.address, relayer_signer.address, bridge_signer.address))

        self.deployment = self._deployment(governance, bridge_signer)

        self.engine = create_engine_for(s.resolved_database_url)
        migrate(self.engine)
        self.journal = SqlJournal(self.engine)
        self.documents = SqlDocumentStore(self.engine)
        self.carrier_codes = SqlCarrierCodes(self.engine)
        self.relayer = Relayer(
            self.w3,
            self.deployment,
            relayer_signer,
            max_batch=s.relayer_max_batch,
            max_delay=s.relayer_max_delay,
            confirmations=s.confirmations,
            gas_price=s.ledger_profile.gas_price,
        ).start()
        self.title = TitleService(
            self.w3,
            self.deployment,
            self.relayer,
            self.journal,
            self.documents,
            self.keystore,
            carriers=self.carrier_codes,
            index=self.engine,
            signature_ttl=s.signature_ttl,
        )
        self.bridge = PlatformBridge(
            self.w3,
            self.deployment,
            self.title,
            bridge_signer,
            self.documents,
            self.carrier_codes.owner_of,
            gas_price=s.ledger_profile.gas_price,
        )
        self.pint = PintService(s, self.engine, self.bridge, self.documents.get, view=self.title.verify)
        self.members = MembershipService(
            self.w3,
            self.deployment,
            governance,
            self.keystore,
            self.title,
            carrier_codes=self.carrier_codes,
            gas_price=s.ledger_profile.gas_price,
            governance_journal=SqlGovernanceJournal(self.engine),
        )
        self.indexer = Indexer(self.w3, self.deployment, self.engine)
        self.attester = Attester(
            self.w3,
            self.deployment.address,
            self.deployment.chain_id,
            self.title.head,
            AttestationKeys(s.data_dir, s.attestation_alg),
        )
        # governance first: a lost onboarding must be back before the new member's own operations
        self.members.governance.recover(recheck_final_since=recheck_since(self.anvil, None))
        resubmitted = self.title.recover(recheck_final_since=recheck_since(self.anvil, None))
        if resubmitted:
            log.warning("resubmitted %d journaled operations after restart", resubmitted)
        if follow:
            self._follower = threading.Thread(target=self._follow, name="indexer-follow", daemon=True)
            self._follower.start()
            self.title.index_barrier = self.await_indexed  # read your own writes
            watchdog = ChainWatchdog(
                self.w3,
                self.anvil,
                self.relayer,
                self.title,
                self._follow_stop,
                s.chain_state_path,
                governance=self.members.governance,
            )
            self._watchdog = threading.Thread(target=watchdog.run, name="chain-watchdog", daemon=True)
            self._watchdog.start()
            self.pint.start()  # resumes outgoing PINT transfers a crash interrupted
        if s.dcsa_apis:
            self.dcsa = CallbackOutbox(self.engine, s.platform_code, max_backoff=s.dcsa_callback_max_backoff)
            if follow:  # the process that follows the chain delivers the callbacks
                self.dcsa_drainer = CallbackDrainer(
                    self.dcsa, self._operation_status, timeout=s.dcsa_callback_timeout
                ).start()

    def close(self) -> None:
        """Stop the indexer follower, drain the relayer, stop the embedded chain (by its pid)."""
        if self.dcsa_drainer is not None:
            self.dcsa_drainer.stop()
            self.dcsa_drainer = None
        self._follow_stop.set()
        self._follow_now.set()
        if hasattr(self, "pint"):
            self.pint.stop()
        if self._watchdog is not None:
            self._watchdog.join(timeout=60)
        if self._follower is not None:
            self._follower.join(timeout=10)
        if hasattr(self, "relayer"):
            self.relayer.stop()
        if hasattr(self, "engine"):
            self.engine.dispose()
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None
        self._lock.release()  # last: the folder is free once its chain has stopped

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ parts

    def _operation_status(self, operation_id: str) -> tuple[str, str | None]:
        op = self.title.operation(operation_id)
        return op.status, op.error_detail

    def _passphrase(self) -> PassphraseSource:
        s = self.settings
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

    def _operator_signer(self, name: str) -> LocalSigner:
        active = [k for k in self.keystore.list_keys(name) if k.is_active]
        info = active[0] if active else self.keystore.create_key(name, label=name)
        return self.keystore.signer(info.address)

    def _deployment(self, governance: LocalSigner, bridge: LocalSigner) -> Deployment:
        manifest: Path = self.settings.manifest_path
        if manifest.exists():
            if self._may_deploy:
                raise ConfigurationError(f"the registry is already deployed: {manifest} exists")
            deployment = Deployment.load(manifest)
            verify_deployment(self.w3, deployment)
            return deployment
        if self.settings.env == "production" and not self._may_deploy:
            raise ConfigurationError(
                f"no deployment manifest at {manifest}: deploy the registry first (ebl ledger deploy)"
            )
        try:
            deployment = deploy(
                self.w3, governance, bridge=bridge.address, gas_price=self.settings.ledger_profile.gas_price
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

    def await_indexed(self, block: int, timeout: float = INDEX_WAIT) -> bool:
        """Block until the index holds every event up to ``block`` (the follower syncs at once rather
        than at its next round); False if it did not within ``timeout`` seconds (the index is failing:
        the caller answers anyway, and the failure is logged by the follower)."""
        if self.indexer.applied_block() >= block:
            return True
        self._follow_now.set()
        if self.indexer.wait_applied(block, timeout):
            return True
        log.warning("the index did not reach block %d within %.0f s", block, timeout)
        return False

    def _follow(self) -> None:
        interval = max(self.settings.chain_block_time / 2, 0.2)
        failing = False
        while True:
            self._follow_now.wait(interval)
            self._follow_now.clear()  # before the sync: a waiter arriving during it gets another one
            if self._follow_stop.is_set():
                break
            try:
                self.indexer.sync()
            except Exception:  # keep following; the next round retries from the checkpoint
                if not failing:  # once per streak: a chain outage would log a traceback per round
                    log.exception("indexer sync failed (retrying quietly until it succeeds)")
                failing = True
            else:
                if failing:
                    log.warning("indexer sync succeeds again")
                failing = False

    # ------------------------------------------------------------------ crash recovery

    def wait_chain_persisted(self, timeout: float | None = None) -> bool:
        """Block until the embedded chain has dumped every block mined so far to its state file (after
        the first start's deployment and onboarding, which are not journaled); True without one.
        ``timeout`` defaults to three state intervals and ten seconds."""
        if self.anvil is None:
            return True
        return self.anvil.wait_persisted(
            timeout if timeout is not None else 3 * self.settings.chain_state_interval + 10
        )
