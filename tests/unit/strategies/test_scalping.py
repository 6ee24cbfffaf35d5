from __future__ import annotations

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.spot.scalping import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder, random_walk


def market(vol_1m: float, imbalance: float, spread_bps: float = 1.5) -> SpotMarketBuilder:
    rng = np.random.default_rng(3)
    builder = SpotMarketBuilder(seed=3).series("SCP/USDT", "1m", random_walk(rng, 200, vol_1m))
    return builder.venue("okx", "SCP/USDT", spread_bps=spread_bps, imbalance=imbalance)


def test_finds_a_lopsided_tight_book_on_its_exchange_only() -> None:
    (opp,) = STRATEGY.scan(market(0.0015, 0.7).build(), StrategyRequest())
    assert (opp.exchange, opp.symbol, opp.side) == ("okx", "SCP/USDT", "buy")
    ev = opp.evidence
    assert ev["imbalance"] == pytest.approx(0.7)
    assert ev["fee_bps"] == pytest.approx(18.0)  # okx taker in, maker out
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)
    assert opp.estimated_timeframe == "minutes"
    assert ev["microprice_vs_mid_bps"] > 0
    assert 0 < opp.confidence_score < 1


def test_a_calm_market_cannot_pay_the_round_trip() -> None:
    assert STRATEGY.scan(market(0.0004, 0.7).build(), StrategyRequest()) == []


def test_a_balanced_book_is_no_signal() -> None:
    assert STRATEGY.scan(market(0.0015, 0.1).build(), StrategyRequest()) == []


def test_a_wide_spread_is_gated_out() -> None:
    assert STRATEGY.scan(market(0.0015, 0.7, spread_bps=8.0).build(), StrategyRequest()) == []


def test_more_imbalance_means_more_confidence() -> None:
    (weaker,) = STRATEGY.scan(market(0.0015, 0.55).build(), StrategyRequest())
    (stronger,) = STRATEGY.scan(market(0.0015, 0.8).build(), StrategyRequest())
    # The strategy's own score rises; its calibrated probability never falls (the map is
    # monotone, and may be flat where the forward tests could not tell the two apart).
    assert stronger.evidence["model_score"] > weaker.evidence["model_score"]
    assert stronger.confidence_score >= weaker.confidence_score
    assert stronger.net_edge_bps > weaker.net_edge_bps
