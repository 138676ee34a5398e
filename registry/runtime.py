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
import threading
import time
from datetime import datetime
from types import TracebackType

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.types import RPCEndpoint

from registry.chain.anvil import AnvilProcess
from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.deploy import Deployment
from registry.chain.relayer import Relayer
from registry.chain_keeper import ChainFence
from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.dcsa import CallbackDrainer, CallbackOutbox
from registry.errors import ArchiveError
from registry.interop.service import PintService
from registry.keys import KeyStore
from registry.leadership import Leadership, leader_key
from registry.members import MembershipService
from registry.proofs.attestation import Attester
from registry.proofs.keyring import AttestationKeys
from registry.runtime_parts import (
    await_kept_chain,
    embedded_anvil_config,
    open_deployment,
    operator_signer,
    passphrase_source,
    start_embedded_chain,
)
from registry.store.archive import ChainArchive
from registry.store.carriers import SqlCarrierCodes
from registry.store.db import create_engine_for, migrate
from registry.store.documents import SqlDocumentStore
from registry.store.governance import SqlGovernanceJournal
from registry.store.indexer import Indexer
from registry.store.journal import SqlJournal
from registry.store.sender_lock import RecoveryFlag, SenderLock
from registry.title import TitleService
from registry.title.bridge import PlatformBridge
from registry.watchdog import ChainWatchdog, recheck_since
from registry.workers import Handoff, WorkerPlan, watch_supervisor

__all__ = ["Runtime", "embedded_anvil_config"]  # embedded_anvil_config: from runtime_parts

log = logging.getLogger(__name__)

GOVERNANCE = "governance"
RELAYER = "relayer"
BRIDGE = "bridge"

INDEX_WAIT = 10.0
"""Seconds a write answered final waits at most for the index to show it (read your own writes)."""


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
        self.archive_failure: ArchiveError | None = None
        """Why the chain archive (and so the index) cannot advance, while it cannot (``/readyz`` answers
        not ready): a block the node no longer serves, or one that does not verify."""
        self._watchdog: threading.Thread | None = None
        self._lock = DataFolderLock(settings.data_dir)
        self._may_deploy = False
        self._worker: WorkerPlan | None = None
        self._fence: ChainFence | None = None  # several workers on an embedded chain the supervisor keeps
        self._restored_chain: AnvilProcess | None = None
        self._leadership: Leadership | None = None
        self._handoff: Handoff | None = None

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        follow: bool = True,
        holder: str | None = None,
        url: str | None = None,
        deploy: bool = False,
        worker: WorkerPlan | None = None,
        restored_chain: AnvilProcess | None = None,
    ) -> Runtime:
        """Open every component (see the module docstring); close it with :meth:`close`.

        Args:
            holder: what this process is, for the refusal another one gets while it holds the data
                folder ("the gateway"); by default the program and its subcommand.
            url: the gateway URL this process serves, which that refusal offers instead.
            deploy: deploy the registry now (``ebl ledger deploy``): the one way to deploy it in
                production, where opening a data folder without a manifest is refused; refused when
                the manifest exists.
            worker: open as one of several gateway workers (:mod:`registry.workers`): on the plan's
                chain, under its supervisor's data-folder lock, relaying only while elected leader.
            restored_chain: the supervisor's embedded chain, whose loaded state says what final
                operations the first leader re-checks (see :func:`registry.watchdog.recheck_since`).

        Raises:
            RegistryInUseError: another live runtime holds the data folder (nothing was touched).
        """
        runtime = cls(settings or Settings())
        runtime._may_deploy = deploy
        runtime._worker, runtime._restored_chain = worker, restored_chain
        if worker is None:
            runtime._lock.acquire(holder, url)  # first: a refused open must not reach close()'s anvil
        else:  # the supervisor holds the folder for all its workers
            runtime._lock.require_holder((os.getpid(), worker.supervisor_pid))
        try:
            runtime._open(follow)
        except BaseException:
            runtime.close()
            raise
        return runtime

    def _open(self, follow: bool) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        if self._worker is not None:
            url = self._worker.chain_url
        elif s.embedded_chain:
            self.anvil = start_embedded_chain(s)
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

        if self._worker is not None:
            await_kept_chain(self.w3)
        self.keystore = KeyStore(s.resolved_keystore_dir, passphrase_source(s), kdf_n=s.keystore_kdf_n)
        governance = operator_signer(self.keystore, GOVERNANCE)
        relayer_signer = operator_signer(self.keystore, RELAYER)
        bridge_signer = operator_signer(self.keystore, BRIDGE)
        if s.env == "development" and s.ledger_profile.dev_funding:
            # gas money on a development node only; elsewhere the operator funds these accounts (in the
            # genesis alloc), or the chain charges no gas, as the Besu QBFT profile does
            fund_dev_accounts(self.w3, (governance.address, relayer_signer.address, bridge_signer.address))

        self.deployment = open_deployment(self.w3, s, governance, bridge_signer, may_deploy=self._may_deploy)

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
        )  # started by the relayer leader's duties (_lead)
        archive = ChainArchive(self.w3, self.engine, self.deployment.block_number)
        self.indexer = Indexer(self.w3, self.deployment, self.engine, archive=archive)
        self.title = TitleService(
            self.w3,
            self.deployment,
            self.relayer,
            self.journal,
            self.documents,
            self.keystore,
            carriers=self.carrier_codes,
            index=self.engine,
            archive=archive,
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
            index=self.indexer,
            send_lock=SenderLock(self.engine, bridge_signer.address),  # shared by the workers
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
            index=self.indexer,
        )
        self.attester = Attester(
            self.w3,
            self.deployment.address,
            self.deployment.chain_id,
            self.title.head,
            AttestationKeys(s.data_dir, s.attestation_alg),
        )
        if s.dcsa_apis:
            self.dcsa = CallbackOutbox(self.engine, s.platform_code, max_backoff=s.dcsa_callback_max_backoff)
        if self._worker is None:
            self._lead(follow, recheck_since(self.anvil, None))
            return
        # One of several workers: relay (and do the run-once duties) only while elected leader.
        watch_supervisor(self._worker.supervisor_pid)
        self.title.relays = False
        if follow:
            self.title.index_barrier = self.await_indexed  # polls the index the leader keeps
        restored = self._restored_chain
        self._recovery = RecoveryFlag(self.engine, self.deployment.address)
        # the leader's gate is every worker's; so is its word on which chain process it recovered
        self._fence = ChainFence(s.chain_state_path) if s.embedded_chain else None
        fence = self._fence.holds if self._fence is not None else None
        self.title.writes.share(self._recovery, leading=False, fence=fence)
        self._leadership = Leadership(
            self.engine,
            leader_key(self.deployment.address),
            lambda: self._lead(follow, recheck_since(restored, None), handoff=True),
        )
        self._leadership.start()  # close() gives the lead up even if the first leader's duties fail

    @property
    def leading(self) -> bool:
        """True when this process relays: a single process always, one of several workers while elected."""
        return self._leadership is None or self._leadership.leading

    def _lead(self, follow: bool, recheck: datetime | None, *, handoff: bool = False) -> None:
        """Start what exactly one process of a registry runs: the relayer, the restart recovery, the
        index follower, the chain watchdog, PINT resumes and the DCSA drainer."""
        s = self.settings
        self.relayer.start()
        serving = self._fence.current() if self._fence is not None else None
        # governance first: a lost onboarding must be back before the new member's own operations
        self.members.governance.recover(recheck_final_since=recheck)
        resubmitted = self.title.recover(recheck_final_since=recheck)
        if resubmitted:
            log.warning("resubmitted %d journaled operations after restart", resubmitted)
        if self._fence is not None:  # the chain as it was before the recovery: if it restarted since,
            self._fence.vouch(serving)  # the watchdog sees another process and recovers that one too
        self.title.relays = True
        if handoff:
            self.title.writes.share(
                self._recovery, leading=True, fence=self._fence.holds if self._fence is not None else None
            )
            self._handoff = Handoff(self.journal, self.title).start()
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
                fence=self._fence,
            )
            self._watchdog = threading.Thread(target=watchdog.run, name="chain-watchdog", daemon=True)
            self._watchdog.start()
            self.pint.start()  # resumes outgoing PINT transfers a crash interrupted
        if self.dcsa is not None and follow:  # the process that follows the chain delivers callbacks
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
        if self._handoff is not None:
            self._handoff.stop()
        if hasattr(self, "relayer"):
            self.relayer.stop()
        if self._leadership is not None:  # after the relayer stopped: the next leader takes over
            self._leadership.stop()
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

    def await_indexed(self, block: int, timeout: float = INDEX_WAIT) -> bool:
        """Block until the index holds every event up to ``block`` (the follower syncs at once rather
        than at its next round); False if it did not within ``timeout`` seconds (the index is failing:
        the caller answers anyway, and the failure is logged by the follower)."""
        if self.indexer.applied_block() >= block:
            return True
        if self._follower is None:  # a worker that does not lead: the leader's follower indexes
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                time.sleep(0.02)
                if self.indexer.applied_block() >= block:
                    return True
            log.warning("the index did not reach block %d within %.0f s", block, timeout)
            return False
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
            except ArchiveError as exc:  # history the node no longer serves: never skipped, say so
                if self.archive_failure is None or str(exc) != str(self.archive_failure):
                    log.error("the chain archive cannot advance (the index stops there): %s", exc)
                self.archive_failure = exc
                failing = True
            except Exception:  # keep following; the next round retries from the checkpoint
                if not failing:  # once per streak: a chain outage would log a traceback per round
                    log.exception("indexer sync failed (retrying quietly until it succeeds)")
                failing = True
            else:
                if failing:
                    log.warning("indexer sync succeeds again")
                failing = False
                self.archive_failure = None

    # ------------------------------------------------------------------ crash recovery

    def wait_chain_persisted(self, timeout: float | None = None) -> bool:
        """Block until the embedded chain has dumped every block mined so far to its state file (after
        the first start's deployment and onboarding, which are not journaled); True without one.
        ``timeout`` defaults to three of its state intervals and ten seconds."""
        anvil = self.anvil or self._restored_chain  # a worker's chain is its supervisor's
        if anvil is None:
            return True
        return anvil.wait_persisted(timeout)
