import numpy as np
import pytest

from oppscan.domain.models import Holding, Opportunity, Portfolio
from oppscan.strategies.base import StrategyRequest, StrategySkipped
from oppscan.strategies.portfolio.portfolio_math import herfindahl, tail_risk
from oppscan.strategies.portfolio.risk_management import STRATEGY
from tests.unit.strategies.derivatives_market import snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0, "LINK/USDT": 12.5}
CONCENTRATED = Portfolio(
    holdings=(
        Holding(symbol="BTC/USDT", quantity=0.5),  # 45,000
        Holding(symbol="ETH/USDT", quantity=3.0),  # 9,000
        Holding(symbol="LINK/USDT", quantity=400.0),  # 5,000
    ),
    cash_usd=1_000.0,
)


def _scan(portfolio: Portfolio | None, capital: float = 50_000.0) -> list[Opportunity]:
    return STRATEGY.scan(snapshot(PRICES, seed=8), StrategyRequest(capital, portfolio))


@pytest.mark.parametrize("portfolio", [None, Portfolio(cash_usd=5_000.0)])
def test_skipped_without_holdings(portfolio: Portfolio | None) -> None:
    with pytest.raises(StrategySkipped, match="no holdings"):
        _scan(portfolio)


def test_risk_measures_are_those_of_the_portfolio_returns() -> None:
    found = _scan(CONCENTRATED)
    assert found
    ev = found[0].evidence
    market = snapshot(PRICES, seed=8)
    closes = np.column_stack([market.ohlcv[("binance", s, "1d")].close[-366:] for s in PRICES])
    values = np.array([45_000.0, 9_000.0, 5_000.0])
    weights = values / (values.sum() + 1_000.0)
    returns = (closes[1:] / closes[:-1] - 1) @ weights
    assert ev["portfolio_value_usd"] == pytest.approx(60_000.0)
    assert ev["var95_hist"] == pytest.approx(-np.quantile(returns, 0.05), rel=1e-6)
    assert ev["weights"]["cash"] == pytest.approx(1_000 / 60_000)
    assert sum(ev["weights"].values()) == pytest.approx(1.0)
    for method in ("hist", "param"):
        assert ev[f"var99_{method}"] >= ev[f"var95_{method}"] > 0
        assert ev[f"cvar95_{method}"] >= ev[f"var95_{method}"]
        assert ev[f"cvar99_{method}"] >= ev[f"var99_{method}"]
        assert ev[f"var95_{method}_usd"] == pytest.approx(ev[f"var95_{method}"] * 60_000.0)
    assert 0 < ev["max_drawdown"] < 1
    assert ev["herfindahl"] == pytest.approx(herfindahl(values))


def test_concentrated_portfolio_is_trimmed_and_hedged() -> None:
    found = {o.opportunity_type: o for o in _scan(CONCENTRATED)}
    assert set(found) == {"trim_position", "portfolio_hedge"}
    trim = found["trim_position"]
    assert (trim.symbol, trim.side) == ("BTC/USDT", "sell")
    assert trim.evidence["weight_before"] == pytest.approx(0.75)
    assert trim.evidence["weight_after"] == pytest.approx(0.25)
    assert trim.legs[0].size * trim.legs[0].price == pytest.approx(0.5 * 60_000.0)
    for opp in found.values():
        ev = opp.evidence
        assert ev["after"]["cvar95_hist"] < ev["cvar95_hist"]
        assert opp.risk_reduction_usd == pytest.approx(ev["tail_loss_avoided_usd"], abs=0.01)
        assert opp.profit_potential_usd == pytest.approx(-ev["cost_usd"], abs=0.01)
        assert opp.risk_reduction_usd > ev["cost_usd"]
    hedge = found["portfolio_hedge"]
    assert hedge.legs[0].instrument == "perp" and hedge.legs[0].side == "sell"
    assert 0 < hedge.evidence["variance_reduction"] < 1


def test_balanced_portfolio_is_not_trimmed() -> None:
    balanced = Portfolio(
        holdings=(
            Holding(symbol="BTC/USDT", quantity=0.1),  # 9,000
            Holding(symbol="ETH/USDT", quantity=3.0),  # 9,000
            Holding(symbol="LINK/USDT", quantity=720.0),  # 9,000
        ),
        cash_usd=9_000.0,
    )
    kinds = [o.opportunity_type for o in _scan(balanced)]
    assert "trim_position" not in kinds


def test_tail_risk_on_a_known_distribution() -> None:
    returns = np.linspace(-0.10, 0.10, 2001)  # uniform: 5% quantile of losses is 0.09
    risk = tail_risk(returns)
    assert risk.var95_hist == pytest.approx(0.09, abs=1e-3)
    assert risk.cvar95_hist == pytest.approx(0.095, abs=1e-3)
    assert risk.var99_hist == pytest.approx(0.098, abs=1e-3)
    sd = returns.std(ddof=1)
    assert risk.var95_param == pytest.approx(1.6449 * sd, rel=1e-3)
    assert risk.cvar99_param == pytest.approx(2.6652 * sd, rel=1e-3)
