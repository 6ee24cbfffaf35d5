"""One market fetch for everyone, across "processes" sharing a real Redis.

Each ``SharedMarketData`` here has its own source, memory cache and in-flight map, exactly like
a separate process; only Redis is shared. The keys live under the test's own prefix and the
``redis_client`` fixture deletes them afterwards.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from oppscan.market.codec import decode_snapshot
from oppscan.market.shared import SharedMarketData
from oppscan.market.synthetic import SyntheticSource
from oppscan.store.redis_snapshots import RedisSnapshotBlobs
from oppscan.store.redis_store import connect
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.redis

NOW = 1_767_268_815.0  # a fixed clock: no test straddles a bucket boundary by accident


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def market(
    key_prefix: str,
    clock: Clock | None = None,
    bucket_seconds: float = 60,
    wait_timeout_seconds: float = 60,
) -> SharedMarketData:
    """A "process": its own source, cache and Redis connection, sharing only Redis."""
    blobs = RedisSnapshotBlobs(connect(TEST_REDIS_URL, decode_responses=False), prefix=key_prefix)
    # latency makes each fetch take ~120 ms, so the callers really do overlap
    return SharedMarketData(
        SyntheticSource(7, latency_ms=20),
        bucket_seconds=bucket_seconds,
        blobs=blobs,
        clock=clock or Clock(),
        wait_timeout_seconds=wait_timeout_seconds,
    )


async def test_fifty_callers_in_one_process_cost_one_fetch(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    shared = market(key_prefix)
    snapshots = await asyncio.gather(*(shared.snapshot() for _ in range(50)))
    assert shared.fetches == 1 and all(s is snapshots[0] for s in snapshots)
    data_key = f"{key_prefix}:market:{shared.bucket_key()}"
    assert await redis_client.exists(data_key) == 1
    assert 0 < await redis_client.pttl(data_key) <= 180_000
    assert await redis_client.exists(data_key + ":lock") == 0  # released after the fetch
    await shared.close()


async def test_two_processes_fifty_callers_cost_one_fetch_in_total(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    first, second = market(key_prefix), market(key_prefix)
    calls = [(first if i % 2 else second).snapshot() for i in range(50)]
    snapshots = await asyncio.gather(*calls)
    assert first.fetches + second.fetches == 1
    fetched = snapshots[0] if second.fetches == 0 else snapshots[1]
    decoded = snapshots[1] if second.fetches == 0 else snapshots[0]
    assert decoded is not fetched and decoded.tickers == fetched.tickers
    key = ("bybit", "SOL/USDT", "1h")
    assert (decoded.ohlcv[key].close == fetched.ohlcv[key].close).all()
    await first.close()
    await second.close()


async def test_a_dead_lock_holder_is_replaced_after_its_ttl(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    shared = market(key_prefix)
    lock_key = f"{key_prefix}:market:{shared.bucket_key()}:lock"
    # A process took the lock and died without fetching: its lock expires on its own.
    await redis_client.set(lock_key, "dead-process", px=400)
    loop = asyncio.get_running_loop()
    started = loop.time()
    snapshot = await shared.snapshot()
    assert loop.time() - started >= 0.3 and shared.fetches == 1
    assert snapshot.symbols[0] == "BTC/USDT"
    await shared.close()


async def test_waiters_give_up_with_a_clear_error_when_nobody_delivers(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    from oppscan.domain.errors import MarketDataUnavailable

    shared = market(key_prefix, wait_timeout_seconds=0.3)
    await redis_client.set(f"{key_prefix}:market:{shared.bucket_key()}:lock", "stuck", px=10_000)
    with pytest.raises(MarketDataUnavailable, match="fetch lock"):
        await shared.snapshot()
    assert shared.fetches == 0
    await shared.close()


async def test_a_forced_refresh_is_seen_by_the_other_process(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    # 5-minute buckets: the refresh, two minutes later, is a newer synthetic minute.
    first = market(key_prefix, clock, bucket_seconds=300)
    second = market(key_prefix, clock, bucket_seconds=300)
    before = await first.snapshot()
    clock.now += 120
    refreshed = await asyncio.gather(*(first.snapshot(force_refresh=True) for _ in range(5)))
    assert first.fetches == 2 and all(r is refreshed[0] for r in refreshed)
    assert refreshed[0].as_of_ms == before.as_of_ms + 120_000
    seen = await second.snapshot()
    assert second.fetches == 0 and seen.as_of_ms == refreshed[0].as_of_ms
    raw = await redis_client.get(f"{key_prefix}:market:{first.bucket_key()}:current")
    assert raw is not None and raw.startswith(first.bucket_key() + ":r")
    await first.close()
    await second.close()


async def test_the_stored_bytes_are_the_codec_format(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    shared = market(key_prefix)
    snapshot = await shared.snapshot()
    raw = aioredis.Redis.from_url(TEST_REDIS_URL)  # bytes, not decoded strings
    try:
        blob = await raw.get(f"{key_prefix}:market:{shared.bucket_key()}")
        assert blob is not None and decode_snapshot(blob).tickers == snapshot.tickers
    finally:
        await raw.aclose()
    await shared.close()
