from __future__ import annotations

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.spot.market_making import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder, random_walk


def market(vol_1m: float, spread_bps: float, level_usd: float = 100_000.0) -> SpotMarketBuilder:
    rng = np.random.default_rng(5)
    builder = SpotMarketBuilder(seed=5).series("MMK/USDT", "1m", random_walk(rng, 200, vol_1m))
    return builder.venue(
        "okx", "MMK/USDT", spread_bps=spread_bps, level_usd=level_usd, quote_volume_24h=2e8
    )


def test_quotes_inside_a_wide_spread_over_a_deep_book() -> None:
    (opp,) = STRATEGY.scan(market(0.0003, 40.0).build(), StrategyRequest(capital_usd=10_000))
    assert (opp.exchange, opp.symbol, opp.side) == ("okx", "MMK/USDT", "both")
    ev = opp.evidence
    assert ev["maker_fees_bps"] == pytest.approx(16.0)
    assert ev["quoted_spread_bps"] == pytest.approx(32.0)
    round_trip = ev["quoted_spread_bps"] - ev["maker_fees_bps"] - ev["adverse_selection_bps"]
    assert ev["round_trip_bps"] == pytest.approx(round_trip, abs=1e-3)
    # One round trip, earned on one side's size, while both sides' capital is tied up.
    assert opp.net_edge_bps == pytest.approx(round_trip / 2, abs=0.01)
    assert opp.horizon_seconds == pytest.approx(2 * ev["fill_minutes"] * 60, abs=1)
    # The stop sits below our own bid: inventory bought there is cut on a further fall.
    assert opp.stop_loss is not None and opp.stop_loss < opp.legs[0].price
    assert [leg.side for leg in opp.legs] == ["buy", "sell"]
    assert opp.legs[0].price < opp.legs[1].price
    assert opp.required_capital_usd <= 10_000
    assert opp.profit_potential_usd > 0


def test_tight_spreads_cannot_pay_two_maker_fees() -> None:
    assert STRATEGY.scan(market(0.0003, 4.0).build(), StrategyRequest()) == []


def test_adverse_selection_in_a_volatile_market_eats_the_spread() -> None:
    assert STRATEGY.scan(market(0.004, 40.0).build(), StrategyRequest()) == []


def test_a_thin_book_limits_the_quote_size() -> None:
    (opp,) = STRATEGY.scan(market(0.0003, 40.0, level_usd=1_000.0).build(), StrategyRequest())
    assert opp.metadata["quote_size_usd"] < 5_000
    assert opp.capacity_usd < 10_000
