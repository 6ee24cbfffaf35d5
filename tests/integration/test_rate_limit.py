"""The rate limit under concurrency: one user's simultaneous starts start exactly the limit.

Against a real Redis, and against the in-process store as an API process's event loop sees a
remote one (every store call lets the other requests run first).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from oppscan.domain.errors import StoreUnavailable
from oppscan.service.errors import RateLimited
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import RATE_WINDOW_SECONDS, ScanService, Started
from oppscan.settings import Settings
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.store.port import ScanStore
from oppscan.store.redis_store import RedisScanStore
from oppscan.strategies.base import Strategy
from tests.unit.fakes import RecordingQueue
from tests.unit.test_scan_service import Idle, Universe

ALICE = Principal("alice")  # tier basic


class Yielding:
    """The in-process store as a remote one looks to the event loop: every call yields first."""

    def __init__(self, inner: InMemoryScanStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(method):
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return await method(*args, **kwargs)

        return call


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, key_prefix: str) -> ScanStore:
    if request.param == "memory":
        return Yielding(InMemoryScanStore(result_ttl_seconds=600))
    client: aioredis.Redis = request.getfixturevalue("redis_client")
    return RedisScanStore(client, prefix=key_prefix, result_ttl_seconds=600)


def service(store: ScanStore, queue: RecordingQueue, per_minute: int) -> ScanService:
    settings = Settings(scans_per_minute={"basic": per_minute})
    strategies: dict[str, Strategy] = {"idle": Idle()}
    return ScanService(settings, store, queue, Universe(), strategies)


async def whole_window(store: ScanStore, needed: float = 5.0) -> None:
    """Wait for a fresh window when this one ends too soon: a test's starts must share one."""
    now = await store.now()
    left = RATE_WINDOW_SECONDS - now % RATE_WINDOW_SECONDS
    if left < needed:
        await asyncio.sleep(left + 0.05)


@pytest.mark.parametrize("n", [50, 200])
async def test_concurrent_starts_from_one_user_start_exactly_the_limit(
    store: ScanStore, n: int
) -> None:
    queue = RecordingQueue()
    scans = service(store, queue, per_minute=10)
    await whole_window(store)
    bodies = [DiscoverInput(capital_usd=1_000 + i) for i in range(n)]  # n different requests
    results = await asyncio.gather(
        *(scans.start(ALICE, body) for body in bodies), return_exceptions=True
    )
    started = [r for r in results if isinstance(r, Started) and not r.reused]
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert (len(started), len(refused)) == (10, n - 10), [
        r for r in results if not isinstance(r, (Started, RateLimited))
    ]
    assert len(queue.enqueued) == 10
    assert all(1 <= r.retry_after <= RATE_WINDOW_SECONDS and r.limit == 10 for r in refused)


async def test_identical_concurrent_requests_at_the_limit_reuse_one_scan(store: ScanStore) -> None:
    queue = RecordingQueue()
    scans = service(store, queue, per_minute=1)
    await whole_window(store)
    results = await asyncio.gather(*(scans.start(ALICE, DiscoverInput()) for _ in range(8)))
    assert len({r.record.scan_id for r in results}) == 1
    assert sum(not r.reused for r in results) == 1
    assert len(queue.enqueued) == 1
    with pytest.raises(RateLimited):  # the one start the limit allows was counted
        await scans.start(ALICE, DiscoverInput(capital_usd=5_000))


async def test_a_start_that_could_not_be_queued_costs_no_quota(store: ScanStore) -> None:
    queue = RecordingQueue(fail=True)
    scans = service(store, queue, per_minute=1)
    await whole_window(store)
    with pytest.raises(StoreUnavailable):
        await scans.start(ALICE, DiscoverInput())
    queue.fail = False
    started = await scans.start(ALICE, DiscoverInput(capital_usd=5_000))
    assert not started.reused and len(queue.enqueued) == 1
