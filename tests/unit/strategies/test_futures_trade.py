from dataclasses import replace

import pytest

from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.derivatives.futures_trade import STRATEGY
from tests.unit.strategies.derivatives_market import dated_future, snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0, "SOL/USDT": 140.0, "LINK/USDT": 12.5}
REQUEST = StrategyRequest(capital_usd=10_000.0)


def test_random_walks_give_no_trend_trade() -> None:
    for seed in range(5):
        assert STRATEGY.scan(snapshot(PRICES, seed=seed), REQUEST) == []


def test_strong_uptrend_is_traded_long_with_safe_leverage() -> None:
    # ~0.9% per 4h bar up (0.23% per hour), against ~1.6% of 4h noise.
    market = snapshot(PRICES, seed=3, drift_per_bar={"SOL/USDT": 0.0023})
    found = STRATEGY.scan(market, REQUEST)
    assert [o.symbol for o in found] == ["SOL/USDT"]
    opp = found[0]
    ev = opp.evidence
    assert opp.side == "buy" and opp.opportunity_type == "perp_trend"
    assert ev["combined_z"] > 3.5
    assert 2 <= ev["leverage"] <= 5
    assert ev["liquidation_distance_pct"] >= 2 * ev["stop_distance_pct"]
    assert opp.stop_loss is not None and opp.stop_loss < opp.entry_price < opp.exit_price
    assert ev["liquidation_price"] < opp.stop_loss
    # A long pays positive funding for the 3-day hold: 9 payments of 0.01%.
    assert ev["funding_cost_bps"] == pytest.approx(9.0)
    # The move is on the notional; the edge is on the margin: the leverage times the move.
    net_on_notional = ev["expected_move_bps"] - ev["cost_bps"]
    assert opp.net_edge_bps == pytest.approx(net_on_notional * ev["leverage"], rel=1e-3)
    assert opp.horizon_seconds == 3 * 86_400
    assert opp.required_capital_usd == pytest.approx(ev["notional_usd"] / ev["leverage"], rel=1e-3)
    assert opp.legs[0].instrument == "perp"


def test_downtrend_is_shorted() -> None:
    market = snapshot(PRICES, seed=4, drift_per_bar={"LINK/USDT": -0.0025})
    found = STRATEGY.scan(market, REQUEST)
    assert [(o.symbol, o.side) for o in found] == [("LINK/USDT", "sell")]
    assert found[0].stop_loss is not None and found[0].stop_loss > found[0].entry_price
    # Shorts receive positive funding.
    assert found[0].evidence["funding_cost_bps"] < 0


def _with_future(basis_annual: float, days: int = 90) -> MarketSnapshot:
    market = snapshot(PRICES, seed=5)
    future = dated_future("ETH/USDT", days, 3_000.0, basis_annual)
    return replace(market, futures={("okx", "ETH/USDT"): (future,)})


def test_rich_basis_is_a_cash_and_carry() -> None:
    found = STRATEGY.scan(_with_future(0.20), REQUEST)
    assert len(found) == 1
    opp = found[0]
    ev = opp.evidence
    assert (opp.symbol, opp.exchange, opp.opportunity_type) == ("ETH/USDT", "okx", "cash_and_carry")
    assert ev["days_to_expiry"] == pytest.approx(90.0)
    assert ev["basis_annualised"] == pytest.approx(0.20, abs=0.005)
    # 20% a year for 90 days, less 4% risk-free, 4 fills of 5 bps and the spot spread.
    expected = (0.20 - 0.04) * 90 / 365 * 1e4 - 20 - 2
    assert opp.net_edge_bps == pytest.approx(expected, abs=3)
    assert opp.horizon_seconds == pytest.approx(90 * 86_400, abs=1)  # held to settlement
    assert [(leg.side, leg.instrument) for leg in opp.legs] == [("buy", "spot"), ("sell", "future")]


def test_basis_at_the_risk_free_rate_is_not_a_trade() -> None:
    # 5% a year over 30 days: 1% above risk-free is 8 bps, less than the fees.
    assert STRATEGY.scan(_with_future(0.05, days=30), REQUEST) == []
