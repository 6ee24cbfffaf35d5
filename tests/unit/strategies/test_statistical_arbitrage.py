from __future__ import annotations

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.relative_value.statistical_arbitrage import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder

N = 600


def universe(stretch_sd: float, seed: int = 4, reverting: bool = True) -> SpotMarketBuilder:
    """Ten symbols on one market factor; MRV/USDT moves 1.1x the basket of the others plus an
    idiosyncratic AR(1) (or, with ``reverting=False``, a random walk of the same step size),
    stretched at the end."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(0.0, 0.006, N)
    builder = SpotMarketBuilder(seed=seed)
    others = []
    for k in range(9):
        beta = 0.7 + 0.1 * k
        step = beta * factor + rng.normal(0.0, 0.005, N)
        others.append(step)
        builder.series(f"S{k}/USDT", "1h", 50.0 * np.exp(np.cumsum(step)))
    basket = np.mean(others, axis=0)
    own = np.zeros(N)
    shocks = rng.normal(0.0, 0.004, N)
    for t in range(1, N):
        own[t] = (0.9 if reverting else 1.0) * own[t - 1] + shocks[t]
    sd = 0.004 / np.sqrt(1 - 0.81)
    own[-3:] -= stretch_sd * sd * np.array([0.4, 0.7, 1.0])
    builder.series("MRV/USDT", "1h", 10.0 * np.exp(np.cumsum(1.1 * basket) + own))
    return builder


def test_finds_a_stretched_reverting_residual_and_hedges_the_market() -> None:
    found = STRATEGY.scan(universe(4.0).build(), StrategyRequest(capital_usd=10_000))
    assert [o.symbol for o in found] == ["MRV/USDT"]
    (opp,) = found
    ev = opp.evidence
    assert opp.side == "buy" and ev["residual_z"] <= -2.0
    assert ev["beta"] == pytest.approx(1.1, abs=0.2)
    assert ev["dickey_fuller_t"] <= -3.5 and ev["half_life_bars"] < 20
    assert [(leg.symbol, leg.side) for leg in opp.legs] == [
        ("MRV/USDT", "buy"),
        ("S0/USDT", "sell"),
    ]
    notional = [leg.size * leg.price for leg in opp.legs]
    assert notional[1] / notional[0] == pytest.approx(ev["hedge_ratio"], rel=1e-6)
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)
    assert opp.required_capital_usd <= 10_000 + 1e-6


def test_an_unstretched_residual_is_no_trade() -> None:
    assert STRATEGY.scan(universe(0.0).build(), StrategyRequest()) == []


def test_a_stretched_residual_that_never_reverted_is_no_trade() -> None:
    assert STRATEGY.scan(universe(4.0, reverting=False).build(), StrategyRequest()) == []
