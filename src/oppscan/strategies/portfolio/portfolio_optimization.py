"""Target weights for the user's holdings (plus cash), and the trades to get there.

Two targets over the assets already held, each keeping the current cash share (the user's own
choice of how much risk to carry):
- mean-variance, maximum Sharpe, long only (scipy SLSQP). A year of daily means is mostly noise,
  so each asset's mean is shrunk halfway to the cross-sectional average, and the covariance a
  fifth of the way to its diagonal; the optimiser is still the textbook one.
- risk parity: every asset contributes the same share of the portfolio's variance.

A max-Sharpe target is an opportunity when it earns more than the trades cost: its profit is the
extra expected return (shrunk means) over ``HORIZON_DAYS``, less fees and slippage. It is
published only when the move is more than noise: the target's Sharpe is positive (below the
risk-free rate the "best" portfolio is merely the most volatile) and the switch's own historical
return has a t-statistic of at least ``MIN_SWITCH_T``, set high because the optimiser chose the
direction that looked best on the same history. A risk-parity target reduces risk: the drop in
the one-day historical CVaR95 goes in ``risk_reduction_usd``, its costs in the profit, and it is
published when it removes more than it costs.
"""

from __future__ import annotations

import math

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import FloatArray, MarketSnapshot
from oppscan.strategies import StrategyInfo, StrategyRequest, build_opportunity, taker_cost
from oppscan.strategies.portfolio.portfolio_math import (
    PERIODS_PER_YEAR,
    PortfolioView,
    portfolio_view,
    require_holdings,
    tail_risk,
)

HORIZON_DAYS = 30.0
MEAN_SHRINKAGE = 0.5
COVARIANCE_SHRINKAGE = 0.2
MIN_TRADE_SHARE = 0.01  # trades under 1% of the portfolio are not worth their fees
MIN_SWITCH_T = 3.0

INFO = StrategyInfo(
    id="portfolio_optimization",
    name="Portfolio Optimization",
    description=(
        "Maximum-Sharpe (long-only mean-variance) and risk-parity weights for your holdings "
        "plus cash, with the trades to get there when they pay for their costs."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
    needs_portfolio=True,
)


def estimates(returns: FloatArray, periods_per_year: float) -> tuple[FloatArray, FloatArray]:
    """Annualised shrunk mean vector and covariance matrix of simple returns."""
    mean = returns.mean(axis=0) * periods_per_year
    mean = (1 - MEAN_SHRINKAGE) * mean + MEAN_SHRINKAGE * mean.mean()
    cov = np.atleast_2d(np.cov(returns, rowvar=False)) * periods_per_year
    cov = (1 - COVARIANCE_SHRINKAGE) * cov + COVARIANCE_SHRINKAGE * np.diag(np.diag(cov))
    return np.asarray(mean, dtype=np.float64), np.asarray(cov, dtype=np.float64)


def max_sharpe_weights(mean: FloatArray, cov: FloatArray, risk_free: float) -> FloatArray:
    """Long-only fully invested weights of highest (mean - rf) / vol."""
    from scipy.optimize import (
        LinearConstraint,
        minimize,
    )  # imported on use: importing the catalog must not load scipy

    n = mean.shape[0]
    if n == 1:
        return np.ones(1)

    def negative_sharpe(w: FloatArray) -> float:
        return -float((w @ mean - risk_free) / math.sqrt(max(float(w @ cov @ w), 1e-18)))

    result = minimize(
        negative_sharpe,
        np.full(n, 1.0 / n),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=LinearConstraint(np.ones((1, n)), 1.0, 1.0),
    )
    w = np.clip(result.x, 0.0, None)
    return np.asarray(w / w.sum(), dtype=np.float64)


def risk_parity_weights(cov: FloatArray) -> FloatArray:
    """Long-only fully invested weights whose variance contributions are equal."""
    from scipy.optimize import (
        LinearConstraint,
        minimize,
    )  # imported on use: importing the catalog must not load scipy

    n = cov.shape[0]
    if n == 1:
        return np.ones(1)

    def spread_of_contributions(w: FloatArray) -> float:
        contributions = w * (cov @ w)
        return float(((contributions / contributions.sum() - 1.0 / n) ** 2).sum())

    start = 1.0 / np.sqrt(np.diag(cov))
    result = minimize(
        spread_of_contributions,
        start / start.sum(),
        method="SLSQP",
        bounds=[(1e-6, 1.0)] * n,
        constraints=LinearConstraint(np.ones((1, n)), 1.0, 1.0),
        options={"ftol": 1e-12, "maxiter": 200},
    )
    w = np.clip(result.x, 0.0, None)
    return np.asarray(w / w.sum(), dtype=np.float64)


class PortfolioOptimization:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        view = portfolio_view(market, require_holdings(request))
        if len(view.symbols) < 2:
            return []  # one risky asset and cash: both targets are the current portfolio
        periods = PERIODS_PER_YEAR[view.timeframe]
        mean, cov = estimates(view.returns, periods)
        risky_share = float(view.weights.sum())
        current = view.weights / risky_share
        targets = {
            "max_sharpe": max_sharpe_weights(mean, cov, market.risk_free_rate),
            "risk_parity": risk_parity_weights(cov),
        }
        found = []
        for name, target in targets.items():
            opp = _rebalance(market, view, name, current, target, mean, cov, targets)
            if opp is not None:
                found.append(opp)
        return found


def _stats(w: FloatArray, mean: FloatArray, cov: FloatArray, rf: float) -> tuple[float, float]:
    """Expected return and Sharpe ratio of the risky sleeve ``w`` (rescaled to sum to one)."""
    w = w / w.sum()
    vol = math.sqrt(max(float(w @ cov @ w), 1e-18))
    return float(w @ mean), (float(w @ mean) - rf) / vol


def _rebalance(
    market: MarketSnapshot,
    view: PortfolioView,
    name: str,
    current: FloatArray,
    target: FloatArray,
    mean: FloatArray,
    cov: FloatArray,
    targets: dict[str, FloatArray],
) -> Opportunity | None:
    total, rf = view.total_usd, market.risk_free_rate
    risky_share = float(view.weights.sum())
    trades = (target - current) * risky_share * total  # USD to buy (> 0) or sell (< 0)
    trades[np.abs(trades) < MIN_TRADE_SHARE * total] = 0.0
    if not trades.any():
        return None
    legs, costs, filled = [], 0.0, True
    for symbol, exchange, price, usd in zip(
        view.symbols, view.exchanges, view.prices, trades, strict=True
    ):
        if usd == 0:
            continue
        side = "buy" if usd > 0 else "sell"
        cost = taker_cost(market, exchange, symbol, side, abs(float(usd)))
        costs += cost.total_usd
        filled &= cost.filled
        legs.append(
            Leg(
                exchange=exchange,
                symbol=symbol,
                side=side,
                price=float(price),
                size=abs(usd) / price,
            )
        )
    reached = current + trades / (risky_share * total)
    ret_now, sharpe_now = _stats(current, mean, cov, rf)
    ret_new, sharpe_new = _stats(reached, mean, cov, rf)
    vol_now = math.sqrt(float(current @ cov @ current))
    cvar_now = tail_risk(view.returns @ (current * risky_share)).cvar95_hist
    cvar_new = tail_risk(view.returns @ (reached * risky_share)).cvar95_hist
    switch = view.returns @ ((reached - current) * risky_share)  # the move's own returns
    switch_t = float(switch.mean() / max(float(switch.std(ddof=1)), 1e-18) * math.sqrt(len(switch)))
    if name == "max_sharpe":
        gain = risky_share * total * (ret_new - ret_now) * HORIZON_DAYS / 365
        profit, reduction = gain - costs, 0.0
        gain_is = "extra expected return (shrunk means) over 30 days, USD, less costs"
        if sharpe_new <= 0 or switch_t < MIN_SWITCH_T or profit <= 0:
            return None
    else:
        gain = reduction = (cvar_now - cvar_new) * total
        profit = -costs
        gain_is = "minus the trades' costs: a rebalance to lower risk expects no return"
        if reduction <= costs:
            return None
    turnover = float(np.abs(trades).sum())
    if not filled:
        return None

    def weights_of(w: FloatArray) -> dict[str, float]:
        out = {s: max(float(x), 0.0) * risky_share for s, x in zip(view.symbols, w, strict=True)}
        # Skipped small trades leave their cash where it was: cash is whatever is not invested.
        return out | {"cash": 1.0 - sum(out.values())}

    largest = int(np.argmax(np.abs(trades)))
    contributions = reached * (cov @ reached)
    return build_opportunity(
        INFO,
        market,
        opportunity_type=f"rebalance_{name}",
        symbol=view.symbols[largest],
        exchange=view.exchanges[largest],
        side="rebalance",
        entry_price=float(view.prices[largest]),
        exit_price=float(view.prices[largest]),
        profit_potential_usd=profit,
        risk_reduction_usd=reduction,
        required_capital_usd=turnover / 2,  # the buys, paid by the sells
        # Noisy means make a Sharpe gain less certain than a risk reduction.
        confidence=(0.35 if name == "max_sharpe" else 0.5)
        + 0.4 * (1.0 - math.exp(-gain / max(costs, 1.0) / 5.0)),
        risk_level=RiskLevel.MEDIUM if name == "max_sharpe" else RiskLevel.LOW,
        horizon_seconds=HORIZON_DAYS * 86_400,
        valid_for_ms=86_400_000,
        capacity_usd=total,
        legs=legs,
        evidence={
            "method": name,
            "current_weights": weights_of(current),
            "target_weights": weights_of(reached),
            "max_sharpe_weights": weights_of(targets["max_sharpe"]),
            "risk_parity_weights": weights_of(targets["risk_parity"]),
            "expected_return_annual_now": ret_now,
            "expected_return_annual_target": ret_new,
            "volatility_annual_now": vol_now,
            "volatility_annual_target": math.sqrt(float(reached @ cov @ reached)),
            "sharpe_now": sharpe_now,
            "sharpe_target": sharpe_new,
            "risk_contributions_target": {
                s: float(c / contributions.sum())
                for s, c in zip(view.symbols, contributions, strict=True)
            },
            "cvar95_1d_now": cvar_now,
            "cvar95_1d_target": cvar_new,
            "gain_usd": gain,
            "switch_t_stat": switch_t,
            "trade_costs_usd": costs,
            "turnover_usd": turnover,
            "mean_shrinkage": MEAN_SHRINKAGE,
            "covariance_shrinkage": COVARIANCE_SHRINKAGE,
            "profit_is": gain_is,
        },
        metadata={"target_weights": weights_of(reached)},
        key=name,
    )


STRATEGY = PortfolioOptimization()
