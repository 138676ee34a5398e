"""Consistent state dumps of the embedded anvil, driven by the registry and serialised with mining.

anvil's own dumps (``--state`` with ``--state-interval``) are not consistent: anvil 1.7.1 reads the
blocks and transactions first and then awaits the accounts (``serialized_state`` in
``crates/anvil/src/eth/backend/mem/mod.rs``), so a block mined in between lands in the dumped state but
not in the dumped blocks. After a ``kill -9`` such a state holds eBLs (their nonces used) whose blocks,
receipts and logs are gone for good, and the auditor's history with them.

With on-demand mining (``--no-mining``) the state changes only when :class:`OnDemandMiner` calls
``evm_mine``. So anvil runs with ``--load-state`` only (no timer, no dump on exit), and this persister
dumps it: it takes the miner's :attr:`~registry.chain.anvil_miner.OnDemandMiner.lock` (no block is mined
meanwhile), asks for ``anvil_dumpState`` (gzipped JSON; ``--load-state`` reads plain JSON), and writes
it to a temporary file beside the state file, fsynced, then ``os.replace``\\ s it onto the state file: the
state file is always one whole, consistent dump. The wait between dumps adapts to the state's size:
:data:`COST_FACTOR` times the last dump's duration, within ``[shortest, longest]``, so mining pauses for
dumps about 1 % of the time, and persistence costs about as much of a core. A round with nothing mined
since the last dump is skipped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from registry.background import DaemonLoop
from registry.chain.anvil_miner import OnDemandMiner, node_call

__all__ = ["COST_FACTOR", "StatePersister", "next_wait", "write_atomically"]

log = logging.getLogger("registry.chain.anvil")

COST_FACTOR = 100.0
"""The wait after a dump is this many times the dump's duration. No block is mined while a dump is
built (the miner's lock), so this bounds the share of time mining pauses, about 1 %: under that, the
pauses stay out of finality's p99. At 10 (a tenth of a core, the first choice) mining would pause 9 %
of the time: a 1-2 s pause every 10-20 s at 100 MiB of state, in most 10 s windows. The hour with anvil
dumping every 5 s had its p99 grow with the dump's duration (docs/ledger.md); at 100 it is 1.46x."""
DUMP_TIMEOUT = 600.0
"""Seconds one ``anvil_dumpState`` call may take (a state of hundreds of megabytes takes seconds)."""


def next_wait(duration: float, shortest: float, longest: float) -> float:
    """Seconds until the next dump after one that took ``duration``: ``COST_FACTOR * duration`` within
    ``[shortest, longest]``."""
    return max(shortest, min(longest, COST_FACTOR * duration))


CHUNK = 1 << 20
"""Bytes of the decompressed dump held at a time while it is written."""


def gunzipped(data: bytes) -> Iterator[bytes]:
    """The decompressed chunks of gzip ``data`` (the whole JSON is never held in memory at once).

    Raises:
        ValueError: ``data`` is not one whole gzip stream.
    """
    inflate = zlib.decompressobj(wbits=31)
    try:
        for start in range(0, len(data), CHUNK // 8):
            yield inflate.decompress(data[start : start + CHUNK // 8])
        yield inflate.flush()
    except zlib.error as exc:
        raise ValueError(f"anvil_dumpState did not return gzip: {exc}") from exc
    if not inflate.eof:
        raise ValueError("anvil_dumpState returned a truncated gzip stream")


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` so that a crash leaves either the old file or the whole new one: a
    temporary file in the same folder, fsynced, renamed over ``path``, and the folder fsynced."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StatePersister(DaemonLoop):
    """Dumps the anvil at ``url()`` to ``state`` on its own daemon thread (``anvil-persist``).

    Args:
        url: the node's JSON-RPC URL (a callable: the port is known once anvil has started).
        state: the state file anvil loads at its next start.
        miner: the on-demand miner; its lock is held during each dump, its block count says whether
            anything was mined since the last one.
        shortest: the least wait between two dumps, in seconds.
        longest: the most.
    """

    thread_name = "anvil-persist"

    def __init__(
        self, url: Callable[[], str], state: Path, miner: OnDemandMiner, shortest: float, longest: float
    ) -> None:
        super().__init__()
        self._url = url
        self.state = state
        self._miner = miner
        self.shortest = shortest
        self.longest = max(shortest, longest)
        self._dump_lock = threading.Lock()  # one dump at a time (the thread, wait_persisted, stop)
        self._dumped_blocks: int | None = None  # the miner's count at the last dump; None: none yet
        self.wait: float = shortest
        """Seconds until the next dump (adapted after each one)."""
        self.dumps = 0
        """Dumps written (for benchmarks and tests)."""
        self.last_duration: float | None = None
        """Seconds the last dump took, from the lock to the rename."""
        self.cpu_s = 0.0
        """This process's CPU seconds spent writing dumps (anvil's own share is in its process)."""

    def _starting(self) -> None:
        """Each start begins anew: the first round comes ``shortest`` seconds from now."""
        self._dumped_blocks = None  # a freshly started anvil may hold dev calls no block records
        self.wait = self.shortest

    def stop(self, *, final: bool) -> None:
        """Stop the thread; with ``final``, write one last dump (the caller has stopped mining)."""
        self._halt_thread(timeout=DUMP_TIMEOUT)
        if final:
            try:
                self.dump(force=True)
            except (OSError, ValueError) as exc:
                log.error("the final chain state dump to %s failed: %s", self.state, exc)

    def dump(self, *, force: bool = False) -> bool:
        """Write one consistent dump now, unless nothing was mined since the last one (``force``
        dumps anyway). Returns True when a dump was written.

        Raises:
            OSError: the node did not answer, or the file could not be written.
            ValueError: the node answered with an error.
        """
        with self._dump_lock:
            started = time.monotonic()
            with self._miner.lock:  # no block is mined between the dumped blocks and accounts
                blocks = self._miner.blocks
                if not force and blocks == self._dumped_blocks:
                    return False
                reply = node_call(self._url(), "anvil_dumpState", timeout=DUMP_TIMEOUT)
            cpu = time.process_time()
            write_atomically(self.state, gunzipped(bytes.fromhex(str(reply).removeprefix("0x"))))
            del reply
            self.cpu_s += time.process_time() - cpu
            self._dumped_blocks = blocks
            self.last_duration = time.monotonic() - started
            self.wait = next_wait(self.last_duration, self.shortest, self.longest)
            self.dumps += 1
            return True

    def _run(self) -> None:
        while not self._halt.wait(self.wait):
            try:
                self.dump()
            except (OSError, ValueError) as exc:  # the node is down (the watchdog restarts it)
                log.warning("dumping the chain state to %s failed: %s", self.state, exc)
