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
chain watchdog. When the embedded anvil dies (``kill -9``, OOM) it is restarted in place, on the same
port, from its state file; when any chain becomes unreachable and comes back, or its head goes
backwards, the relayer forgets its in-flight transactions and :meth:`TitleService.recover` runs with
``recheck_final_since``: operations the restored chain lost, even ones already reported final, are
resubmitted from their journaled signed entries (their nonces are unused there), so every
acknowledged operation ends final exactly once. From the moment the watchdog sees the chain down
until that resubmission, the title service's write gate refuses new writes (503, retry): none may run
ahead of the older operations being resubmitted; the indexer rolls back on its own when its
checkpoint block changed or vanished. Every few seconds the watchdog also backs up the chain state
file and resubmits journaled operations left pending by a failed send. When the registry process
itself is killed, its anvil keeps running; the next start stops it through its pidfile (see
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
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.anvil import AnvilConfig, AnvilProcess
from registry.chain.deploy import Deployment, deploy, verify_deployment
from registry.chain.relayer import Relayer
from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.errors import ConfigurationError, RegistryError
from registry.keys import KeyStore, LocalSigner, PassphraseSource
from registry.members import MembershipService
from registry.store.carriers import SqlCarrierCodes
from registry.store.db import create_engine_for, migrate
from registry.store.documents import SqlDocumentStore
from registry.store.indexer import Indexer
from registry.store.journal import SqlJournal
from registry.title import TitleService

__all__ = ["Runtime"]

log = logging.getLogger(__name__)

GOVERNANCE = "governance"
RELAYER = "relayer"
_DEV_FUNDS = hex(10**27)

WATCH_EVERY = 0.5
"""Seconds between the chain watchdog's probes."""
CHORES_EVERY = 5.0
"""Seconds between retries of operations left pending by a failed send."""
BACKUP_EVERY = 30.0
"""Seconds between backups of the embedded chain's state file. A backup parses and copies the whole
dump, which grows with the chain (every 5 s it took a tenth of the gateway's CPU under load); it is
only read when the newest dump is torn, and what an older backup lacks the journal resubmits."""
RETRY_MIN_AGE = 10.0
"""An operation pending this long without being tracked is resubmitted by the periodic retry."""
RESTART_BACKOFF = 2.0
"""Seconds between attempts to restart a dead embedded chain."""
INDEX_WAIT = 10.0
"""Seconds a write answered final waits at most for the index to show it (read your own writes)."""
RECHECK_MARGIN = 60.0
"""Operations final up to this many seconds before the restored state's dump time are re-checked too."""


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
        self.members: MembershipService
        self.indexer: Indexer
        self._follow_stop = threading.Event()
        self._follow_now = threading.Event()  # a waiter needs a block indexed: sync without delay
        self._follower: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._lock = DataFolderLock(settings.data_dir)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        follow: bool = True,
        holder: str | None = None,
        url: str | None = None,
    ) -> Runtime:
        """Open every component (see the module docstring); close it with :meth:`close`.

        Args:
            holder: what this process is, for the refusal another one gets while it holds the data
                folder ("the gateway"); by default the program and its subcommand.
            url: the gateway URL this process serves, which that refusal offers instead.

        Raises:
            RegistryInUseError: another live runtime holds the data folder (nothing was touched).
        """
        runtime = cls(settings or Settings())
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
            self.anvil = AnvilProcess(
                AnvilConfig(
                    block_time=s.chain_block_time,
                    gas_limit=s.chain_gas_limit,
                    state_path=s.chain_state_path,
                    port=s.chain_port,
                )
            ).start()
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
        if s.env == "development":
            self._fund_on_dev_chain(governance.address, relayer_signer.address)

        self.deployment = self._deployment(governance)

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
        self.members = MembershipService(
            self.w3, self.deployment, governance, self.keystore, self.title, carrier_codes=self.carrier_codes
        )
        self.indexer = Indexer(self.w3, self.deployment, self.engine)
        resubmitted = self.title.recover(recheck_final_since=self._recheck_since(None))
        if resubmitted:
            log.warning("resubmitted %d journaled operations after restart", resubmitted)
        if follow:
            self._follower = threading.Thread(target=self._follow, name="indexer-follow", daemon=True)
            self._follower.start()
            self.title.index_barrier = self.await_indexed  # read your own writes
            self._watchdog = threading.Thread(target=self._watch_chain, name="chain-watchdog", daemon=True)
            self._watchdog.start()

    def close(self) -> None:
        """Stop the indexer follower, drain the relayer, stop the embedded chain (by its pid)."""
        self._follow_stop.set()
        self._follow_now.set()
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

    def _fund_on_dev_chain(self, *addresses: str) -> None:
        """Give operator accounts gas money on a development chain (anvil or Hardhat node); elsewhere the
        operator funds them (or the chain charges no gas, as a permissioned Besu network may)."""
        for address in addresses:
            for method in ("anvil_setBalance", "hardhat_setBalance"):
                reply = self.w3.provider.make_request(method, [address, _DEV_FUNDS])  # type: ignore[arg-type]
                if "error" not in reply:
                    break

    def _deployment(self, governance: LocalSigner) -> Deployment:
        manifest: Path = self.settings.manifest_path
        if manifest.exists():
            deployment = Deployment.load(manifest)
            verify_deployment(self.w3, deployment)
            return deployment
        if self.settings.env == "production":
            raise ConfigurationError(f"no deployment manifest at {manifest}: deploy the registry first")
        deployment = deploy(self.w3, governance)
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

    def wait_chain_persisted(self, timeout: float = 15.0) -> bool:
        """Block until the embedded chain has dumped every block mined so far to its state file (after
        the first start's deployment and onboarding, which are not journaled); True without one."""
        return self.anvil.wait_persisted(timeout) if self.anvil is not None else True

    def _recheck_since(self, down_since: float | None) -> datetime | None:
        """From when final operations may have been lost by the chain: the loaded state's dump time or
        the start of the outage, whichever is earlier, minus :data:`RECHECK_MARGIN`."""
        moments = [t for t in (down_since, self.anvil.loaded_state_time if self.anvil else None) if t]
        if not moments:
            return None
        return datetime.fromtimestamp(min(moments) - RECHECK_MARGIN, UTC)

    def _watch_chain(self) -> None:
        """Restart a dead embedded chain; after any outage or rollback, resubmit what the chain lost."""
        down_since: float | None = None
        last_head = -1
        next_restart = 0.0
        next_chores = time.monotonic() + CHORES_EVERY
        next_backup = time.monotonic() + BACKUP_EVERY
        while not self._follow_stop.wait(WATCH_EVERY):
            anvil = self.anvil
            try:
                dead = anvil is not None and (anvil.exit_code is not None or anvil.pid is None)
                if anvil is not None and dead and time.monotonic() >= next_restart:
                    log.error(
                        "the embedded chain (anvil) exited with status %s; restarting it from %s",
                        anvil.exit_code,
                        self.settings.chain_state_path,
                    )
                    down_since = down_since or time.time()
                    next_restart = time.monotonic() + RESTART_BACKOFF
                    self.title.writes.close("the ledger is restarting; retry shortly")
                    self.relayer.reset("the chain exited")
                    anvil.restart()
                head = self.w3.eth.block_number
            except Exception as exc:
                if down_since is None:
                    down_since = time.time()
                    self.title.writes.close("the ledger is unreachable; retry shortly")
                    log.error(
                        "the chain is unreachable (%s): writes stay journaled and are resubmitted when it "
                        "returns",
                        type(exc).__name__,
                    )
                elif isinstance(exc, RegistryError):  # a failed restart of the embedded chain says why
                    log.error("restarting the embedded chain failed: %s", exc)
                continue
            try:
                if down_since is not None or head < last_head:
                    # No new write may reach the restored chain before what it lost is resubmitted:
                    # the gate stays closed until recover() has handed every lost operation, oldest
                    # first, to the relayer (see registry.title.gate).
                    self.title.writes.close("the ledger is recovering; retry shortly")
                    self.relayer.reset("the chain went away or rolled back")
                    since = self._recheck_since(down_since or time.time())
                    resubmitted = self.title.recover(recheck_final_since=since)
                    log.warning("the chain is back at block %d: resubmitted %d operations", head, resubmitted)
                    self.title.writes.open()
                    down_since = None
                last_head = head
                if time.monotonic() >= next_chores:
                    next_chores = time.monotonic() + CHORES_EVERY
                    if anvil is not None and time.monotonic() >= next_backup:
                        next_backup = time.monotonic() + BACKUP_EVERY
                        anvil.backup_state()
                    retried = self.title.recover(min_age=RETRY_MIN_AGE)
                    if retried:
                        log.warning("resubmitted %d operations left pending by a failed send", retried)
            except Exception:  # keep watching; the next round retries
                log.exception("chain watchdog round failed")
