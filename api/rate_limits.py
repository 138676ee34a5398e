"""Each credential's rate limit, kept in this process or shared by every gateway process on the host.

The limit is pyrate-limiter's sliding-window log: at most ``burst`` requests of one credential in any
window of ``burst / rate`` seconds, so a credential may burst to ``burst`` and sustains ``rate`` per
second (what the token bucket this replaces allowed). Each credential has its own bucket:

* in memory (the default, one gateway process): ``InMemoryBucket``;
* shared (``shared_path``, several gateway workers on one host): ``SQLiteBucket`` in one SQLite file,
  one table per credential, with pyrate-limiter's file lock around each count-and-insert, so two
  processes never both admit the request that fills the window.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from pyrate_limiter import (
    AbstractBucket,
    BucketFactory,
    InMemoryBucket,
    Limiter,
    Rate,
    RateItem,
    SQLiteBucket,
)

from registry.errors import ConfigurationError

__all__ = ["RateLimiter"]


class _PerCredential(BucketFactory):
    """One bucket per credential id, created on its first request."""

    def __init__(self, rates: list[Rate], shared_path: Path | None) -> None:
        self._rates, self._shared_path = rates, shared_path
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self._bucket(name).now(), weight=weight)  # type: ignore[no-untyped-call]

    def get(self, item: RateItem) -> AbstractBucket:
        return self._bucket(item.name)

    def _bucket(self, name: str) -> AbstractBucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            with self._lock:
                bucket = self._buckets.get(name)
                if bucket is None:
                    bucket = self._buckets[name] = self._create(name)
        return bucket

    def _create(self, name: str) -> AbstractBucket:
        if self._shared_path is None:
            return self.create(InMemoryBucket, self._rates)
        # A table name from the credential id's digest: ids are ours, but never spliced into SQL as given.
        table = "rate_" + hashlib.sha256(name.encode()).hexdigest()[:32]
        bucket = SQLiteBucket.init_from_file(
            self._rates, table=table, db_path=str(self._shared_path), use_file_lock=True
        )
        self.schedule_leak(bucket)
        return bucket


class RateLimiter:
    """``rate`` requests per second per credential, bursts up to ``burst``.

    Args:
        rate: sustained requests per second.
        burst: the most requests admitted at once.
        shared_path: a SQLite file every gateway process on the host shares (None: this process only).
    """

    def __init__(self, rate: float, burst: int, *, shared_path: Path | None = None) -> None:
        if rate <= 0 or burst < 1:
            raise ConfigurationError("a rate limit needs rate > 0 and burst >= 1")
        self.rate, self.burst, self.shared_path = rate, burst, shared_path
        window_ms = max(1, round(burst / rate * 1000))
        self._factory = _PerCredential([Rate(burst, window_ms)], shared_path)
        self._limiter = Limiter(self._factory)

    def allow(self, key: str) -> bool:
        """Count one request of credential ``key``; False when its window is full (nothing waits)."""
        return bool(self._limiter.try_acquire(key, blocking=False))

    def close(self) -> None:
        """Stop the background leak task and close shared buckets."""
        self._limiter.close()
