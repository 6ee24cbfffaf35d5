"""One strategy job, against the in-process store: every outcome is recorded and says why."""

from __future__ import annotations

import asyncio

import pytest

from oppscan.domain.models import (
    Opportunity,
    Portfolio,
    ResultFilters,
    RiskLevel,
    ScanRecord,
    ScanRequest,
    ScanStatus,
    StrategyStatus,
)
from oppscan.market.snapshot import MarketSnapshot
from oppscan.service.runner import StrategyRunner
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.strategies.base import (
    Strategy,
    StrategyInfo,
    StrategyRequest,
    StrategySkipped,
)
from tests.unit.fakes import Finds, FixedMarket


class Raises:
    def __init__(self, sid: str, error: Exception) -> None:
        self.info = StrategyInfo(id=sid, name=sid, description="test", needs=())
        self.error = error

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        raise self.error


class Sleeps:
    info = StrategyInfo(id="slow", name="slow", description="test", needs=())

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        import time

        time.sleep(0.5)
        return []


async def scan_with(
    strategies: dict[str, Strategy],
    market: FixedMarket,
    deadline: float = 30,
    filters: ResultFilters | None = None,
    portfolio: Portfolio | None = None,
) -> tuple[InMemoryScanStore, StrategyRunner]:
    store = InMemoryScanStore(result_ttl_seconds=60)
    now = await store.now()
    await store.create_scan(
        ScanRecord(
            scan_id="scan_1",
            user_id="u",
            status=ScanStatus.QUEUED,
            request=ScanRequest(
                strategy_ids=tuple(strategies),
                filters=filters or ResultFilters(),
                portfolio=portfolio,
            ),
            fingerprint="fp",
            created_at=now,
            updated_at=now,
            deadline_at=now + deadline,
        )
    )
    return store, StrategyRunner(store, market, strategies)


async def test_each_outcome_is_recorded_with_its_reason() -> None:
    strategies: dict[str, Strategy] = {
        "finds": Finds("finds", (RiskLevel.LOW,)),
        "skips": Raises("skips", StrategySkipped("no holdings in the request")),
        "breaks": Raises("breaks", ValueError("singular matrix")),
    }
    store, runner = await scan_with(strategies, FixedMarket())
    for sid in strategies:
        await runner.run("scan_1", sid)
    view = await store.get_view("scan_1", all_results=True)
    assert view is not None
    assert view.strategies["finds"].status is StrategyStatus.DONE
    assert view.strategies["finds"].opportunities == 1
    assert view.strategies["skips"].status is StrategyStatus.SKIPPED
    assert view.strategies["skips"].error == "no holdings in the request"
    assert view.strategies["breaks"].status is StrategyStatus.FAILED
    assert view.strategies["breaks"].error == "ValueError: singular matrix"
    assert view.record.status is ScanStatus.PARTIAL  # a failure is never a quiet empty success
    assert len(view.top) == 1


async def test_a_market_outage_fails_the_strategy_saying_so() -> None:
    store, runner = await scan_with({"finds": Finds("finds", (RiskLevel.LOW,))}, FixedMarket(True))
    await runner.run("scan_1", "finds")
    view = await store.get_view("scan_1")
    assert view is not None
    assert view.record.status is ScanStatus.FAILED
    # This fake fails with no source to name; the cache names it (test_runner_faults.py).
    assert view.strategies["finds"].error == "market data unavailable"


async def test_the_request_filters_really_filter() -> None:
    finds = Finds("finds", (RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.MEDIUM))
    only_low = ResultFilters(risk_levels=(RiskLevel.LOW,))
    store, runner = await scan_with({"finds": finds}, FixedMarket(), filters=only_low)
    await runner.run("scan_1", "finds")
    view = await store.get_view("scan_1", all_results=True)
    assert view is not None
    assert [o.risk_level for o in view.top] == [RiskLevel.LOW]


async def test_a_strategy_past_the_deadline_is_timed_out_not_awaited() -> None:
    store, runner = await scan_with({"slow": Sleeps()}, FixedMarket(), deadline=0.2)
    await asyncio.wait_for(runner.run("scan_1", "slow"), timeout=2)
    view = await store.get_view("scan_1")
    assert view is not None
    assert view.strategies["slow"].status is StrategyStatus.TIMED_OUT
    assert view.record.status is ScanStatus.PARTIAL


async def test_a_job_of_a_finished_scan_does_not_run_again() -> None:
    store, runner = await scan_with({"finds": Finds("finds", (RiskLevel.LOW,))}, FixedMarket())
    assert await runner.run("scan_1", "finds") is not None
    assert await runner.run("scan_1", "finds") is None  # a redelivery: not started, not counted
    view = await store.get_view("scan_1")
    assert view is not None and view.record.strategies_completed == 1


async def test_every_strategy_reads_the_market_of_the_moment_its_scan_was_created() -> None:
    market = FixedMarket()
    strategies: dict[str, Strategy] = {
        "a": Finds("a", (RiskLevel.LOW,)),
        "b": Finds("b", (RiskLevel.LOW,)),
    }
    store, runner = await scan_with(strategies, market)
    await asyncio.sleep(0.05)
    for sid in strategies:
        await runner.run("scan_1", sid)
    view = await store.get_view("scan_1")
    assert view is not None
    assert market.asked == [(False, view.record.created_at)] * 2


# -- numbers that are not finite (a strategy's output is checked before the store sees it) -----


class ReturnsRaw:
    """Hands back opportunities made without validation, with ``numbers`` replaced."""

    def __init__(self, sid: str, **numbers: float) -> None:
        self.info = StrategyInfo(id=sid, name=sid, description="test", needs=())
        self.numbers = numbers

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        [found] = Finds(self.info.id, (RiskLevel.LOW,)).scan(market, request)
        return [found.model_copy(update=self.numbers)]


class BuildsDirectly:
    """Builds an ``Opportunity`` itself (not through ``build_opportunity``) with an infinity."""

    info = StrategyInfo(id="direct", name="direct", description="test", needs=())

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        [found] = Finds("direct", (RiskLevel.LOW,)).scan(market, request)
        return [Opportunity(**{**found.model_dump(), "entry_price": float("inf")})]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy overflows, in the thread
async def test_a_holding_too_large_to_price_fails_its_strategy_and_stores_nothing() -> None:
    from oppscan.domain.models import Holding
    from oppscan.market.synthetic.source import SyntheticSource
    from oppscan.strategies.portfolio import hedge_position

    # The incident's holding, accepted before requests were bounded (or read back from then).
    huge = Portfolio.model_construct(
        holdings=(Holding.model_construct(symbol="BTC/USDT", quantity=1e308),), cash_usd=0.0
    )
    strategies: dict[str, Strategy] = {
        "hedge_position": hedge_position.STRATEGY,
        "finds": Finds("finds", (RiskLevel.LOW,)),
    }
    market = FixedMarket(snapshot=SyntheticSource(1, symbols_count=12).build())
    store, runner = await scan_with(strategies, market, portfolio=huge)
    for sid in strategies:
        await runner.run("scan_1", sid)
    view = await store.get_view("scan_1", all_results=True)
    assert view is not None
    hedge = view.strategies["hedge_position"]
    assert hedge.status is StrategyStatus.FAILED
    assert hedge.error == "strategy produced a non-finite profit_potential_usd for BTC/USDT"
    assert hedge.opportunities == 0
    assert view.strategies["finds"].status is StrategyStatus.DONE
    assert view.record.status is ScanStatus.PARTIAL
    assert view.record.opportunities_found == len(view.top) == 1


async def test_a_non_finite_number_made_without_validation_fails_the_strategy() -> None:
    strategies: dict[str, Strategy] = {
        "nan_confidence": ReturnsRaw("nan_confidence", confidence_score=float("nan")),
        "inf_capital": ReturnsRaw("inf_capital", required_capital_usd=float("-inf")),
        "direct": BuildsDirectly(),
        "finds": Finds("finds", (RiskLevel.LOW,)),
    }
    store, runner = await scan_with(strategies, FixedMarket())
    for sid in strategies:
        await runner.run("scan_1", sid)
    view = await store.get_view("scan_1", all_results=True)
    assert view is not None
    errors = {
        sid: s.error for sid, s in view.strategies.items() if s.status is StrategyStatus.FAILED
    }
    assert errors == {
        "nan_confidence": "strategy produced a non-finite confidence_score for BTC/USDT",
        "inf_capital": "strategy produced a non-finite required_capital_usd for BTC/USDT",
        "direct": "strategy produced a non-finite entry_price (Opportunity)",
    }
    assert view.record.opportunities_found == len(view.top) == 1
    assert view.record.strategies_completed == 4
