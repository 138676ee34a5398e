"""A credential's rate limit, as two gateway workers on one host share it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from api.rate_limits import RateLimiter
from registry.errors import ConfigurationError


def _admitted(shared: Path, credential: str, attempts: int, start: multiprocessing.synchronize.Event) -> int:
    limiter = RateLimiter(0.01, 20, shared_path=shared)  # 20 requests per 2000 s: the window never moves
    start.wait()
    admitted = sum(limiter.allow(credential) for _ in range(attempts))
    limiter.close()
    return admitted


def test_two_gateway_processes_sharing_a_limit_file_admit_one_burst_between_them(tmp_path: Path) -> None:
    shared = tmp_path / "rate-limits.sqlite"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(2) as pool:
            results = [pool.apply_async(_admitted, (shared, "bank-ops", 15, start)) for _ in range(2)]
            start.set()
            admitted = [r.get(timeout=120) for r in results]
    assert sum(admitted) == 20, admitted  # 30 tries, one burst of 20 between both processes


def test_a_worker_without_the_shared_file_counts_only_its_own_requests() -> None:
    first, second = RateLimiter(0.01, 3), RateLimiter(0.01, 3)
    assert [first.allow("carrier-ops") for _ in range(4)] == [True, True, True, False]
    assert second.allow("carrier-ops")  # its own count: the limit is per process
    assert first.allow("bank-ops")  # and per credential
    first.close()
    second.close()


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 10), (-1.0, 10), (5.0, 0)])
def test_a_limit_that_admits_nothing_is_refused_at_start_up(rate: float, burst: int) -> None:
    with pytest.raises(ConfigurationError, match="rate > 0 and burst >= 1"):
        RateLimiter(rate, burst)
