"""A scan of all 14 strategies over the default universe, end to end through the service.

Once embedded (in-memory store, local queue) and once over Redis with two SAQ workers in this
process. The market is the default synthetic one (``Settings().synthetic_seed``, the default
exchanges), pinned to one minute (a ``PinnedMarket`` passed to ``bootstrap``): the market is a
function of the minute, and the scanners' recall of the plants is >= 90%, not 100%, so a live
clock would make the recall check flaky. On the pinned minute every planted strategy finds its
plants.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from oppscan.bootstrap import Container
from oppscan.domain.models import (
    Holding,
    Opportunity,
    Portfolio,
    RiskLevel,
    ScanStatus,
    ScanView,
    StrategyStatus,
)
from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS
from oppscan.market.synthetic.draft import Planted
from oppscan.market.synthetic.source import SyntheticSource
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsQuery
from oppscan.settings import Settings
from oppscan.strategies.base import iso_ms
from oppscan.strategies.registry import load_strategies
from tests.conftest import TEST_REDIS_URL
from tests.integration.inprocess import pinned, running

PINNED_MS = DEFAULT_AS_OF_MS + 15_000  # within the minute the unit tests' plants are drawn for
ALICE = Principal("alice", tier="enterprise")
PORTFOLIO = Portfolio(
    holdings=(
        Holding(symbol="BTC/USDT", quantity=0.5),
        Holding(symbol="ETH/USDT", quantity=4),
        Holding(symbol="SOL/USDT", quantity=50),
    ),
    cash_usd=2000.0,
)


async def scan_everything(c: Container) -> tuple[ScanView, list[Opportunity]]:
    started = await c.service.start(
        ALICE, DiscoverInput(strategy_ids=sorted(load_strategies()), portfolio=PORTFOLIO)
    )
    scan_id = started.record.scan_id
    async with asyncio.timeout(60):
        while True:
            view = await c.service.status(ALICE, scan_id)
            if view.record.status.terminal:
                break
            await asyncio.sleep(0.05)
    page = await c.service.results(ALICE, scan_id, ResultsQuery(limit=100_000))
    assert page.total == len(page.opportunities) == view.record.opportunities_found
    return view, page.opportunities


def ground_truth() -> list[Planted]:
    settings = Settings()
    source = SyntheticSource(seed=settings.synthetic_seed, exchanges=tuple(settings.exchanges))
    return source.ground_truth(PINNED_MS)


def found_by(plant: Planted, opportunities: list[Opportunity]) -> bool:
    return any(
        o.strategy_id == plant.strategy_id
        and o.symbol == plant.symbol
        and (plant.exchange is None or o.exchange == plant.exchange)
        for o in opportunities
    )


def check(view: ScanView, opportunities: list[Opportunity]) -> None:
    catalog = set(load_strategies())
    assert len(catalog) == 14
    assert len(view.record.request.symbols) in (0, 40)  # empty = the whole universe
    assert view.record.status is ScanStatus.COMPLETE, view.record.error
    assert set(view.strategies) == catalog
    for sid, state in view.strategies.items():
        assert state.status in (StrategyStatus.DONE, StrategyStatus.SKIPPED), (sid, state)
        if state.status is StrategyStatus.SKIPPED:
            assert state.error, f"{sid} skipped without a reason"
    assert view.record.strategies_completed == 14

    for o in opportunities:
        assert o.strategy_id in catalog
        assert 0.0 <= o.confidence_score <= 1.0, o
        assert o.horizon_seconds > 0 and o.required_capital_usd > 0, o
        if o.risk_reduction_usd > 0:  # a hedge, a trim: it costs less than the risk it removes
            assert o.risk_reduction_usd > -o.profit_potential_usd, o
        else:
            assert o.net_edge_bps > 0 and o.profit_potential_usd > 0, o
        assert isinstance(o.risk_level, RiskLevel), o
        assert o.evidence, o
        assert o.data_as_of == iso_ms(PINNED_MS - PINNED_MS % 60_000), o
        assert datetime.fromisoformat(o.expires_at) > datetime.fromisoformat(o.data_as_of), o
    by_strategy: dict[str, list[Opportunity]] = {}
    for o in opportunities:
        by_strategy.setdefault(o.strategy_id, []).append(o)
    for sid, state in view.strategies.items():
        assert state.opportunities == len(by_strategy.get(sid, [])), sid

    profitable = [p for p in ground_truth() if p.profitable]
    planted_strategies = {p.strategy_id for p in profitable}
    # The derivatives plants, scalping and market making are always alive somewhere; the
    # stretched spreads, the spot trend and the breakout live a few hours or days at a time (the
    # unit tests meet them while they do), so one moment shows at least six strategies' plants.
    assert len(planted_strategies) >= 6, planted_strategies
    for sid in sorted(planted_strategies):
        assert by_strategy.get(sid), f"{sid} has a profitable plant but found nothing"
        plants = [p for p in profitable if p.strategy_id == sid]
        assert any(found_by(p, opportunities) for p in plants), (
            sid,
            [(p.symbol, p.exchange, p.kind) for p in plants],
            [(o.symbol, o.exchange) for o in by_strategy[sid]],
        )
    # Nothing a planter marked unprofitable (a near miss or a decoy) is reported.
    traps = [p for p in ground_truth() if not p.profitable]
    assert not [(p.strategy_id, p.symbol, p.kind) for p in traps if found_by(p, opportunities)]


async def test_all_strategies_embedded() -> None:
    settings = Settings(redis_url=None)
    async with running(settings, build=pinned(settings, PINNED_MS / 1000)) as c:
        view, opportunities = await scan_everything(c)
    check(view, opportunities)


@pytest.mark.redis
async def test_all_strategies_over_redis_with_two_workers(key_prefix: str) -> None:
    settings = Settings(redis_url=TEST_REDIS_URL, key_prefix=key_prefix)
    build = pinned(settings, PINNED_MS / 1000)
    async with running(settings, workers=2, concurrency=4, build=build) as c:
        view, opportunities = await scan_everything(c)
    check(view, opportunities)
    assert all(s.attempts == 1 for s in view.strategies.values())
