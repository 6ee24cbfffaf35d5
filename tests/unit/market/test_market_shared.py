"""``SharedMarketData`` in one process (no Redis): one fetch per bucket, shared by everyone."""

from __future__ import annotations

import asyncio

import pytest

from oppscan.domain.errors import MarketDataUnavailable
from oppscan.market.shared import SharedMarketData
from oppscan.market.snapshot import MarketSnapshot


class CountingSource:
    """A source that counts fetches and can be made slow or failing."""

    name = "counting"

    def __init__(self, delay: float = 0.05, failures: int = 0) -> None:
        self.calls: list[int] = []
        self.delay = delay
        self.failures = failures

    def universe(self) -> tuple[str, ...]:
        return ("BTC/USDT", "ETH/USDT")

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        self.calls.append(as_of_ms)
        await asyncio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("exchange down")
        return MarketSnapshot(
            source=self.name, as_of_ms=as_of_ms, exchanges=("x",), symbols=self.universe()
        )

    async def close(self) -> None:
        return None


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_concurrent_callers_share_one_fetch() -> None:
    source = CountingSource()
    market = SharedMarketData(source, bucket_seconds=60, clock=Clock(6_000.0))
    snapshots = await asyncio.gather(*(market.snapshot() for _ in range(50)))
    assert market.fetches == 1 and len(source.calls) == 1
    assert all(s is snapshots[0] for s in snapshots)
    assert snapshots[0].as_of_ms == 6_000_000  # the bucket's start
    assert await market.snapshot() is snapshots[0] and market.fetches == 1


async def test_a_new_bucket_fetches_again() -> None:
    clock = Clock(6_000.0)
    market = SharedMarketData(CountingSource(), bucket_seconds=60, clock=clock)
    first = await market.snapshot()
    clock.now += 59
    assert await market.snapshot() is first
    clock.now += 1
    second = await market.snapshot()
    assert second is not first and market.fetches == 2 and second.as_of_ms == 6_060_000


async def test_force_refresh_fetches_once_and_becomes_current() -> None:
    clock = Clock(6_000.0)
    market = SharedMarketData(CountingSource(), bucket_seconds=60, clock=clock)
    old = await market.snapshot()
    clock.now += 10
    refreshed = await asyncio.gather(*(market.snapshot(force_refresh=True) for _ in range(10)))
    assert market.fetches == 2 and all(r is refreshed[0] for r in refreshed)
    assert refreshed[0] is not old and refreshed[0].as_of_ms == 6_010_000
    assert await market.snapshot() is refreshed[0]  # the rest of the bucket sees the new one


async def test_a_failed_fetch_reaches_every_waiter_and_is_not_cached() -> None:
    source = CountingSource(failures=1)
    market = SharedMarketData(source, bucket_seconds=60, clock=Clock(6_000.0))
    results = await asyncio.gather(*(market.snapshot() for _ in range(5)), return_exceptions=True)
    # Each waiter is told the market is unavailable, naming the source (the cause kept).
    failures = [r for r in results if isinstance(r, MarketDataUnavailable)]
    assert len(failures) == 5 and len(source.calls) == 1
    assert all(
        r.source == "counting" and isinstance(r.__cause__, ConnectionError) for r in failures
    )
    assert (await market.snapshot()).symbols == ("BTC/USDT", "ETH/USDT")
    assert len(source.calls) == 2


async def test_a_cancelled_caller_does_not_cancel_the_fetch_of_the_others() -> None:
    source = CountingSource(delay=0.1)
    market = SharedMarketData(source, bucket_seconds=60, clock=Clock(6_000.0))
    impatient = asyncio.create_task(market.snapshot())
    patient = asyncio.create_task(market.snapshot())
    await asyncio.sleep(0.02)
    impatient.cancel()
    assert (await patient).source == "counting" and market.fetches == 1
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_keys_name_source_universe_and_bucket() -> None:
    market = SharedMarketData(CountingSource(), bucket_seconds=30, clock=Clock(6_000.0))
    source, universe_hash, bucket = market.bucket_key().split(":")
    assert source == "counting" and len(universe_hash) == 12 and bucket == "200"
