"""Risk of the user's portfolio (holdings at snapshot prices plus cash), and actions that cut it.

Measures, one day ahead, from a year of daily returns of the current weights: VaR and CVaR at
95% and 99%, historical (the empirical tail) and parametric (normal); the max drawdown the
current weights would have suffered; concentration as the Herfindahl index of the holdings.

Actions, each an opportunity when it pays for itself:
- trim the largest position to ``TRIM_TARGET`` of the total when it is above ``TRIM_LIMIT``;
- short the perp that best hedges the whole portfolio (beta-sized on daily returns).
What they offer is risk, not return: the drop in the one-day historical CVaR95 in USD (the
average loss on the worst 5% of days that the action avoids) is their ``risk_reduction_usd``, and
their profit is their own P&L: minus what the action costs (fees, spread and slippage, and a day
of funding for a hedge). An action that does not cut more tail loss than it costs is not
reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import (
    StrategyInfo,
    StrategyRequest,
    build_opportunity,
    capacity_usd,
    taker_cost,
)
from oppscan.strategies.portfolio.portfolio_math import (
    DEPTH_BAND_BPS,
    VOLUME_SHARE,
    PortfolioView,
    TailRisk,
    asset_returns,
    herfindahl,
    portfolio_view,
    require_holdings,
    tail_risk,
)

TRIM_LIMIT = 0.30  # of the total value
TRIM_TARGET = 0.25
HEDGE_LEVERAGE = 3.0
LIQUID_HEDGES = ("BTC/USDT", "ETH/USDT")

INFO = StrategyInfo(
    id="risk_management",
    name="Risk Management",
    description=(
        "VaR and CVaR (historical and parametric, 95% and 99%, one day), max drawdown and "
        "concentration of your portfolio, with the trims and hedges that cut its tail loss by "
        "more than they cost."
    ),
    needs=("ohlcv", "tickers", "order_books", "funding", "fees"),
    needs_portfolio=True,
)


class RiskManagement:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        view = portfolio_view(market, require_holdings(request))
        risk = tail_risk(view.portfolio_returns())
        total = view.total_usd
        summary: dict[str, object] = {
            **risk.as_evidence(total),
            "portfolio_value_usd": total,
            "cash_usd": view.cash_usd,
            "herfindahl": herfindahl(view.values),
            "weights": {s: float(w) for s, w in zip(view.symbols, view.weights, strict=True)}
            | {"cash": view.cash_usd / total},
            "observations": int(view.returns.shape[0]),
            "unpriced_holdings": list(view.unpriced),
        }
        found = [
            opp
            for opp in (
                _trim_largest(market, view, risk, summary),
                _portfolio_hedge(market, request, view, risk, summary),
            )
            if opp is not None
        ]
        return found


def _confidence(view: PortfolioView, before: TailRisk, after: TailRisk) -> float:
    # Both methods agreeing that the tail shrinks, by a good share, on a long enough history.
    agree = int(after.cvar95_hist < before.cvar95_hist) + int(
        after.cvar95_param < before.cvar95_param
    )
    history = min(1.0, view.returns.shape[0] / 365.0)
    shrink = 1.0 - after.cvar95_hist / before.cvar95_hist if before.cvar95_hist > 0 else 0.0
    return float(0.2 + 0.25 * agree / 2 + 0.2 * history + 0.3 * min(1.0, max(shrink, 0.0) * 2))


def _trim_largest(
    market: MarketSnapshot, view: PortfolioView, risk: TailRisk, summary: dict[str, object]
) -> Opportunity | None:
    weights = view.weights
    i = int(np.argmax(weights))
    if weights[i] <= TRIM_LIMIT:
        return None
    symbol, exchange, price = view.symbols[i], view.exchanges[i], float(view.prices[i])
    total = view.total_usd
    capacity = capacity_usd(
        market, exchange, symbol, band_bps=DEPTH_BAND_BPS, volume_share=VOLUME_SHARE
    )
    notional = min((weights[i] - TRIM_TARGET) * total, capacity)
    if notional <= 0:
        return None
    trimmed = weights.copy()
    trimmed[i] -= notional / total
    after = tail_risk(view.portfolio_returns(trimmed))
    cost = taker_cost(market, exchange, symbol, "sell", notional)
    avoided = (risk.cvar95_hist - after.cvar95_hist) * total
    if avoided <= cost.total_usd or not cost.filled:
        return None
    return build_opportunity(
        INFO,
        market,
        opportunity_type="trim_position",
        symbol=symbol,
        exchange=exchange,
        side="sell",
        entry_price=price,
        exit_price=price,
        # A sale expects to earn nothing on the price: its P&L is its cost.
        profit_potential_usd=-cost.total_usd,
        risk_reduction_usd=avoided,
        required_capital_usd=notional,  # the position it moves
        confidence=_confidence(view, risk, after),
        risk_level=RiskLevel.LOW,
        horizon_seconds=86_400,  # the one-day CVaR it reduces
        valid_for_ms=86_400_000,
        capacity_usd=capacity,
        legs=[
            Leg(exchange=exchange, symbol=symbol, side="sell", price=price, size=notional / price)
        ],
        evidence={
            **summary,
            "action": f"sell {notional:.2f} USD of {symbol} to bring it to {TRIM_TARGET:.0%}",
            "weight_before": float(weights[i]),
            "weight_after": float(trimmed[i]),
            "after": after.as_evidence(total),
            "tail_loss_avoided_usd": avoided,
            "cost_usd": cost.total_usd,
            "profit_is": "the sale's own P&L: minus its fees and spread",
            "risk_reduction_is": "one-day CVaR95 avoided, USD",
        },
        metadata={"action": "trim"},
        key=("trim", symbol),
    )


@dataclass(frozen=True, slots=True)
class _Hedge:
    symbol: str
    exchange: str
    beta: float
    notional: float
    capacity: float
    price: float
    after: TailRisk
    avoided: float
    costs: float
    funding_usd: float
    net_benefit: float  # tail loss avoided less the hedge's costs: how hedges are compared
    variance_reduction: float


def _portfolio_hedge(
    market: MarketSnapshot,
    request: StrategyRequest,
    view: PortfolioView,
    risk: TailRisk,
    summary: dict[str, object],
) -> Opportunity | None:
    portfolio_returns = view.portfolio_returns()
    n = portfolio_returns.shape[0]
    total, risky = view.total_usd, float(view.values.sum())
    best: _Hedge | None = None
    for symbol in dict.fromkeys((*LIQUID_HEDGES, *view.symbols)):
        found = asset_returns(market, symbol, view.timeframe, n)
        if found is None or found[1].shape[0] != n or (found[0], symbol) not in market.funding:
            continue
        exchange, hedge_returns = found
        beta = float(np.cov(portfolio_returns, hedge_returns)[0, 1] / np.var(hedge_returns, ddof=1))
        if beta <= 0:
            continue
        capacity = capacity_usd(
            market, exchange, symbol, band_bps=DEPTH_BAND_BPS, volume_share=VOLUME_SHARE
        )
        notional = min(beta * total, risky, capacity, request.capital_usd * HEDGE_LEVERAGE)
        if notional <= 0:
            continue
        hedged = portfolio_returns - notional / total * hedge_returns
        after = tail_risk(hedged)
        funding = market.funding[(exchange, symbol)]
        # A short receives positive funding: a day of it is a negative cost.
        funding_usd = -funding.rate * 24.0 / funding.interval_hours * notional
        enter = taker_cost(market, exchange, symbol, "sell", notional)
        leave = taker_cost(market, exchange, symbol, "buy", notional)
        costs = enter.total_usd + leave.total_usd + funding_usd
        avoided = (risk.cvar95_hist - after.cvar95_hist) * total
        net_benefit = avoided - costs
        if net_benefit > 0 and enter.filled and (best is None or net_benefit > best.net_benefit):
            best = _Hedge(
                symbol=symbol,
                exchange=exchange,
                beta=beta,
                notional=notional,
                capacity=capacity,
                price=funding.mark_price,
                after=after,
                avoided=avoided,
                costs=costs,
                funding_usd=funding_usd,
                net_benefit=net_benefit,
                variance_reduction=1.0 - float(np.var(hedged) / np.var(portfolio_returns)),
            )
    if best is None:
        return None
    h = best
    symbol, exchange, notional, price, after = h.symbol, h.exchange, h.notional, h.price, h.after
    return build_opportunity(
        INFO,
        market,
        opportunity_type="portfolio_hedge",
        symbol=symbol,
        exchange=exchange,
        side="sell",
        entry_price=price,
        exit_price=price,
        # A hedge expects to earn nothing on the price: its P&L is its costs and funding.
        profit_potential_usd=-h.costs,
        risk_reduction_usd=h.avoided,
        required_capital_usd=notional / HEDGE_LEVERAGE,
        confidence=_confidence(view, risk, after),
        risk_level=RiskLevel.LOW,
        horizon_seconds=86_400,  # the one-day CVaR it reduces
        valid_for_ms=86_400_000,
        capacity_usd=h.capacity,
        legs=[
            Leg(
                exchange=exchange,
                symbol=symbol,
                side="sell",
                price=price,
                size=notional / price,
                instrument="perp",
            )
        ],
        evidence={
            **summary,
            "action": f"short {notional:.2f} USD of the {symbol} perp against the portfolio",
            "portfolio_beta": h.beta,
            "hedge_notional_usd": notional,
            "variance_reduction": h.variance_reduction,
            "after": after.as_evidence(view.total_usd),
            "tail_loss_avoided_usd": h.avoided,
            "cost_usd": h.costs,
            "funding_one_day_usd": h.funding_usd,
            "profit_is": "the hedge's own P&L: minus fees, spread and a day of funding",
            "risk_reduction_is": "one-day CVaR95 avoided, USD",
        },
        metadata={"action": "hedge"},
        key=("hedge", symbol),
    )


STRATEGY = RiskManagement()
