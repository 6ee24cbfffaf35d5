"""Pairs trading: two cointegrated symbols whose spread has stretched, traded back together.

On the 1h log closes of every symbol: pairs are pre-screened by the correlation of their
returns (one matrix product), then by a vectorised Engle-Granger step (OLS hedge ratio per
pair, Dickey-Fuller t of the residual), and only the few survivors go through
``statsmodels.tsa.stattools.coint`` for a proper p-value (MacKinnon). A pair trades when the
p-value is small, the spread's AR(1) half-life is short and its z-score is large: long the cheap
leg, short the rich leg in the hedge ratio. Highly correlated symbols whose spread wanders
(no cointegration) are exactly what this rejects. The edge is the share of the spread's gap
to its mean given back within two half-lives, on the capital of both legs, net of both legs'
round trips on the exchange where the pair is cheapest to trade.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import (
    Execution,
    LiquidityGates,
    StrategyInfo,
    StrategyRequest,
    build_opportunity,
    round_trip,
)
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import log_close_matrix
from oppscan.strategies.relative_value.legs import relative_value_leg

INFO = StrategyInfo(
    id="pairs_trading",
    name="Pairs trading",
    description=(
        "Engle-Granger cointegrated pairs (OLS hedge ratio, coint p-value, AR(1) half-life) "
        "whose spread z-score is stretched; long the cheap leg, short the rich one."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAME = "1h"
WINDOW = 480  # 20 days of 1h bars; a live fetch returns 500
RECENT_BARS = 6
MIN_CORRELATION = 0.5
MAX_CANDIDATES = 40  # the most correlated pairs that reach the Engle-Granger screen
SCREEN_DF_T = -3.3  # a loose pre-screen; coint's p-value decides
MAX_P_VALUE = 0.002  # strict: up to 40 pairs are tested per market; fat tails inflate the size
MIN_Z = 2.0
MAX_HALF_LIFE = 72.0
GATES = LiquidityGates()


class PairsTrading:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        names, prices = log_close_matrix(market, TIMEFRAME, WINDOW)
        if len(names) < 2:
            return []
        found: list[Opportunity] = []
        for i, j in _screened_pairs(prices):
            opp = self._pair(market, request, names, prices, int(i), int(j))
            if opp is not None:
                found.append(opp)
        return found

    def _pair(
        self,
        market: MarketSnapshot,
        request: StrategyRequest,
        names: list[str],
        prices: np.ndarray,
        i: int,
        j: int,
    ) -> Opportunity | None:
        # Imported on use: statsmodels (and pandas, scipy.stats) take a second to import, and
        # importing the catalog must not load them.
        from statsmodels.tsa.stattools import coint

        # The smaller symbol (later in the size-ordered universe) is explained by the larger.
        y, x = prices[:, j], prices[:, i]
        # The relationship is judged on the history before the latest bars, which hold the
        # stretch being traded (a fresh stretch would otherwise count against cointegration).
        y_hist, x_hist = y[:-RECENT_BARS], x[:-RECENT_BARS]
        t_stat, p_value, _ = coint(y_hist, x_hist, trend="c", maxlag=1, autolag=None)
        if not p_value <= MAX_P_VALUE:
            return None
        slope, intercept = np.polyfit(x_hist, y_hist, 1)
        hedge = float(slope)
        if hedge <= 0:
            return None
        spread = y - hedge * x - intercept
        fit = ind.ar1_fit(spread[:-RECENT_BARS])
        half_life = float(fit.half_life[0])
        sd = float(spread[:-RECENT_BARS].std())
        z = float(spread[-1] / sd) if sd > 0 else 0.0
        if abs(z) < MIN_Z or half_life > MAX_HALF_LIFE:
            return None

        # z > 0: y is rich against x, so sell y and buy x; z < 0 the other way round.
        y_side, x_side = ("sell", "buy") if z > 0 else ("buy", "sell")
        horizon = min(2.0 * half_life, MAX_HALF_LIFE)
        gross = float(abs(spread[-1])) * ind.reversion_fraction(horizon, half_life)
        y_sym, x_sym = names[j], names[i]
        best = None
        for exchange in market.exchanges:
            priced = _price_legs(market, exchange, (y_sym, y_side), (x_sym, x_side), hedge, request)
            if priced is not None and (best is None or priced[0] < best[0]):
                best = priced
        if best is None:
            return None
        cost_bps, y_trade, x_trade, y_usd = float(best[0]), best[1], best[2], float(best[3])
        capital = y_usd * (1 + hedge)
        gross_bps = gross * 1e4 / (1 + hedge)  # the spread's move earns on y's notional only
        net_bps = gross_bps - cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        exchange = y_trade.exchange
        y_px, x_px = y_trade.entry_price, x_trade.entry_price
        legs = [
            relative_value_leg(market, exchange, y_sym, y_side, y_px, y_usd),
            relative_value_leg(market, exchange, x_sym, x_side, x_px, y_usd * hedge),
        ]
        confidence = ind.logistic(2.0 * (abs(z) - 2.5)) * (1.0 - p_value / MAX_P_VALUE * 0.5)
        move = float(np.exp(gross if y_side == "buy" else -gross))
        return build_opportunity(
            INFO,
            market,
            opportunity_type="pairs_trading",
            symbol=y_sym,
            exchange=exchange,
            side=y_side,
            entry_price=y_px,
            exit_price=y_px * move,
            stop_loss=y_px * float(np.exp((1 if y_side == "sell" else -1) * 1.5 * abs(spread[-1]))),
            take_profit=y_px * move,
            profit_potential_usd=capital * net_bps / 1e4,
            required_capital_usd=capital,
            confidence=confidence,
            risk_level=RiskLevel.MEDIUM if half_life <= 24 else RiskLevel.HIGH,
            horizon_seconds=horizon * 3_600,  # 1h bars
            valid_for_ms=3_600_000,
            capacity_usd=min(
                y_trade.capacity_usd * (1 + hedge), x_trade.capacity_usd * (1 + hedge) / hedge
            ),
            legs=legs,
            key=x_sym,
            evidence={
                "pair": f"{y_sym}~{x_sym}",
                "partner": x_sym,
                "coint_t": round(float(t_stat), 4),
                "p_value": float(f"{p_value:.6g}"),
                "hedge_ratio": round(float(hedge), 6),
                "half_life_bars": round(half_life, 3),
                "z_score": round(z, 4),
                "spread_gap_bps": round(float(spread[-1]) * 1e4, 3),
                "correlation": round(float(np.corrcoef(np.diff(y), np.diff(x))[0, 1]), 4),
                "expected_move_bps": round(gross_bps, 3),
                "cost_bps": round(cost_bps, 3),
                "exchange": exchange,
            },
        )


def _screened_pairs(prices: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (i < j) to test for cointegration: correlated, with a stationary-looking residual."""
    returns = np.diff(prices, axis=0)
    corr = np.corrcoef(returns, rowvar=False)
    i_idx, j_idx = np.triu_indices(corr.shape[0], k=1)
    c = corr[i_idx, j_idx]
    keep = np.flatnonzero(c >= MIN_CORRELATION)
    keep = keep[np.argsort(-c[keep])][:MAX_CANDIDATES]
    if keep.size == 0:
        return []
    xs, ys = prices[:-RECENT_BARS, i_idx[keep]], prices[:-RECENT_BARS, j_idx[keep]]
    xc, yc = xs - xs.mean(axis=0), ys - ys.mean(axis=0)
    beta = (xc * yc).sum(axis=0) / (xc * xc).sum(axis=0)
    residual = yc - xc * beta
    df_t = ind.ar1_fit(residual).t_stat
    passing = keep[df_t <= SCREEN_DF_T]
    return [(int(i_idx[k]), int(j_idx[k])) for k in passing]


def _price_legs(
    market: MarketSnapshot,
    exchange: str,
    y: tuple[str, str],
    x: tuple[str, str],
    hedge: float,
    request: StrategyRequest,
) -> tuple[float, Execution, Execution, float] | None:
    """On one exchange: (cost in bps of both legs' capital, y's and x's round trips, y's USD)."""
    y_usd = request.capital_usd / (1 + hedge)
    y_trade = round_trip(market, exchange, y[0], y[1], y_usd, GATES)
    x_trade = round_trip(market, exchange, x[0], x[1], y_usd * hedge, GATES)
    if y_trade is None or x_trade is None:
        return None
    # Both legs must fit: size y so that neither leg exceeds its capacity.
    y_usd = min(y_trade.size_usd, x_trade.size_usd / hedge)
    if y_usd < y_trade.size_usd or y_usd * hedge < x_trade.size_usd:
        y_trade = round_trip(market, exchange, y[0], y[1], y_usd, GATES)
        x_trade = round_trip(market, exchange, x[0], x[1], y_usd * hedge, GATES)
        if y_trade is None or x_trade is None:
            return None
    cost = (y_trade.cost_bps + x_trade.cost_bps * hedge) / (1 + hedge)
    return cost, y_trade, x_trade, y_usd


STRATEGY = PairsTrading()
