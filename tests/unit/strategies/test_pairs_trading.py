from __future__ import annotations

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.relative_value.pairs_trading import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder

N = 600


def ar1(rng: np.random.Generator, phi: float, vol: float) -> np.ndarray:
    x = np.zeros(N)
    noise = rng.normal(0.0, vol, N)
    for t in range(1, N):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def pair_market(stretch_sd: float, seed: int = 6) -> SpotMarketBuilder:
    """AAA leads; BBB = 0.8 * AAA + a stationary spread, stretched ``stretch_sd`` at the end;
    CCC = 0.8 * AAA + a random walk: as correlated, equally stretched, but not cointegrated."""
    rng = np.random.default_rng(seed)
    log_a = np.log(100.0) + np.cumsum(rng.normal(0.0, 0.008, N))
    spread = ar1(rng, 0.9, 0.004)
    spread[-3:] += stretch_sd * spread.std() * np.array([0.4, 0.7, 1.0])
    wander = np.cumsum(rng.normal(0.0, 0.004, N))
    wander[-3:] += stretch_sd * spread.std() * np.array([0.4, 0.7, 1.0])
    builder = SpotMarketBuilder(seed=seed)
    builder.series("AAA/USDT", "1h", np.exp(log_a))
    builder.series("BBB/USDT", "1h", np.exp(0.8 * log_a + spread))
    builder.series("CCC/USDT", "1h", np.exp(0.8 * log_a + wander))
    for k in range(4):
        builder.series(f"RW{k}/USDT", "1h", np.exp(np.cumsum(rng.normal(0, 0.008, N))))
    return builder


def test_finds_the_cointegrated_pair_and_not_the_merely_correlated_one() -> None:
    found = STRATEGY.scan(pair_market(3.5).build(), StrategyRequest(capital_usd=10_000))
    assert [(o.symbol, o.evidence["partner"]) for o in found] == [("BBB/USDT", "AAA/USDT")]
    (opp,) = found
    ev = opp.evidence
    assert ev["p_value"] <= 0.002 and ev["z_score"] >= 2.0
    assert ev["hedge_ratio"] == pytest.approx(0.8, abs=0.1)
    assert 3 < ev["half_life_bars"] < 30
    assert opp.side == "sell"  # BBB is rich against AAA
    assert [(leg.symbol, leg.side) for leg in opp.legs] == [
        ("BBB/USDT", "sell"),
        ("AAA/USDT", "buy"),
    ]
    notional = [leg.size * leg.price for leg in opp.legs]
    assert notional[1] / notional[0] == pytest.approx(ev["hedge_ratio"], rel=1e-6)
    assert sum(notional) == pytest.approx(opp.required_capital_usd, rel=1e-3)
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)


def test_an_unstretched_cointegrated_pair_is_no_trade() -> None:
    assert STRATEGY.scan(pair_market(0.0).build(), StrategyRequest()) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_independent_random_walks_give_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    builder = SpotMarketBuilder(seed=seed)
    common = np.cumsum(rng.normal(0.0, 0.006, N))
    for k in range(10):  # correlated through a common factor, but none cointegrated
        builder.series(f"RW{k}/USDT", "1h", np.exp(common + np.cumsum(rng.normal(0, 0.005, N))))
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []
