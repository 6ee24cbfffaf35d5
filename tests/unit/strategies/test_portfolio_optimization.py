import numpy as np
import pytest

from oppscan.domain.models import Holding, Opportunity, Portfolio
from oppscan.strategies.base import StrategyRequest, StrategySkipped
from oppscan.strategies.portfolio.portfolio_optimization import (
    STRATEGY,
    estimates,
    max_sharpe_weights,
    risk_parity_weights,
)
from tests.unit.strategies.derivatives_market import snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0, "LINK/USDT": 12.5}
# LINK drifts up 0.8% a day more than the others: a year of it is a Sharpe advantage that
# stands out of the noise (0.3% a day, 110% a year, does not: a t-statistic under 2).
DRIFT = {"LINK/USDT": 0.008 / 24}
PORTFOLIO = Portfolio(
    holdings=(
        Holding(symbol="BTC/USDT", quantity=0.3),  # 27,000
        Holding(symbol="ETH/USDT", quantity=5.0),  # 15,000
        Holding(symbol="LINK/USDT", quantity=400.0),  # 5,000
    ),
    cash_usd=3_000.0,
)


def _scan(portfolio: Portfolio | None) -> list[Opportunity]:
    market = snapshot(PRICES, seed=5, drift_per_bar=DRIFT)
    return STRATEGY.scan(market, StrategyRequest(capital_usd=50_000.0, portfolio=portfolio))


@pytest.mark.parametrize("portfolio", [None, Portfolio(cash_usd=10.0)])
def test_skipped_without_holdings(portfolio: Portfolio | None) -> None:
    with pytest.raises(StrategySkipped, match="no holdings"):
        _scan(portfolio)


def test_max_sharpe_matches_the_closed_form_when_unconstrained() -> None:
    mean = np.array([0.20, 0.15, 0.30])
    vols = np.array([0.5, 0.4, 0.9])
    corr = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.1], [0.2, 0.1, 1.0]])
    cov = corr * np.outer(vols, vols)
    raw = np.linalg.solve(cov, mean - 0.04)  # tangency: Sigma^-1 (mu - rf), all positive here
    assert (raw > 0).all()
    np.testing.assert_allclose(max_sharpe_weights(mean, cov, 0.04), raw / raw.sum(), atol=1e-4)


def test_max_sharpe_is_long_only() -> None:
    mean = np.array([0.30, -0.20])
    cov = np.diag([0.25, 0.25])
    np.testing.assert_allclose(max_sharpe_weights(mean, cov, 0.04), [1.0, 0.0], atol=1e-6)


def test_risk_parity_equalises_risk_contributions() -> None:
    vols = np.array([0.5, 0.8, 1.2])
    corr = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.5], [0.4, 0.5, 1.0]])
    cov = corr * np.outer(vols, vols)
    w = risk_parity_weights(cov)
    contributions = w * (cov @ w)
    np.testing.assert_allclose(contributions / contributions.sum(), 1 / 3, atol=1e-4)
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    # Uncorrelated assets: weights inversely proportional to volatility.
    w_diag = risk_parity_weights(np.diag(vols**2))
    np.testing.assert_allclose(w_diag, (1 / vols) / (1 / vols).sum(), atol=1e-4)


def test_rebalancing_trades_reach_weights_that_sum_to_one() -> None:
    found = {o.opportunity_type: o for o in _scan(PORTFOLIO)}
    assert found, "a 54%-BTC portfolio is far from both targets"
    for opp in found.values():
        ev = opp.evidence
        for key in (
            "current_weights",
            "target_weights",
            "max_sharpe_weights",
            "risk_parity_weights",
        ):
            assert sum(ev[key].values()) == pytest.approx(1.0), key
            assert all(w >= 0 for w in ev[key].values())
            # The user's cash share is kept: the optimisers reallocate the risky sleeve.
            assert ev[key]["cash"] == pytest.approx(3_000 / 50_000, abs=0.011)
        buys = sum(leg.price * leg.size for leg in opp.legs if leg.side == "buy")
        sells = sum(leg.price * leg.size for leg in opp.legs if leg.side == "sell")
        assert buys == pytest.approx(sells, rel=0.05)  # self-financing, up to skipped tiny trades
        if opp.opportunity_type == "rebalance_max_sharpe":
            assert opp.profit_potential_usd == pytest.approx(
                ev["gain_usd"] - ev["trade_costs_usd"], abs=0.01
            )
            assert opp.profit_potential_usd > 0 and opp.risk_reduction_usd == 0
        else:  # a risk reduction: the tail loss it removes is not profit
            assert opp.profit_potential_usd == pytest.approx(-ev["trade_costs_usd"], abs=0.01)
            assert opp.risk_reduction_usd == pytest.approx(ev["gain_usd"], abs=0.01)
            assert opp.risk_reduction_usd > ev["trade_costs_usd"]
    sharpe = found["rebalance_max_sharpe"]
    assert sharpe.evidence["sharpe_target"] > sharpe.evidence["sharpe_now"]
    # The drifting asset is the one bought.
    assert [leg.symbol for leg in sharpe.legs if leg.side == "buy"] == ["LINK/USDT"]
    assert sharpe.evidence["target_weights"]["LINK/USDT"] > 0.2


def test_estimates_are_shrunk() -> None:
    rng = np.random.default_rng(0)
    returns = rng.normal([0.002, -0.001], [0.03, 0.05], size=(365, 2))
    mean, cov = estimates(returns, 365.0)
    raw = returns.mean(axis=0) * 365
    assert mean == pytest.approx(0.5 * raw + 0.5 * raw.mean())
    assert abs(cov[0, 1]) < abs(np.cov(returns, rowvar=False)[0, 1] * 365) + 1e-12


def test_a_single_holding_has_nothing_to_reallocate() -> None:
    assert _scan(Portfolio(holdings=(Holding(symbol="BTC/USDT", quantity=1.0),))) == []


@pytest.mark.parametrize("seed", range(12))
def test_noise_never_earns_a_max_sharpe_rebalance(seed: int) -> None:
    """On a market of pure random walks no asset has an edge: the optimiser always finds a
    "better" portfolio in the noise (it did in 1,075 of 1,080 such markets), and none may be
    published. Below the risk-free rate it would also have chosen the most volatile mix."""
    market = snapshot(PRICES, seed=100 + seed)
    found = STRATEGY.scan(market, StrategyRequest(capital_usd=50_000.0, portfolio=PORTFOLIO))
    assert [o for o in found if o.opportunity_type == "rebalance_max_sharpe"] == []
