"""The chain watchdog: restart a dead embedded chain; after any outage or rollback, resubmit what it lost.

See docs/reliability.md, "Crash and restart". A runtime that follows the chain runs one
:class:`ChainWatchdog` on its own thread (``chain-watchdog``). When the embedded anvil dies (``kill -9``,
OOM) it is restarted in place, on the same port, from its state file; when any chain becomes
unreachable and comes back, or its head goes backwards, the relayer forgets its in-flight transactions
and :meth:`TitleService.recover` runs with ``recheck_final_since``: operations the restored chain lost,
even ones already reported final, are resubmitted from their journaled signed entries (their nonces are
unused there), so every acknowledged operation ends final exactly once. From the moment the watchdog
sees the chain down until that resubmission, the title service's write gate refuses new writes (503,
retry): none may run ahead of the older operations being resubmitted; the indexer rolls back on its own
when its checkpoint block changed or vanished. Every few seconds the watchdog also backs up the chain
state file and resubmits journaled operations left pending by a failed send.

With on-demand mining the embedded chain's dump interval adapts to the state's size after every dump
(:mod:`registry.chain.anvil_persist`), so the chain is never restarted to dump less often.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from web3 import Web3

from registry.chain.anvil import AnvilProcess
from registry.chain.relayer import Relayer
from registry.errors import RegistryError
from registry.governance import GovernanceSender
from registry.title import TitleService

__all__ = ["ChainWatchdog", "recheck_since"]

log = logging.getLogger(__name__)

WATCH_EVERY = 0.5
"""Seconds between the chain watchdog's probes."""
CHORES_EVERY = 5.0
"""Seconds between retries of operations left pending by a failed send."""
BACKUP_EVERY = 30.0
"""The most seconds the embedded chain's state-file backup may lag the newest complete dump
(:class:`registry.chain.anvil_state.BackupSchedule`), and so about how often it is copied while the
chain changes. A backup copies the whole dump, which grows with the chain (every 5 s it took a tenth
of the gateway's CPU under load); it is only read when the newest dump is torn, and what an older
backup lacks the journal resubmits. How old the newest dump itself may be is the persister's
interval (``EBL_CHAIN_STATE_INTERVAL`` to ``EBL_CHAIN_STATE_INTERVAL_MAX``)."""
RETRY_MIN_AGE = 10.0
"""An operation pending this long without being tracked is resubmitted by the periodic retry."""
RESTART_BACKOFF = 2.0
"""Seconds between attempts to restart a dead embedded chain."""
RECHECK_MARGIN = 60.0
"""Operations final up to this many seconds before the restored state's dump time are re-checked too."""


def recheck_since(anvil: AnvilProcess | None, down_since: float | None) -> datetime | None:
    """From when final operations may have been lost by the chain: the loaded state's dump time or
    the start of the outage, whichever is earlier, minus :data:`RECHECK_MARGIN`."""
    moments = [t for t in (down_since, anvil.loaded_state_time if anvil else None) if t]
    if not moments:
        return None
    return datetime.fromtimestamp(min(moments) - RECHECK_MARGIN, UTC)


class KeptChain(Protocol):
    """An embedded chain another process keeps (:class:`registry.chain_keeper.ChainFence`)."""

    def current(self) -> object | None: ...

    def vouched(self) -> object | None: ...

    def vouch(self, instance: object | None) -> None: ...


class ChainWatchdog:
    """Watches one runtime's chain until ``stop`` is set (see the module docstring).

    Args:
        w3: connection to the ledger.
        anvil: the embedded chain, restarted in place when it dies (None: an external chain).
        relayer: reset when the chain goes away or rolls back.
        title: its write gate is closed during recovery, and its journal resubmitted.
        stop: set by the runtime to end :meth:`run`.
        state_path: the embedded chain's state file (for the log).
        governance: resends the governance transactions the chain lost, before the title journal's.
        fence: which process serves an embedded chain another process keeps (a worker's: the
            supervisor's :class:`~registry.chain_keeper.ChainKeeper` restarts it); a change between two
            probes is an outage too, however short (the restored chain may have lost blocks). Once the
            chain it serves is recovered (at start, by the runtime), the watchdog vouches for it, and
            the workers' writes pass again (:class:`~registry.chain_keeper.ChainFence`).
    """

    def __init__(
        self,
        w3: Web3,
        anvil: AnvilProcess | None,
        relayer: Relayer,
        title: TitleService,
        stop: threading.Event,
        state_path: Path,
        *,
        governance: GovernanceSender | None = None,
        fence: KeptChain | None = None,
    ) -> None:
        self._w3 = w3
        self._anvil = anvil
        self._relayer = relayer
        self._title = title
        self._stop = stop
        self._state_path = state_path
        self._governance = governance
        self._fence = fence

    def run(self) -> None:
        """Restart a dead embedded chain; after any outage or rollback, resubmit what the chain lost."""
        anvil = self._anvil
        down_since: float | None = None
        last_head = -1
        next_restart = 0.0
        next_chores = time.monotonic() + CHORES_EVERY
        backups = anvil.backup_schedule(BACKUP_EVERY, WATCH_EVERY) if anvil is not None else None
        # the process the runtime recovered at start, and the one the workers' writes may pass for
        last_instance = vouched = self._fence.vouched() if self._fence is not None else None
        while not self._stop.wait(WATCH_EVERY):
            try:
                dead = anvil is not None and (anvil.exit_code is not None or anvil.pid is None)
                if anvil is not None and dead and time.monotonic() >= next_restart:
                    log.error(
                        "the embedded chain (anvil) exited with status %s; restarting it from %s",
                        anvil.exit_code,
                        self._state_path,
                    )
                    down_since = down_since or time.time()
                    next_restart = time.monotonic() + RESTART_BACKOFF
                    self._title.writes.close("the ledger is restarting; retry shortly")
                    self._relayer.reset("the chain exited")
                    anvil.restart()
                head = self._w3.eth.block_number
            except Exception as exc:
                if down_since is None:
                    down_since = time.time()
                    self._title.writes.close("the ledger is unreachable; retry shortly")
                    log.error(
                        "the chain is unreachable (%s): writes stay journaled and are resubmitted when it "
                        "returns",
                        type(exc).__name__,
                    )
                elif isinstance(exc, RegistryError):  # a failed restart of the embedded chain says why
                    log.error("restarting the embedded chain failed: %s", exc)
                continue
            try:
                instance = self._fence.current() if self._fence is not None else None
                if instance is not None:
                    if last_instance is not None and instance != last_instance and down_since is None:
                        log.error("the chain was restarted between two probes: it may have lost blocks")
                        down_since = time.time()
                    last_instance = instance
                if down_since is not None or head < last_head:
                    # No new write may reach the restored chain before what it lost is resubmitted:
                    # the gate stays closed until recover() has handed every lost operation, oldest
                    # first, to the relayer (see registry.title.gate).
                    self._title.writes.close("the ledger is recovering; retry shortly")
                    self._relayer.reset("the chain went away or rolled back")
                    since = recheck_since(anvil, down_since or time.time())
                    if self._governance is not None:  # first: a lost onboarding before its member's acts
                        self._governance.recover(recheck_final_since=since)
                    resubmitted = self._title.recover(recheck_final_since=since)
                    log.warning("the chain is back at block %d: resubmitted %d operations", head, resubmitted)
                    self._title.writes.open()
                    down_since = None
                last_head = head
                if self._fence is not None and instance is not None and instance != vouched:
                    self._fence.vouch(instance)  # recovered (or, at start, by the runtime)
                    vouched = instance
                if backups is not None:
                    backups.tick()
                if time.monotonic() >= next_chores:
                    next_chores = time.monotonic() + CHORES_EVERY
                    retried = self._title.recover(min_age=RETRY_MIN_AGE)
                    if retried:
                        log.warning("resubmitted %d operations left pending by a failed send", retried)
            except Exception:  # keep watching; the next round retries
                log.exception("chain watchdog round failed")
