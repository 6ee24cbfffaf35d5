"""Spot mean reversion: a price stretched far from its mean, in a market that has been reverting.

A low z-score alone is no edge (a random walk wanders off and stays there), so the symbol's
1h log price must also have behaved like an AR(1) around its level over the window before the
stretch: a Dickey-Fuller t-statistic below ``MAX_DF_T`` and a short half-life. The expected
move is the share of the gap to the rolling mean that such a process gives back within the
horizon. Spot is long-only: a stretch above the mean is a trade (sell now, buy back at the
mean) only for a portfolio that holds the asset, and only up to what it holds.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Opportunity
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import LiquidityGates, StrategyInfo, StrategyRequest, cheapest_round_trip
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import held_usd, reference_bars
from oppscan.strategies.spot.directional import directional_opportunity, scan_symbols

INFO = StrategyInfo(
    id="spot_mean_reversion",
    name="Spot mean reversion",
    description=(
        "Buys a spot price stretched below its mean (z-score, Bollinger band) when its recent "
        "history shows mean reversion (AR(1) half-life, Dickey-Fuller); net of costs."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAME = "1h"
Z_WINDOW = 48
FIT_BARS = 240  # the history the reversion is measured on ...
RECENT_BARS = 6  # ... excluding the latest bars, which hold the stretch itself
MIN_Z = 2.5
MAX_DF_T = -3.0  # about the 5% Dickey-Fuller critical value with a constant
MAX_HALF_LIFE = 48.0
GATES = LiquidityGates()


class SpotMeanReversion:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return scan_symbols(market, request, self._symbol)

    def _symbol(
        self, market: MarketSnapshot, request: StrategyRequest, symbol: str
    ) -> Opportunity | None:
        bars = reference_bars(market, symbol, TIMEFRAME, FIT_BARS + RECENT_BARS)
        if bars is None:
            return None
        log_close = np.log(bars.close)
        # Only the latest z-score matters: the window's statistics, not a rolling series.
        recent = log_close[-Z_WINDOW:]
        spread = float(recent.std())
        z = (float(recent[-1]) - float(recent.mean())) / spread if spread > 0 else 0.0
        if z <= -MIN_Z:
            side, direction, budget = "buy", 1.0, request.capital_usd
        elif z >= MIN_Z:
            side, direction, budget = "sell", -1.0, held_usd(market, request, symbol)
            if budget <= 0:
                return None
        else:  # also nan
            return None
        fit = ind.ar1_fit(log_close[-(FIT_BARS + RECENT_BARS) : -RECENT_BARS])
        df_t, half_life = float(fit.t_stat[0]), float(fit.half_life[0])
        if not (df_t <= MAX_DF_T and half_life <= MAX_HALF_LIFE):
            return None

        mean = float(log_close[-Z_WINDOW:].mean())
        gap = abs(mean - float(log_close[-1]))
        horizon = min(2.0 * half_life, float(Z_WINDOW))
        expected_move = gap * ind.reversion_fraction(horizon, half_life)
        trade = cheapest_round_trip(market, symbol, side, budget, GATES)
        if trade is None:
            return None
        net_bps = expected_move * 1e4 - trade.cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        entry = trade.entry_price
        atr = float(ind.atr(bars.high, bars.low, bars.close, 14)[-1])
        # A stretch that doubles is a regime break, not noise: the stop sits one gap further.
        stop = entry * float(np.exp(-direction * max(gap, 2.0 * atr / entry)))
        exit_price = entry * float(np.exp(direction * expected_move))
        band = ind.bollinger(bars.close, 20, 2.0)
        confidence = ind.logistic(2.0 * (abs(z) - 2.5)) * ind.logistic(
            1.5 * (MAX_DF_T - df_t + 1.0)
        )
        return directional_opportunity(
            INFO,
            market,
            trade,
            opportunity_type="spot_mean_reversion",
            symbol=symbol,
            side=side,
            exit_price=exit_price,
            stop_loss=stop,
            take_profit=entry * float(np.exp(direction * gap)),  # all the way back to the mean
            confidence=confidence,
            risk_bps=abs(entry - stop) / entry * 1e4,
            horizon_seconds=horizon * 3_600,  # 1h bars
            net_bps=net_bps,
            valid_for_ms=3_600_000,
            evidence={
                "z_score": round(z, 4),
                "held_asset_sale": side == "sell",
                "z_window_bars": Z_WINDOW,
                "bollinger_percent_b": round(float(band.percent_b(bars.close)[-1]), 4),
                "rsi_1h": round(float(ind.rsi(bars.close, 14)[-1]), 3),
                "dickey_fuller_t": round(df_t, 4),
                "half_life_bars": round(half_life, 3),
                "horizon_bars": round(horizon, 2),
                "gap_to_mean_bps": round(gap * 1e4, 3),
                "expected_move_bps": round(expected_move * 1e4, 3),
                "atr_1h": round(atr, 8),
            },
        )


STRATEGY = SpotMeanReversion()
