"""Fifty concurrent scans of one market fetch that market once, in all.

Over Redis: one API container and two SAQ workers in this process, each worker with its own
container and so its own ``SharedMarketData`` (as separate processes sharing Redis would have).
Embedded: one process, one ``SharedMarketData``. The source sleeps ``LATENCY_MS`` per fetch, so
every scan's strategies ask for the snapshot while the first fetch is still in flight. The market
clock is pinned, so no run straddles a time bucket (a new bucket is rightly a new fetch).

Fetches are counted three ways: ``SharedMarketData.fetches`` summed over every instance built,
the ``oppscan_market_fetches_total`` counter summed over every container's registry, and calls
into the source's ``fetch`` / ``build`` themselves (a counting source passed to ``bootstrap``).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import pytest

from oppscan.bootstrap import Container
from oppscan.domain.models import Holding, Portfolio, ScanStatus, StrategyStatus
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS
from oppscan.market.synthetic.source import SyntheticSource
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsQuery
from oppscan.settings import Settings
from oppscan.strategies.registry import load_strategies
from tests.conftest import TEST_REDIS_URL
from tests.integration.inprocess import Build, PinnedMarket, pinned, running

SCANS = 50
LATENCY_MS = 300
STRATEGIES = sorted(load_strategies())  # all 14; the portfolio ones need the holdings
PORTFOLIO = Portfolio(
    holdings=(Holding(symbol="BTC/USDT", quantity=0.5), Holding(symbol="ETH/USDT", quantity=4)),
    cash_usd=2000.0,
)
PINNED_S = DEFAULT_AS_OF_MS / 1000 + 15


@dataclass
class Fetches:
    containers: list[Container] = field(default_factory=list)
    source_fetches: int = 0
    source_builds: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # build runs in a thread

    @property
    def shared(self) -> int:
        return sum(market_of(c).shared.fetches for c in self.containers)

    @property
    def counted(self) -> float:
        """``oppscan_market_fetches_total`` over every container's registry."""
        samples = (
            c.registry.get_sample_value("oppscan_market_fetches_total", {"source": SOURCE_NAME})
            for c in self.containers
        )
        return sum(value or 0.0 for value in samples)


def market_of(container: Container) -> PinnedMarket:
    assert isinstance(container.market, PinnedMarket)
    return container.market


class CountingSource(SyntheticSource):
    """The default synthetic source, counting its calls into ``seen``."""

    def __init__(self, settings: Settings, seen: Fetches) -> None:
        super().__init__(
            settings.synthetic_seed,
            exchanges=tuple(settings.exchanges),
            latency_ms=settings.synthetic_latency_ms,
        )
        self.seen = seen

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        self.seen.source_fetches += 1
        return await super().fetch(as_of_ms)

    def build(self, as_of_ms: int = DEFAULT_AS_OF_MS, *, bars: bool = True) -> MarketSnapshot:
        with self.seen.lock:
            self.seen.source_builds += 1
        return super().build(as_of_ms, bars=bars)


SOURCE_NAME = SyntheticSource(Settings().synthetic_seed).name


def counting(settings: Settings, seen: Fetches) -> Build:
    """Containers over a pinned market whose source counts its calls."""
    return pinned(settings, PINNED_S, lambda: CountingSource(settings, seen), seen.containers)


async def fifty_scans(c: Container) -> None:
    users = [Principal(f"user{i}", tier="enterprise") for i in range(SCANS)]
    body = DiscoverInput(strategy_ids=STRATEGIES, portfolio=PORTFOLIO)
    started = await asyncio.gather(*(c.service.start(u, body) for u in users))
    assert not any(s.reused for s in started)
    scans = [(u, s.record.scan_id) for u, s in zip(users, started, strict=True)]
    # A guard against a hang, not a speed test: 700 strategy jobs in one process, under coverage
    # on a loaded 2-core machine, came past 45 s.
    async with asyncio.timeout(120):
        while True:
            views = await asyncio.gather(*(c.service.status(u, sid) for u, sid in scans))
            if all(v.record.status.terminal for v in views):
                break
            await asyncio.sleep(0.1)
    for v in views:
        assert v.record.status is ScanStatus.COMPLETE, (v.record.scan_id, v.record.error)
        assert all(s.status is StrategyStatus.DONE for s in v.strategies.values()), v.strategies
    # Every scan read the same snapshot: the same opportunities, to the id.
    pages = await asyncio.gather(
        *(c.service.results(u, sid, ResultsQuery(limit=10_000)) for u, sid in scans)
    )
    ids = [sorted(o.opportunity_id for o in p.opportunities) for p in pages]
    assert ids[0] and all(i == ids[0] for i in ids)


@pytest.mark.redis
async def test_fifty_scans_over_redis_and_two_workers_fetch_once(key_prefix: str) -> None:
    settings = Settings(
        redis_url=TEST_REDIS_URL, key_prefix=key_prefix, synthetic_latency_ms=LATENCY_MS
    )
    seen = Fetches()
    async with running(settings, workers=2, concurrency=8, build=counting(settings, seen)) as api:
        assert len(seen.containers) == 3  # the API's and each worker's own
        await fifty_scans(api)
        assert api is seen.containers[0] and market_of(api).shared.fetches == 0  # no job here
    assert seen.shared == 1
    assert seen.counted == 1
    assert (seen.source_fetches, seen.source_builds) == (1, 1)


async def test_fifty_scans_embedded_fetch_once() -> None:
    settings = Settings(redis_url=None, synthetic_latency_ms=LATENCY_MS)
    seen = Fetches()
    async with running(settings, build=counting(settings, seen)) as c:
        await fifty_scans(c)
        assert seen.containers == [c] and market_of(c).shared.fetches == 1
    assert seen.counted == 1
    assert (seen.source_fetches, seen.source_builds) == (1, 1)
