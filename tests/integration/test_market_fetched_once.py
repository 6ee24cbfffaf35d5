"""Fifty concurrent scans of one market fetch that market once, in all.

Over Redis: one API container and two SAQ workers in this process, each worker with its own
container and so its own ``SharedMarketData`` (as separate processes sharing Redis would have).
Embedded: one process, one ``SharedMarketData``. The source sleeps ``LATENCY_MS`` per fetch, so
every scan's strategies ask for the snapshot while the first fetch is still in flight. The market
clock is pinned, so no run straddles a time bucket (a new bucket is rightly a new fetch).

Fetches are counted three ways: ``SharedMarketData.fetches`` summed over every instance built,
the ``oppscan_market_fetches_total`` counter (every instance lives in this process), and calls
into ``SyntheticSource.fetch`` / ``build`` themselves.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY

from oppscan.bootstrap import Container
from oppscan.domain.models import Holding, Portfolio, ScanStatus, StrategyStatus
from oppscan.market.shared import SharedMarketData
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS
from oppscan.market.synthetic.source import SyntheticSource
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsQuery
from oppscan.settings import Settings
from oppscan.strategies.registry import load_strategies
from tests.conftest import TEST_REDIS_URL
from tests.integration.inprocess import pin_market_clock, running

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
    markets: list[SharedMarketData] = field(default_factory=list)
    source_fetches: int = 0
    source_builds: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # build runs in a thread

    @property
    def shared(self) -> int:
        return sum(m.fetches for m in self.markets)


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> Fetches:
    """Records every market built from settings, pins its clock, counts the source's calls."""
    seen = Fetches()

    real_fetch, real_build = SyntheticSource.fetch, SyntheticSource.build

    async def counting_fetch(self: SyntheticSource, as_of_ms: int) -> MarketSnapshot:
        seen.source_fetches += 1
        return await real_fetch(self, as_of_ms)

    def counting_build(self: SyntheticSource, as_of_ms: int = DEFAULT_AS_OF_MS) -> MarketSnapshot:
        with seen.lock:
            seen.source_builds += 1
        return real_build(self, as_of_ms)

    seen.markets = pin_market_clock(monkeypatch, PINNED_S)
    monkeypatch.setattr(SyntheticSource, "fetch", counting_fetch)
    monkeypatch.setattr(SyntheticSource, "build", counting_build)
    return seen


def fetch_counter(settings: Settings) -> float:
    name = SyntheticSource(settings.synthetic_seed, exchanges=tuple(settings.exchanges)).name
    value = REGISTRY.get_sample_value("oppscan_market_fetches_total", {"source": name})
    return value or 0.0


async def fifty_scans(c: Container) -> None:
    users = [Principal(f"user{i}", tier="enterprise") for i in range(SCANS)]
    body = DiscoverInput(strategy_ids=STRATEGIES, portfolio=PORTFOLIO)
    started = await asyncio.gather(*(c.service.start(u, body) for u in users))
    assert not any(s.reused for s in started)
    scans = [(u, s.record.scan_id) for u, s in zip(users, started, strict=True)]
    async with asyncio.timeout(45):
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
async def test_fifty_scans_over_redis_and_two_workers_fetch_once(
    fetches: Fetches, key_prefix: str
) -> None:
    settings = Settings(
        redis_url=TEST_REDIS_URL, key_prefix=key_prefix, synthetic_latency_ms=LATENCY_MS
    )
    before = fetch_counter(settings)
    async with running(settings, workers=2, concurrency=8) as api:
        assert len(fetches.markets) == 3  # the API's and each worker's own
        await fifty_scans(api)
        assert api.market is fetches.markets[0] and fetches.markets[0].fetches == 0  # no job here
    assert fetches.shared == 1
    assert fetch_counter(settings) - before == 1
    assert (fetches.source_fetches, fetches.source_builds) == (1, 1)


async def test_fifty_scans_embedded_fetch_once(fetches: Fetches) -> None:
    settings = Settings(redis_url=None, synthetic_latency_ms=LATENCY_MS)
    before = fetch_counter(settings)
    async with running(settings) as c:
        await fifty_scans(c)
        assert fetches.markets == [c.market] and fetches.markets[0].fetches == 1
    assert fetch_counter(settings) - before == 1
    assert (fetches.source_fetches, fetches.source_builds) == (1, 1)
