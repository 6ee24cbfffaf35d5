"""The spot and statistical scanners against the synthetic market's ground truth, over 5 seeds.

Recall: at least 90% of the profitable plants of each strategy are found by that strategy on
that symbol (and exchange, when the plant names one). Precision: no unprofitable plant (a setup
whose fees, spread and slippage exceed its edge, or a decoy without the statistics behind the
look, such as a correlated pair that is not cointegrated) is ever reported.

Control (``plant=False``): at most ``CONTROL_BOUND_PER_STRATEGY`` opportunities per strategy
over the 5 control markets, ``CONTROL_BOUND_TOTAL`` for all seven together. Why these bounds:
on a random-walk market with fair books, market making and scalping cannot fire at all (base
spreads of a few bps never pay two 8-10 bps maker fees; base book imbalance is clipped at
0.25, under the 0.4 the scalper needs), and the statistical gates are set to fire on chance
alone roughly once per strategy per several hundred symbol-tests: momentum needs a 4h drift
t >= 3 (0.2% one-sided per symbol, but a trending market factor moves many symbols at once),
mean reversion a Dickey-Fuller t <= -3.0 with z <= -2.5, statistical arbitrage a t <= -3.5 with
|z| >= 2 (well under 1% jointly), pairs a coint p-value <= 0.2% on at most 40 screened pairs.
Measured on control seeds 0-29: 4 opportunities in 30 markets for all seven together (none on
seeds 0-4), so ~0.7 are expected over 5 markets; the bounds leave room for an unlucky seed
without letting a scanner that fires on noise pass.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import pytest

from oppscan.domain.models import Opportunity
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic import DEFAULT_AS_OF_MS
from oppscan.market.synthetic.draft import Planted
from oppscan.market.synthetic.plants.episodes import phase
from oppscan.market.synthetic.plants.paths import trend_age
from oppscan.market.synthetic.plants.spot import (
    BREAKOUT_SCHEDULE,
    SPREAD_SCHEDULE,
    TREND_SCHEDULE,
)
from oppscan.market.synthetic.source import SyntheticSource
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.relative_value import pairs_trading, statistical_arbitrage
from oppscan.strategies.spot import (
    market_making,
    scalping,
    spot_breakout,
    spot_mean_reversion,
    spot_momentum,
)

SEEDS = (0, 1, 2, 3, 4)
SPREAD_KINDS = ("spot_mean_reversion", "pairs_trading", "statistical_arbitrage")
SCANNERS = {
    s.info.id: s
    for s in (
        spot_momentum.STRATEGY,
        spot_mean_reversion.STRATEGY,
        spot_breakout.STRATEGY,
        scalping.STRATEGY,
        market_making.STRATEGY,
        pairs_trading.STRATEGY,
        statistical_arbitrage.STRATEGY,
    )
}
EXCHANGE_SPECIFIC = {"scalping_strategy", "market_making"}
REQUEST = StrategyRequest(capital_usd=10_000.0)
MIN_RECALL = 0.9
CONTROL_BOUND_PER_STRATEGY = 2
CONTROL_BOUND_TOTAL = 5
CPU_BUDGET_SECONDS = 0.4  # all seven on the 40-symbol, 3-exchange snapshot


@dataclass
class Scanned:
    market: MarketSnapshot
    truth: list[Planted]
    found: dict[str, list[Opportunity]]
    cpu_seconds: float


def _scan(seed: int, plant: bool, moment: int = DEFAULT_AS_OF_MS) -> Scanned:
    source = SyntheticSource(seed, plant=plant)
    market = source.build(moment)
    started = time.process_time()
    found = {sid: s.scan(market, REQUEST) for sid, s in SCANNERS.items()}
    cpu = time.process_time() - started
    return Scanned(market, source.ground_truth(moment), found, cpu)


def _stretched(seed: int, kind: str) -> int:
    """An hour into the first stretch of ``kind`` after the default moment: the stretched
    spreads live a few hours every four days, so the default moment rarely sees one."""
    born = phase(seed, kind, 0, 1, SPREAD_SCHEDULE, DEFAULT_AS_OF_MS).born_ms
    return born + SPREAD_SCHEDULE.period_ms + 3_600_000


def _trending(seed: int) -> int:
    """Ten and a half days into the next up leg of the momentum plant's trend cycle."""
    now = np.array([DEFAULT_AS_OF_MS], dtype=np.int64)
    age = int(trend_age(seed, "spot_momentum", 0, 1, TREND_SCHEDULE, now)[0])
    return DEFAULT_AS_OF_MS - age + TREND_SCHEDULE.period_ms + 252 * 3_600_000


def _breaking(seed: int) -> int:
    """Ten minutes after the next breakout bar closes."""
    now = np.array([DEFAULT_AS_OF_MS], dtype=np.int64)
    age = int(trend_age(seed, "spot_breakout", 0, 1, BREAKOUT_SCHEDULE, now)[0])
    return DEFAULT_AS_OF_MS - age + BREAKOUT_SCHEDULE.period_ms + 600_000


@pytest.fixture(scope="module")
def planted() -> list[Scanned]:
    """Each seed at the default moment, at a moment each stretched spread is live, in the
    second week of an uptrend, and as a breakout bar closes."""
    return (
        [_scan(seed, True) for seed in SEEDS]
        + [_scan(seed, True, _stretched(seed, kind)) for seed in SEEDS for kind in SPREAD_KINDS]
        + [_scan(seed, True, _trending(seed)) for seed in SEEDS]
        + [_scan(seed, True, _breaking(seed)) for seed in SEEDS]
    )


@pytest.fixture(scope="module")
def control() -> list[Scanned]:
    return [_scan(seed, False) for seed in SEEDS]


def _matches(plant: Planted, opportunities: list[Opportunity]) -> bool:
    return any(
        o.symbol == plant.symbol and (plant.exchange is None or o.exchange == plant.exchange)
        for o in opportunities
    )


@pytest.mark.parametrize("strategy_id", list(SCANNERS))
def test_recall_of_profitable_plants(planted: list[Scanned], strategy_id: str) -> None:
    hits, total, missed = 0, 0, []
    for scanned in planted:
        for plant in scanned.truth:
            if plant.strategy_id == strategy_id and plant.profitable:
                total += 1
                if _matches(plant, scanned.found[strategy_id]):
                    hits += 1
                else:
                    missed.append((plant.symbol, plant.kind))
    assert total >= len(SEEDS), "every seed plants at least one live profitable setup"
    assert hits / total >= MIN_RECALL, f"{strategy_id} missed {missed}"


@pytest.mark.parametrize("strategy_id", list(SCANNERS))
def test_unprofitable_plants_are_never_reported(planted: list[Scanned], strategy_id: str) -> None:
    traps = 0
    for scanned in planted:
        for plant in scanned.truth:
            if plant.strategy_id == strategy_id and not plant.profitable:
                traps += 1
                reported = [
                    o
                    for o in scanned.found[strategy_id]
                    if o.symbol == plant.symbol
                    # A decoy pair is that pair: the symbol may still pair up with another one.
                    and o.evidence.get("partner", None) == plant.detail.get("partner", None)
                ]
                assert not reported, f"{plant.kind} on {plant.symbol}: {reported[0].evidence}"
    assert traps >= len(SEEDS), "every seed plants at least one setup that must be rejected"


def test_control_market_reports_few_or_none(control: list[Scanned]) -> None:
    per_strategy = {sid: sum(len(s.found[sid]) for s in control) for sid in SCANNERS}
    assert all(n <= CONTROL_BOUND_PER_STRATEGY for n in per_strategy.values()), per_strategy
    assert sum(per_strategy.values()) <= CONTROL_BOUND_TOTAL, per_strategy
    # The cost-bound strategies have nothing to find on fair books at all.
    assert per_strategy["market_making"] == 0 and per_strategy["scalping_strategy"] == 0


def test_every_opportunity_is_well_formed(planted: list[Scanned]) -> None:
    for scanned in planted:
        for strategy_id, opportunities in scanned.found.items():
            for opp in opportunities:
                assert opp.strategy_id == strategy_id
                assert opp.net_edge_bps > 0 and opp.profit_potential_usd > 0
                assert 0.0 <= opp.confidence_score <= 1.0
                assert 0 < opp.required_capital_usd <= REQUEST.capital_usd + 0.01
                assert opp.capacity_usd > 0
                assert opp.estimated_timeframe in ("minutes", "hours", "days", "weeks")
                # Plain JSON types only: the store and the API serialise evidence as it is.
                json.dumps(opp.evidence, allow_nan=False)
                assert all(type(v) in (int, float, str, bool) for v in opp.evidence.values())
                if strategy_id in ("pairs_trading", "statistical_arbitrage"):
                    assert len(opp.legs) == 2
                    assert {leg.side for leg in opp.legs} == {"buy", "sell"}


def test_one_opportunity_per_symbol_unless_exchange_specific(planted: list[Scanned]) -> None:
    for scanned in planted:
        for strategy_id, opportunities in scanned.found.items():
            if strategy_id in EXCHANGE_SPECIFIC:
                continue
            symbols = [o.symbol for o in opportunities]
            assert len(symbols) == len(set(symbols)), strategy_id


def test_confidence_follows_the_evidence(planted: list[Scanned]) -> None:
    """Not a constant: across the found setups the scores spread out."""
    scores = {o.confidence_score for s in planted for ops in s.found.values() for o in ops}
    assert len(scores) > 10


def test_all_seven_fit_the_cpu_budget(planted: list[Scanned], control: list[Scanned]) -> None:
    # The fastest of ten runs, so a busy test machine does not fail a fast scanner.
    best = min(s.cpu_seconds for s in planted + control)
    assert best < CPU_BUDGET_SECONDS, best


def test_gappy_bars_give_no_nan_opportunity() -> None:
    """A live source can return bars with holes; nan must never pass a gate or reach a price."""
    market = SyntheticSource(3).build()
    holed = {}
    for key, bars in market.ohlcv.items():
        close = bars.close.copy()
        close[-5] = float("nan")
        holed[key] = replace(bars, close=close)
    gappy = replace(market, ohlcv=holed)
    for scanner in SCANNERS.values():
        for opp in scanner.scan(gappy, REQUEST):
            assert math.isfinite(opp.net_edge_bps) and math.isfinite(opp.entry_price)
            assert math.isfinite(opp.exit_price) and math.isfinite(opp.profit_potential_usd)
