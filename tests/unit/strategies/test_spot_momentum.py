from __future__ import annotations

import numpy as np
import pytest

from oppscan.domain.models import Holding, Portfolio
from oppscan.market.snapshot import Fees
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.spot.spot_momentum import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder, random_walk

BARS = {"1h": 300, "4h": 200, "1d": 200}
VOL = {"1h": 0.006, "4h": 0.012, "1d": 0.03}


def trending(rng: np.random.Generator, tf: str, drift: float) -> np.ndarray:
    n = BARS[tf]
    steps = rng.normal(0.0, VOL[tf], n)
    steps[-80:] += drift * VOL[tf]  # the last 80 bars climb by `drift` sigmas per bar
    return 100.0 * np.exp(np.cumsum(steps))


def market_with(symbols: dict[str, float], seed: int = 1) -> SpotMarketBuilder:
    rng = np.random.default_rng(seed)
    builder = SpotMarketBuilder(seed=seed)
    for symbol, drift in symbols.items():
        for tf in BARS:
            builder.series(symbol, tf, trending(rng, tf, drift))
    return builder


def test_finds_a_clear_uptrend_and_prices_it_after_costs() -> None:
    builder = market_with({"TRND/USDT": 0.6})
    builder.venue("binance", "TRND/USDT", spread_bps=6.0)  # okx is cheaper to trade
    found = STRATEGY.scan(builder.build(), StrategyRequest(capital_usd=20_000))
    assert [o.symbol for o in found] == ["TRND/USDT"]
    opp = found[0]
    assert opp.side == "buy" and opp.exchange == "okx"
    assert opp.evidence["timeframes_agreeing"] == 3
    assert opp.evidence["drift_t_stat_4h"] > 3.5
    ev = opp.evidence
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)
    assert opp.net_edge_bps > 0 and opp.profit_potential_usd > 0
    assert opp.stop_loss is not None and opp.stop_loss < opp.entry_price < opp.exit_price
    assert 0 < opp.confidence_score < 1
    assert opp.required_capital_usd <= 20_000


def test_random_walks_and_downtrends_are_not_reported() -> None:
    symbols = {f"RW{i}/USDT": 0.0 for i in range(12)} | {"DOWN/USDT": -0.6}
    assert STRATEGY.scan(market_with(symbols, seed=5).build(), StrategyRequest()) == []


def test_a_trend_whose_edge_is_smaller_than_the_costs_is_not_reported() -> None:
    builder = market_with({"TRND/USDT": 0.6})
    (cheap,) = STRATEGY.scan(builder.build(), StrategyRequest())
    # Fees just above the expected move, everywhere: the same setup no longer pays.
    taker = cheap.evidence["expected_move_bps"] / 2 / 1e4 + 1e-4
    builder.fees = {e: Fees(taker, taker) for e in builder.fees}
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []


def test_illiquid_symbol_is_gated_out() -> None:
    builder = market_with({"TRND/USDT": 0.6})
    for exchange in builder.exchanges:
        builder.venue(exchange, "TRND/USDT", quote_volume_24h=10_000.0)
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []


def test_random_walk_helper_is_a_walk() -> None:
    path = random_walk(np.random.default_rng(0), 100, 0.01)
    assert path.shape == (100,) and (path > 0).all()


def test_a_downtrend_is_a_sale_only_for_a_holder_and_only_of_what_is_held() -> None:
    market = market_with({"DOWN/USDT": -0.7, "RW/USDT": 0.0}).build()
    assert STRATEGY.scan(market, StrategyRequest()) == []
    holding = Portfolio(holdings=(Holding(symbol="DOWN/USDT", quantity=20.0),))
    (opp,) = STRATEGY.scan(market, StrategyRequest(capital_usd=50_000, portfolio=holding))
    assert opp.symbol == "DOWN/USDT" and opp.side == "sell"
    assert opp.evidence["held_asset_sale"] is True
    assert opp.evidence["drift_t_stat_4h"] <= -3.5
    assert opp.exit_price < opp.entry_price  # buy back lower
    assert opp.stop_loss is not None and opp.stop_loss > opp.entry_price
    held_value = 20.0 * market.tickers[("binance", "DOWN/USDT")].bid
    assert opp.required_capital_usd <= held_value + 0.01
