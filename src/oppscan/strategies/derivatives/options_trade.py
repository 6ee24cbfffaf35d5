"""Options trades: implied vs realised volatility per chain, and single quotes off the smile.

Volatility trade: per expiry, the at-the-money straddle. Its quoted IV is compared with the
realised volatility of the hourly closes (close-to-close; Parkinson's range estimator is reported
too, but wick noise in the bars biases it, so it does not decide). The straddle is valued at the
*conservative* end of realised volatility's confidence interval (two standard errors, from the
returns' own kurtosis): sold at the bids when those beat that value plus the fees, bought at the
asks when the value beats them. The best expiry of each chain is reported.

Single quotes: each quote is valued at the chain's own smile (fitted robustly, so a mispriced
quote does not bend it); a bid above that value plus the fee is sold, an ask below it is bought.
"""

from __future__ import annotations

import math

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import YEAR_SECONDS, StrategyInfo, StrategyRequest, build_opportunity
from oppscan.strategies.options_math import (
    OPTIONS_VOLUME_SHARE,
    ChainModel,
    bs_greeks,
    close_to_close_vol,
    model_chain,
    option_symbol,
    parkinson_vol,
    short_option_margin,
)

RV_TIMEFRAME = "1h"
RV_PERIODS_PER_YEAR = 24 * 365.0
RV_CONFIDENCE_SES = 2.0  # value the straddle this many standard errors against the trade
SINGLE_QUOTES_PER_CHAIN = 3
MS_PER_DAY = 86_400_000

INFO = StrategyInfo(
    id="options_trade",
    name="Options Trading",
    description=(
        "Sells or buys at-the-money straddles when implied volatility beats realised volatility "
        "(close-to-close, with its standard error) by more than spread and fees; trades single "
        "quotes priced off the chain's fitted smile. Black-Scholes greeks in the evidence."
    ),
    needs=("options", "ohlcv", "tickers"),
)


class OptionsTrade:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        for (exchange, symbol), chain in sorted(market.options.items()):
            bars = market.bars(exchange, symbol, RV_TIMEFRAME)
            ticker = market.tickers.get((exchange, symbol))
            cm = model_chain(chain, market.as_of_ms, market.risk_free_rate)
            if bars is None or ticker is None or cm is None or len(bars) < 50:
                continue
            rv = realised_vol(bars.close)
            if rv is None:
                continue
            parkinson = parkinson_vol(bars.high, bars.low, RV_PERIODS_PER_YEAR)
            capacity = OPTIONS_VOLUME_SHARE * ticker.quote_volume_24h
            budget = min(request.capital_usd, capacity)
            ctx = _Context(market, exchange, symbol, cm, budget, capacity)
            vol_trade = _volatility_trade(ctx, rv, parkinson)
            if vol_trade is not None:
                found.append(vol_trade)
            found.extend(_single_quotes(ctx))
        return found


def realised_vol(close: np.ndarray) -> tuple[float, float] | None:
    """(annualised close-to-close vol, its relative standard error from the returns' kurtosis)."""
    returns = np.diff(np.log(close))
    n = returns.shape[0]
    if n < 30:
        return None
    vol = close_to_close_vol(close, RV_PERIODS_PER_YEAR)
    centred = returns - returns.mean()
    kurtosis = float(np.mean(centred**4) / np.mean(centred**2) ** 2)
    # se(sigma^2)/sigma^2 = sqrt((kurtosis - 1)/n); sigma's relative error is half that.
    return vol, 0.5 * math.sqrt(max(kurtosis - 1.0, 2.0) / n)


class _Context:
    __slots__ = ("base", "budget", "capacity", "cm", "exchange", "market", "symbol")

    def __init__(
        self,
        market: MarketSnapshot,
        exchange: str,
        symbol: str,
        cm: ChainModel,
        budget: float,
        capacity: float,
    ) -> None:
        self.market, self.exchange, self.symbol, self.cm = market, exchange, symbol, cm
        self.budget, self.capacity = budget, capacity
        self.base = symbol.split("/")[0]

    def leg(self, i: int, side: str, contracts: float) -> Leg:
        chain = self.cm.chain
        price = chain.bids[i] if side == "sell" else chain.asks[i]
        return Leg(
            exchange=self.exchange,
            symbol=option_symbol(
                self.base,
                int(chain.expiries_ms[i]),
                float(chain.strikes[i]),
                bool(chain.is_call[i]),
            ),
            side=side,
            price=float(price),
            size=contracts,
            instrument="option",
        )


def _volatility_trade(
    ctx: _Context, rv_and_se: tuple[float, float], parkinson: float
) -> Opportunity | None:
    rv, rv_se = rv_and_se
    chain, cm, rate = ctx.cm.chain, ctx.cm, ctx.market.risk_free_rate
    s = chain.underlying_price
    best: tuple[float, dict[str, float], tuple[int, int], str] | None = None
    for expiry in cm.expiries:
        rows = np.flatnonzero(chain.expiries_ms == expiry)
        t = float(cm.years[rows[0]])
        calls = rows[chain.is_call[rows]]
        puts = rows[~chain.is_call[rows]]
        common = np.intersect1d(chain.strikes[calls], chain.strikes[puts])
        if common.shape[0] == 0:
            continue
        strike = float(common[np.argmin(np.abs(np.log(common / (s * math.exp(rate * t)))))])
        c = int(calls[chain.strikes[calls] == strike][0])
        p = int(puts[chain.strikes[puts] == strike][0])
        iv = float((chain.iv[c] + chain.iv[p]) / 2.0)
        fees = float(cm.fee[c] + cm.fee[p])
        sell = iv > rv
        rv_conservative = (
            rv * (1 + RV_CONFIDENCE_SES * rv_se) if sell else rv * (1 - RV_CONFIDENCE_SES * rv_se)
        )
        fair = float(bs_price(s, strike, t, rate, rv_conservative, [True, False]).sum())
        if sell:
            premium = float(chain.bids[c] + chain.bids[p])
            edge = premium - fair - fees
            mid = (chain.bids[[c, p]] + chain.asks[[c, p]]) / 2.0
            capital = float(short_option_margin(s, strike, [True, False], mid).sum())
        else:
            premium = float(chain.asks[c] + chain.asks[p])
            edge = fair - premium - fees
            capital = premium + fees
        if edge <= 0 or capital <= 0:
            continue
        facts = {
            "t": t, "strike": strike, "iv": iv, "fair": fair, "premium": premium,
            "fees": fees, "edge": edge, "capital": capital,
            "rv_conservative": rv_conservative,
        }  # fmt: skip
        if best is None or edge / capital > best[0]:
            best = (edge / capital, facts, (c, p), "sell" if sell else "buy")
    if best is None or ctx.budget <= 0:
        return None
    _, f, (c, p), side = best
    contracts = ctx.budget / f["capital"]
    profit = contracts * f["edge"]
    if profit <= 0:
        return None
    sign = -1.0 if side == "sell" else 1.0
    g = bs_greeks(s, f["strike"], f["t"], rate, f["iv"], [True, False])
    gap_in_ses = abs(f["iv"] / rv - 1.0) / rv_se
    days = f["t"] * 365.0
    return build_opportunity(
        INFO,
        ctx.market,
        opportunity_type="sell_volatility" if side == "sell" else "buy_volatility",
        symbol=ctx.symbol,
        exchange=ctx.exchange,
        side=side,
        entry_price=f["premium"],
        exit_price=f["fair"],
        profit_potential_usd=profit,
        required_capital_usd=contracts * f["capital"],
        confidence=0.3 + 0.6 * (1.0 - math.exp(-max(gap_in_ses - RV_CONFIDENCE_SES, 0.0) / 3.0)),
        risk_level=RiskLevel.VERY_HIGH if side == "sell" else RiskLevel.MEDIUM,
        horizon_seconds=f["t"] * YEAR_SECONDS,  # held to expiry
        valid_for_ms=3_600_000,
        capacity_usd=ctx.capacity,
        legs=[ctx.leg(c, side, contracts), ctx.leg(p, side, contracts)],
        evidence={
            "structure": "straddle",
            "strike": f["strike"],
            "days_to_expiry": days,
            "implied_vol": f["iv"],
            "realised_vol_close_to_close": rv,
            "realised_vol_parkinson": parkinson,
            "realised_vol_standard_error": rv * rv_se,
            "realised_vol_used": f["rv_conservative"],
            "iv_rv_ratio": f["iv"] / rv,
            "premium": f["premium"],
            "model_value_at_rv": f["fair"],
            "fees_per_straddle": f["fees"],
            "edge_per_straddle": f["edge"],
            "contracts": contracts,
            "delta": sign * float(g.delta.sum()) * contracts,
            "gamma": sign * float(g.gamma.sum()) * contracts,
            "vega": sign * float(g.vega.sum()) * contracts,
            "theta": sign * float(g.theta.sum()) * contracts,
        },
        metadata={"underlying_price": s, "expiry_ms": int(ctx.cm.chain.expiries_ms[c])},
        key=("straddle", int(ctx.cm.chain.expiries_ms[c]), f["strike"]),
    )


def _single_quotes(ctx: _Context) -> list[Opportunity]:
    cm, chain, rate = ctx.cm, ctx.cm.chain, ctx.market.risk_free_rate
    s = chain.underlying_price
    mid = (chain.bids + chain.asks) / 2.0
    margin = short_option_margin(s, chain.strikes, chain.is_call, mid)
    sell_ratio = np.where(cm.sell_edge > 0, cm.sell_edge / margin, 0.0)
    buy_ratio = np.where(cm.buy_edge > 0, cm.buy_edge / (chain.asks + cm.fee), 0.0)
    found: list[Opportunity] = []
    candidates = [(float(sell_ratio[i]), int(i), "sell") for i in np.flatnonzero(sell_ratio > 0)]
    candidates += [(float(buy_ratio[i]), int(i), "buy") for i in np.flatnonzero(buy_ratio > 0)]
    for _, i, side in sorted(candidates, reverse=True)[:SINGLE_QUOTES_PER_CHAIN]:
        capital = float(margin[i]) if side == "sell" else float(chain.asks[i] + cm.fee[i])
        edge = float(cm.sell_edge[i] if side == "sell" else cm.buy_edge[i])
        contracts = ctx.budget / capital
        if contracts <= 0:
            continue
        price = float(chain.bids[i] if side == "sell" else chain.asks[i])
        sign = -1.0 if side == "sell" else 1.0
        t, iv = float(cm.years[i]), float(chain.iv[i])
        g = bs_greeks(s, chain.strikes[i], t, rate, iv, chain.is_call[i])
        residual_vol = iv - float(cm.smile_iv[i])
        half_spread = float((chain.asks[i] - chain.bids[i]) / 2.0)
        found.append(
            build_opportunity(
                INFO,
                ctx.market,
                opportunity_type="mispriced_option",
                symbol=ctx.symbol,
                exchange=ctx.exchange,
                side=side,
                entry_price=price,
                exit_price=float(cm.model[i]),
                profit_potential_usd=contracts * edge,
                required_capital_usd=contracts * capital,
                # How far past the break-even the quote is, in half spreads.
                confidence=0.25 + 0.65 * (1.0 - math.exp(-edge / max(half_spread, 1e-12) / 2.0)),
                risk_level=RiskLevel.VERY_HIGH if side == "sell" else RiskLevel.MEDIUM,
                horizon_seconds=t * YEAR_SECONDS,  # held to expiry
                valid_for_ms=3_600_000,
                capacity_usd=ctx.capacity,
                legs=[ctx.leg(i, side, contracts)],
                evidence={
                    "strike": float(chain.strikes[i]),
                    "is_call": bool(chain.is_call[i]),
                    "days_to_expiry": t * 365.0,
                    "quoted_iv": iv,
                    "smile_iv": float(cm.smile_iv[i]),
                    "iv_residual": residual_vol,
                    "model_value": float(cm.model[i]),
                    "bid": float(chain.bids[i]),
                    "ask": float(chain.asks[i]),
                    "fee_per_contract": float(cm.fee[i]),
                    "edge_per_contract": edge,
                    "contracts": contracts,
                    "delta": sign * float(g.delta) * contracts,
                    "gamma": sign * float(g.gamma) * contracts,
                    "vega": sign * float(g.vega) * contracts,
                    "theta": sign * float(g.theta) * contracts,
                },
                metadata={"underlying_price": s, "expiry_ms": int(chain.expiries_ms[i])},
                key=("single", i),
            )
        )
    return found


STRATEGY = OptionsTrade()
