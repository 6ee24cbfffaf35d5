"""Every opportunity states its money on one basis: what ``build_opportunity`` derives, the rank
score, and every strategy of the catalog on the planted synthetic market."""

import math

import pytest

from oppscan.domain.models import (
    Opportunity,
    RiskLevel,
    rank_score,
    timeframe_of,
)
from oppscan.evaluation.run import EVALUATION_REQUEST
from oppscan.market.synthetic.source import SyntheticSource
from oppscan.strategies.base import StrategyInfo, build_opportunity
from oppscan.strategies.registry import load_strategies

INFO = StrategyInfo(id="t", name="t", description="test", needs=("ohlcv",))
MARKET = SyntheticSource(3).build(1_767_312_000_000)  # 2026-01-02 00:00 UTC


def made(**changes: object) -> Opportunity:
    fields: dict[str, object] = {
        "opportunity_type": "spot",
        "symbol": "BTC/USDT",
        "exchange": "x",
        "side": "buy",
        "entry_price": 100.0,
        "exit_price": 101.0,
        "profit_potential_usd": 50.0,
        "required_capital_usd": 10_000.0,
        "confidence": 0.6,
        "risk_level": RiskLevel.LOW,
        "horizon_seconds": 2 * 86_400,
        "valid_for_ms": 60_000,
        "evidence": {},
    }
    fields.update(changes)
    return build_opportunity(INFO, MARKET, **fields)  # type: ignore[arg-type]


def test_the_edge_is_the_profit_on_the_required_capital_over_the_horizon() -> None:
    opp = made()
    assert opp.net_edge_bps == 50.0  # 50 USD on 10,000
    assert opp.annualized_return_pct == pytest.approx(0.5 * 365 / 2, abs=0.01)
    assert (opp.horizon_seconds, opp.estimated_timeframe) == (172_800, "days")
    assert opp.risk_reduction_usd == 0.0


@pytest.mark.parametrize("capital", [0.0, -1.0, math.nan])
def test_an_opportunity_needs_capital(capital: float) -> None:
    with pytest.raises(ValueError, match="required_capital_usd must be > 0"):
        made(required_capital_usd=capital)


def test_a_risk_reduction_is_not_profit() -> None:
    hedge = made(profit_potential_usd=-12.0, risk_reduction_usd=900.0)
    assert hedge.profit_potential_usd == -12.0 and hedge.net_edge_bps == -12.0
    assert hedge.risk_reduction_usd == 900.0
    assert hedge.rank_score < 0 < made().rank_score


@pytest.mark.parametrize(
    ("seconds", "word"),
    [(60, "minutes"), (7_199, "minutes"), (7_200, "hours"), (172_799, "hours"),
     (172_800, "days"), (14 * 86_400 - 1, "days"), (14 * 86_400, "weeks")],
)  # fmt: skip
def test_the_timeframe_is_the_horizon_in_words(seconds: int, word: str) -> None:
    assert timeframe_of(seconds) == word


def test_the_rank_score_compares_edges_per_square_root_of_time() -> None:
    day = rank_score(100.0, 0.9, 86_400, RiskLevel.MEDIUM)
    assert day == pytest.approx(45.0)
    # The same edge over four days is half as good; a day's edge earned in an hour is ~4.9x.
    assert rank_score(100.0, 0.9, 4 * 86_400, RiskLevel.MEDIUM) == pytest.approx(22.5)
    assert rank_score(100.0, 0.9, 3_600, RiskLevel.MEDIUM) == pytest.approx(45 * math.sqrt(24))
    # Shorter than an hour counts as an hour.
    assert rank_score(100.0, 0.9, 60, RiskLevel.MEDIUM) == rank_score(
        100.0, 0.9, 3_600, RiskLevel.MEDIUM
    )


def test_every_strategy_states_its_money_on_one_basis() -> None:
    seen = set()
    for strategy in load_strategies().values():
        for o in strategy.scan(MARKET, EVALUATION_REQUEST):  # capital and a portfolio
            seen.add(o.strategy_id)
            assert o.required_capital_usd > 0 and o.horizon_seconds > 0
            expected = o.profit_potential_usd / o.required_capital_usd * 1e4
            # Up to the rounding of the profit to cents.
            cents = 0.006 / o.required_capital_usd * 1e4
            assert o.net_edge_bps == pytest.approx(expected, rel=1e-3, abs=cents + 0.01)
            per_year = 365 * 86_400 / o.horizon_seconds
            assert o.annualized_return_pct == pytest.approx(
                o.net_edge_bps / 100 * per_year, rel=1e-3, abs=(cents + 0.01) / 100 * per_year
            )
            assert o.estimated_timeframe == timeframe_of(o.horizon_seconds)
            if o.risk_reduction_usd > 0:  # a hedge earns nothing on the price it hedges
                assert o.risk_reduction_usd > -o.profit_potential_usd
            else:
                assert o.profit_potential_usd > 0
    assert len(seen) >= 8, seen
