from __future__ import annotations

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.spot.spot_breakout import STRATEGY
from tests.unit.strategies.spot_market_builder import SpotMarketBuilder, random_walk

N = 320


def consolidation_then_break(
    rng: np.random.Generator, surge: float, jump: float = 0.006
) -> tuple[np.ndarray, np.ndarray]:
    steps = rng.normal(0.0, 0.008, N)
    steps[-49:-1] = rng.normal(0.0, 0.0012, 48)  # two quiet days in a tight range
    close = 20.0 * np.exp(np.cumsum(steps))
    close[-1] = close[-49:-1].max() * np.exp(jump)
    volume = rng.lognormal(np.log(1000.0), 0.3, N)
    volume[-1] = 1000.0 * surge
    return close, volume


def test_finds_a_breakout_on_a_volume_surge() -> None:
    close, volume = consolidation_then_break(np.random.default_rng(4), surge=5.0)
    snap = SpotMarketBuilder(seed=4).series("BRK/USDT", "1h", close, volume).build()
    (opp,) = STRATEGY.scan(snap, StrategyRequest())
    assert opp.symbol == "BRK/USDT" and opp.side == "buy"
    ev = opp.evidence
    assert ev["volume_surge_ratio"] > 4 and ev["tightness"] < 1.0
    assert opp.entry_price > ev["resistance"]
    assert opp.stop_loss is not None and ev["support"] <= opp.stop_loss < ev["resistance"]
    assert opp.take_profit is not None and opp.take_profit > opp.exit_price > opp.entry_price
    assert opp.net_edge_bps == pytest.approx(ev["expected_move_bps"] - ev["cost_bps"], abs=0.01)
    assert ev["model_score"] == round(ev["win_probability"], 4)  # calibrated into confidence


def test_a_break_without_volume_is_no_trade() -> None:
    close, volume = consolidation_then_break(np.random.default_rng(4), surge=1.1)
    snap = SpotMarketBuilder(seed=4).series("BRK/USDT", "1h", close, volume).build()
    assert STRATEGY.scan(snap, StrategyRequest()) == []


def test_random_walks_making_new_highs_on_volume_are_not_consolidation_breakouts() -> None:
    rng = np.random.default_rng(8)
    builder = SpotMarketBuilder(seed=8)
    for i in range(15):
        close = random_walk(rng, N, 0.008)
        close[-1] = close[-49:-1].max() * 1.004
        volume = np.full(N, 1000.0)
        volume[-1] = 5000.0
        builder.series(f"RW{i}/USDT", "1h", close, volume)
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []


def test_a_flat_market_is_no_trade() -> None:
    builder = SpotMarketBuilder(seed=1).series("FLAT/USDT", "1h", np.full(N, 10.0))
    assert STRATEGY.scan(builder.build(), StrategyRequest()) == []
