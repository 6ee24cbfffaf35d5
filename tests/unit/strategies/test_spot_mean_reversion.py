from __future__ import annotations

import numpy as np
import pytest

from oppscan.domain.models import Holding, Portfolio
from oppscan.market.snapshot import Fees
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.spot.spot_mean_reversion import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder, random_walk

N = 400


def reverting_then_stretched(rng: np.random.Generator, drop_sigmas: float) -> np.ndarray:
    """An AR(1) log price (half-life ~6.6 bars) that falls ``drop_sigmas`` over its last 3 bars."""
    phi, vol = 0.9, 0.004
    level = np.zeros(N)
    noise = rng.normal(0.0, vol, N)
    for t in range(1, N):
        level[t] = phi * level[t - 1] + noise[t]
    stationary_sd = vol / np.sqrt(1 - phi**2)
    level[-3:] -= drop_sigmas * stationary_sd * np.array([1 / 3, 2 / 3, 1.0])
    return 50.0 * np.exp(level)


def test_finds_an_overshoot_in_a_reverting_market() -> None:
    rng = np.random.default_rng(2)
    snap = SpotMarketBuilder(seed=2).series("REV/USDT", "1h", reverting_then_stretched(rng, 4.0))
    (opp,) = STRATEGY.scan(snap.build(), StrategyRequest())
    assert opp.symbol == "REV/USDT" and opp.side == "buy"
    assert opp.evidence["z_score"] <= -2.5
    assert opp.evidence["dickey_fuller_t"] <= -3.0
    assert 2 < opp.evidence["half_life_bars"] < 20
    assert opp.evidence["bollinger_percent_b"] < 0.1
    assert opp.stop_loss is not None and opp.stop_loss < opp.entry_price < opp.exit_price
    assert opp.take_profit is not None and opp.take_profit >= opp.exit_price
    ev = opp.evidence
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)
    assert 0 < opp.confidence_score < 1


def test_a_reverting_market_at_its_mean_is_no_trade() -> None:
    rng = np.random.default_rng(2)
    snap = SpotMarketBuilder(seed=2).series("REV/USDT", "1h", reverting_then_stretched(rng, 0.0))
    assert STRATEGY.scan(snap.build(), StrategyRequest()) == []


def test_random_walks_that_fell_are_not_mean_reversion() -> None:
    rng = np.random.default_rng(9)
    builder = SpotMarketBuilder(seed=9)
    for i in range(15):
        path = random_walk(rng, N, 0.006)
        path[-3:] *= np.exp(-np.array([0.01, 0.02, 0.03]))  # a sharp fall, but no reverting past
        builder.series(f"RW{i}/USDT", "1h", path)
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []


def test_thin_books_shrink_the_size_and_high_costs_kill_the_edge() -> None:
    rng = np.random.default_rng(2)
    builder = SpotMarketBuilder(seed=2).series("REV/USDT", "1h", reverting_then_stretched(rng, 4.0))
    for exchange in builder.exchanges:
        builder.venue(exchange, "REV/USDT", spread_bps=20.0, level_usd=300.0)
    (thin,) = STRATEGY.scan(builder.build(), StrategyRequest(capital_usd=50_000))
    assert thin.required_capital_usd < 2_000  # capped by the depth near the touch
    assert thin.evidence["slippage_bps"] > 0 and thin.evidence["spread_bps"] == 20.0
    taker = thin.evidence["expected_move_bps"] / 2 / 1e4
    builder.fees = {e: Fees(taker, taker) for e in builder.fees}
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []


def test_a_spike_above_the_mean_is_a_sale_only_for_a_holder() -> None:
    rng = np.random.default_rng(2)
    snap = (
        SpotMarketBuilder(seed=2)
        .series("REV/USDT", "1h", reverting_then_stretched(rng, -4.0))  # a spike up
        .build()
    )
    assert STRATEGY.scan(snap, StrategyRequest()) == []
    holding = Portfolio(holdings=(Holding(symbol="REV/USDT", quantity=30.0),))
    (opp,) = STRATEGY.scan(snap, StrategyRequest(capital_usd=1e6, portfolio=holding))
    assert opp.side == "sell" and opp.evidence["z_score"] >= 2.5
    assert opp.take_profit is not None and opp.take_profit <= opp.exit_price < opp.entry_price
    assert opp.stop_loss is not None and opp.stop_loss > opp.entry_price
    assert opp.required_capital_usd <= 30.0 * snap.tickers[("binance", "REV/USDT")].bid + 0.01
