"""Hedges for each holding of the user's portfolio: the same asset's perp, a correlated liquid perp,
or a protective put.

Over a ``HOLDING_DAYS`` horizon, for a holding worth ``V``:
- short perp of the same asset: hedge ratio 1; the perp tracks spot through funding, so it removes
  (nearly) all of the price variance; its cost is a round trip of fees and spread plus the
  funding paid (a short *earns* positive funding, which lowers the cost);
- a correlated liquid perp (BTC, ETH): hedge ratio = beta of the holding on it (regression of 4h
  returns); it removes rho^2 of the variance, for the same kind of cost;
- a protective put: the 30-day put nearest 30 delta, one per unit held, bought at the ask; its
  variance reduction and tail effect come from the holding's value at expiry over a lognormal
  grid (deterministic quantiles) at the realised volatility.

A hedge offers risk, not return: the tail loss it avoids (the horizon's CVaR95 of the holding
minus that of the hedged position, USD) is its ``risk_reduction_usd``; its profit is its own
expected P&L (minus costs, plus funding received; a put's expected payoff less its premium). A
hedge that saves less in the tail than it costs, or takes less than ``MIN_VARIANCE_REDUCTION`` of
the holding's variance away, is not reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot, OptionChain
from oppscan.strategies import (
    YEAR_SECONDS,
    StrategyInfo,
    StrategyRequest,
    build_opportunity,
    capacity_usd,
    taker_cost,
)
from oppscan.strategies.options_math import (
    OPTIONS_VOLUME_SHARE,
    bs_greeks,
    model_chain,
    option_fee,
    option_symbol,
    years_to_expiry,
)
from oppscan.strategies.portfolio.portfolio_math import (
    DEPTH_BAND_BPS,
    PERIODS_PER_YEAR,
    VOLUME_SHARE,
    asset_returns,
    main_exchange,
    require_holdings,
)

HOLDING_DAYS = 7.0
RETURNS_TIMEFRAME = "4h"
RETURNS_BARS = 300
LIQUID_HEDGES = ("BTC/USDT", "ETH/USDT")
MIN_CORRELATION = 0.5
MIN_VARIANCE_REDUCTION = 0.1  # a hedge that takes less of the variance away is not one
PUT_DELTA = -0.30
PUT_DAYS = 30.0
HEDGE_LEVERAGE = 3.0
CVAR_FACTOR_95 = math.exp(-0.5 * 1.6448536269514722**2) / math.sqrt(2 * math.pi) / 0.05

INFO = StrategyInfo(
    id="hedge_position",
    name="Hedge Position",
    description=(
        "For each holding: a short perp of the same asset, a beta-sized short of a correlated "
        "liquid perp, or a protective put, with hedge ratio, variance reduction and cost."
    ),
    needs=("ohlcv", "tickers", "order_books", "funding", "options", "fees"),
    needs_portfolio=True,
)


@dataclass(frozen=True, slots=True)
class _Perp:
    symbol: str
    exchange: str
    returns: np.ndarray


class HedgePosition:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        portfolio = require_holdings(request)
        liquid = [
            _Perp(symbol, series[0], series[1])
            for symbol in LIQUID_HEDGES
            if (series := asset_returns(market, symbol, RETURNS_TIMEFRAME, RETURNS_BARS))
            and (series[0], symbol) in market.funding
        ]
        found: list[Opportunity] = []
        for holding in portfolio.holdings:
            own = asset_returns(market, holding.symbol, RETURNS_TIMEFRAME, RETURNS_BARS)
            exchange = main_exchange(market, holding.symbol)
            if own is None or exchange is None:
                continue
            price = market.tickers[(exchange, holding.symbol)].mid
            value = holding.quantity * price
            sigma = float(np.std(own[1], ddof=1) * math.sqrt(PERIODS_PER_YEAR[RETURNS_TIMEFRAME]))
            ctx = _Holding(holding.symbol, exchange, holding.quantity, price, value, sigma)
            candidates = [_perp_hedge(market, request, ctx, _Perp(ctx.symbol, exchange, own[1]))]
            candidates += [
                _perp_hedge(market, request, ctx, perp, own[1])
                for perp in liquid
                if perp.symbol != holding.symbol
            ]
            candidates.append(_protective_put(market, request, ctx))
            found.extend(opp for opp in candidates if opp is not None)
        return found


@dataclass(frozen=True, slots=True)
class _Holding:
    symbol: str
    exchange: str
    quantity: float
    price: float
    value: float
    annual_vol: float

    def horizon_sigma(self, days: float) -> float:
        return self.annual_vol * math.sqrt(days / 365.0)


def _perp_hedge(
    market: MarketSnapshot,
    request: StrategyRequest,
    holding: _Holding,
    perp: _Perp,
    own_returns: np.ndarray | None = None,
) -> Opportunity | None:
    """Short ``perp``; ``own_returns`` given means a cross hedge, sized by regression beta."""
    funding = market.funding.get((perp.exchange, perp.symbol))
    if funding is None:
        return None
    if own_returns is None:
        beta, rho = 1.0, 1.0
    else:
        n = min(own_returns.shape[0], perp.returns.shape[0])
        x, y = perp.returns[-n:], own_returns[-n:]
        beta = float(np.cov(y, x)[0, 1] / np.var(x, ddof=1))
        rho = float(np.corrcoef(y, x)[0, 1])
        if rho < MIN_CORRELATION:
            return None
    capacity = capacity_usd(
        market, perp.exchange, perp.symbol, band_bps=DEPTH_BAND_BPS, volume_share=VOLUME_SHARE
    )
    target = beta * holding.value
    notional = min(target, capacity, request.capital_usd * HEDGE_LEVERAGE)
    if notional <= 0:
        return None
    ratio = notional / holding.value  # the hedge ratio actually placed
    # Residual variance of value*r_own - notional*r_perp, relative to the unhedged variance.
    if own_returns is None:
        residual = (1.0 - ratio) ** 2
    else:  # 1 - 2 h cov/var_y + h^2 var_x/var_y, written with beta and rho
        residual = max(1.0 - 2.0 * ratio * rho**2 / beta + ratio**2 * rho**2 / beta**2, 0.0)
    variance_reduction = 1.0 - residual
    enter = taker_cost(market, perp.exchange, perp.symbol, "sell", notional)
    leave = taker_cost(market, perp.exchange, perp.symbol, "buy", notional)
    periods = HOLDING_DAYS * 24.0 / funding.interval_hours
    funding_usd = -funding.rate * periods * notional  # shorts receive positive funding
    cost = enter.total_usd + leave.total_usd + funding_usd
    tail_before = CVAR_FACTOR_95 * holding.horizon_sigma(HOLDING_DAYS) * holding.value
    tail_after = tail_before * math.sqrt(residual)
    reduction = tail_before - tail_after
    # Worth suggesting when it takes a real share of the risk away for less than it removes.
    if variance_reduction < MIN_VARIANCE_REDUCTION or reduction <= cost or not enter.filled:
        return None
    same = own_returns is None
    price = funding.mark_price
    return build_opportunity(
        INFO,
        market,
        opportunity_type="perp_hedge" if same else "cross_hedge",
        symbol=holding.symbol,
        exchange=perp.exchange,
        side="sell",
        entry_price=price,
        exit_price=price,
        # A hedge expects to earn nothing on the price: its P&L is its costs (and funding).
        profit_potential_usd=-cost,
        risk_reduction_usd=reduction,
        required_capital_usd=notional / HEDGE_LEVERAGE,
        confidence=0.35 + 0.6 * variance_reduction * min(1.0, ratio / max(beta, 1e-9)),
        risk_level=RiskLevel.LOW if same else RiskLevel.MEDIUM,
        horizon_seconds=HOLDING_DAYS * 86_400,
        valid_for_ms=86_400_000,
        capacity_usd=capacity,
        legs=[
            Leg(
                exchange=perp.exchange,
                symbol=perp.symbol,
                side="sell",
                price=price,
                size=notional / price,
                instrument="perp",
            )
        ],
        evidence={
            "holding_value_usd": holding.value,
            "hedge_instrument": f"{perp.symbol} perp",
            "beta": beta,
            "correlation": rho,
            "hedge_ratio": ratio,
            "hedge_notional_usd": notional,
            "variance_reduction": variance_reduction,
            "horizon_days": HOLDING_DAYS,
            "annual_volatility": holding.annual_vol,
            "cvar95_unhedged_usd": tail_before,
            "cvar95_hedged_usd": tail_after,
            "fees_usd": enter.fees_usd + leave.fees_usd,
            "spread_and_slippage_usd": enter.crossing_usd + leave.crossing_usd,
            "funding_rate": funding.rate,
            "funding_interval_hours": funding.interval_hours,
            "funding_annualised": funding.annualised,
            "funding_usd": funding_usd,
            "cost_usd": cost,
            "profit_is": "the hedge's own expected P&L: minus its costs, plus funding received",
            "risk_reduction_is": "CVaR95 over the horizon avoided, USD",
            "variance_model": (
                "same asset: (1 - hedge ratio)^2 remains; perp-spot basis noise is not in the "
                "snapshot"
                if same
                else "cross hedge: 1 - 2h*rho^2/beta + h^2*rho^2/beta^2 remains (h = hedge ratio)"
            ),
        },
        metadata={"hedge_for": holding.symbol},
        key=("perp", holding.symbol, perp.symbol),
    )


def _protective_put(
    market: MarketSnapshot, request: StrategyRequest, holding: _Holding
) -> Opportunity | None:
    best: tuple[float, str, int, OptionChain] | None = None
    for (exchange, symbol), listed in sorted(market.options.items()):
        if symbol != holding.symbol:
            continue
        modelled = model_chain(listed, market.as_of_ms, market.risk_free_rate)
        if modelled is None:
            continue
        chain = modelled.chain  # expired rows dropped, missing IVs solved from the mids
        years = years_to_expiry(chain.expiries_ms, market.as_of_ms)
        puts = np.flatnonzero(~chain.is_call & (years > 0) & (chain.asks > 0))
        if puts.size == 0:
            continue
        # The expiry nearest 30 days, then the put nearest 30 delta in it.
        days = years[puts] * 365.0
        puts = puts[np.abs(days - PUT_DAYS) == np.min(np.abs(days - PUT_DAYS))]
        g = bs_greeks(
            chain.underlying_price, chain.strikes[puts], years[puts],
            market.risk_free_rate, chain.iv[puts], False,
        )  # fmt: skip
        i = int(puts[np.argmin(np.abs(g.delta - PUT_DELTA))])
        score = abs(float(years[i]) * 365.0 - PUT_DAYS) + float(chain.asks[i]) / holding.price
        if best is None or score < best[0]:
            best = (score, exchange, i, chain)
    if best is None:
        return None
    _, exchange, i, chain = best
    t = float(years_to_expiry(chain.expiries_ms[i : i + 1], market.as_of_ms)[0])
    strike, ask = float(chain.strikes[i]), float(chain.asks[i])
    fee = float(option_fee(chain.underlying_price, ask))
    per_unit = ask + fee
    # No more than the quote is good for (chains carry no depth): a share of the daily volume.
    ticker = market.tickers.get((exchange, holding.symbol))
    capacity = OPTIONS_VOLUME_SHARE * ticker.quote_volume_24h if ticker is not None else 0.0
    contracts = min(holding.quantity, request.capital_usd / per_unit, capacity / per_unit)
    # The holding's value at expiry over lognormal quantiles at its realised volatility.
    sigma = holding.annual_vol * math.sqrt(t)
    spot = holding.price * np.exp(sigma * _grid_z() - 0.5 * sigma * sigma)
    unhedged = holding.quantity * (spot - holding.price)
    hedged = unhedged + contracts * (np.maximum(strike - spot, 0.0) - per_unit)
    cvar_before, cvar_after = _cvar95(unhedged), _cvar95(hedged)
    cost = contracts * per_unit
    variance_reduction = 1.0 - float(np.var(hedged) / np.var(unhedged))
    # The premium is spent in every outcome: it is the hedge's cost, already inside `hedged`.
    reduction = cvar_before - cvar_after
    # The put's own expected P&L over the same outcomes: its payoff less premium and fee.
    profit = float((hedged - unhedged).mean())
    if variance_reduction < MIN_VARIANCE_REDUCTION or reduction <= 0 or contracts <= 0:
        return None
    delta = float(bs_greeks(chain.underlying_price, strike, t, market.risk_free_rate,
                            chain.iv[i], False).delta)  # fmt: skip
    return build_opportunity(
        INFO,
        market,
        opportunity_type="protective_put",
        symbol=holding.symbol,
        exchange=exchange,
        side="buy",
        entry_price=ask,
        exit_price=ask,
        stop_loss=None,
        profit_potential_usd=profit,
        risk_reduction_usd=reduction,
        required_capital_usd=cost,
        confidence=0.3 + 0.6 * max(0.0, min(1.0, variance_reduction * 1.5)),
        risk_level=RiskLevel.LOW,
        horizon_seconds=t * YEAR_SECONDS,  # held to expiry
        valid_for_ms=3_600_000,
        capacity_usd=capacity,
        legs=[
            Leg(
                exchange=exchange,
                symbol=option_symbol(
                    holding.symbol.split("/")[0], int(chain.expiries_ms[i]), strike, False
                ),
                side="buy",
                price=ask,
                size=contracts,
                instrument="option",
            )
        ],
        evidence={
            "holding_value_usd": holding.value,
            "hedge_instrument": "put",
            "strike": strike,
            "days_to_expiry": t * 365.0,
            "implied_vol": float(chain.iv[i]),
            "put_delta": delta,
            "hedge_ratio": contracts / holding.quantity,
            "delta_hedge_ratio": -delta * contracts / holding.quantity,
            "variance_reduction": variance_reduction,
            "premium_per_contract": ask,
            "fee_per_contract": fee,
            "cost_usd": cost,
            "cvar95_unhedged_usd": cvar_before,
            "cvar95_hedged_usd": cvar_after,
            "annual_volatility": holding.annual_vol,
            "profit_is": "the put's expected payoff at realised volatility, less premium and fee",
            "risk_reduction_is": "CVaR95 at expiry avoided, USD, premium and fee deducted",
        },
        metadata={"hedge_for": holding.symbol},
        key=("put", holding.symbol, i),
    )


@cache
def _grid_z() -> np.ndarray:
    """Standard normal quantiles (no randomness), computed once, on first use: importing the
    catalog must not load scipy."""
    from scipy.special import ndtri

    grid: np.ndarray = ndtri((np.arange(2000) + 0.5) / 2000)
    return grid


def _cvar95(pnl: np.ndarray) -> float:
    losses = np.sort(-pnl)
    tail = losses[math.floor(0.95 * losses.shape[0]) :]
    return float(tail.mean())


STRATEGY = HedgePosition()
