"""Spot momentum: a trend that the 1h, 4h and 1d bars agree on, and strong enough to trust.

Each timeframe votes bullish when its fast EMA is above its slow EMA (the MACD line is
positive) and RSI is above 50; the 4h chart and at least one other must agree. The trend's
strength is the t-statistic of the mean 4h log return over the last ``DRIFT_BARS`` bars; the
drift is shrunk towards zero by ``1 - (T_SHRINK / t)^2`` (a James-Stein-like discount: a t of 2
is mostly luck) and projected over the holding horizon. An overbought RSI lowers the
confidence. Spot is long-only: a downtrend is a trade (sell now, buy back after the move)
only for a portfolio that holds the asset, and only up to what it holds.
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
    id="spot_momentum_strategy",
    name="Spot momentum",
    description=(
        "Trend-following on spot: RSI, MACD and EMA trend agreeing on the 1h, 4h and 1d bars, "
        "with the 4h drift's t-statistic as strength; net of fees, spread and book slippage."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAMES = ("1h", "4h", "1d")
MIN_AGREEING = 2
MIN_BARS = 60
DRIFT_BARS = 60  # 10 days of 4h bars
# t-statistic of the 4h drift required to act: about 0.02% of random walks reach it one way, so
# with 40 symbols tested a trade on noise in about one scan in a hundred (3.0 let through one
# in ten on the control markets).
MIN_T = 3.5
T_SHRINK = 2.0
HORIZON_BARS = 6  # hold for about a day of 4h bars
GATES = LiquidityGates()


def _vote(close: np.ndarray, direction: float) -> tuple[bool, float, float]:
    """(agrees with ``direction``?, RSI, MACD histogram as a fraction of price) on one chart.

    The histogram is evidence, not a vote: in a steady trend the MACD line flattens and the
    histogram hovers around zero, so demanding its sign would reject the cleanest trends.
    """
    m = ind.macd(close)
    rsi = float(ind.rsi(close, 14)[-1])
    hist = float(m.histogram[-1]) / float(close[-1])
    agrees = m.line[-1] * direction > 0 and (rsi - 50.0) * direction > 0
    return bool(agrees), rsi, hist


class SpotMomentum:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return scan_symbols(market, request, self._symbol)

    def _symbol(
        self, market: MarketSnapshot, request: StrategyRequest, symbol: str
    ) -> Opportunity | None:
        bars4h = reference_bars(market, symbol, "4h", DRIFT_BARS + 1)
        if bars4h is None:
            return None
        returns = np.diff(np.log(bars4h.close[-(DRIFT_BARS + 1) :]))
        sd = float(returns.std(ddof=1))
        if sd <= 0:
            return None
        drift = float(returns.mean())
        t_stat = float(drift / sd * np.sqrt(DRIFT_BARS))
        if t_stat >= MIN_T:
            side, direction, budget = "buy", 1.0, request.capital_usd
        elif t_stat <= -MIN_T:
            side, direction, budget = "sell", -1.0, held_usd(market, request, symbol)
            if budget <= 0:
                return None
        else:
            return None

        votes: dict[str, dict[str, float | bool]] = {}
        for tf in TIMEFRAMES:
            bars = reference_bars(market, symbol, tf, MIN_BARS)
            if bars is None:
                return None
            agrees, rsi, hist = _vote(bars.close, direction)
            votes[tf] = {"agrees": agrees, "rsi": round(rsi, 3), "macd_hist_pct": hist * 100}
        agreeing = [tf for tf in TIMEFRAMES if votes[tf]["agrees"]]
        rsi_4h = float(votes["4h"]["rsi"])
        # The 4h chart carries the drift test and must agree; one of the other two may lag (the
        # 1h chart pulls back inside a trend all the time).
        if "4h" not in agreeing or len(agreeing) < MIN_AGREEING:
            return None

        shrink = max(0.0, 1.0 - (T_SHRINK / t_stat) ** 2)
        expected_move = abs(drift) * HORIZON_BARS * shrink  # log return in the trade's favour
        trade = cheapest_round_trip(market, symbol, side, budget, GATES)
        if trade is None:
            return None
        net_bps = expected_move * 1e4 - trade.cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        atr = float(ind.atr(bars4h.high, bars4h.low, bars4h.close, 14)[-1])
        entry = trade.entry_price
        stop = entry - direction * 2.0 * atr
        exit_price = entry * float(np.exp(direction * expected_move))
        agreement = len(agreeing) / len(TIMEFRAMES)
        # A stretched 4h RSI (overbought in an uptrend, oversold in a downtrend) makes a
        # pullback likelier: 1.0 at RSI 50, 0.64 at RSI 95 (or 5).
        stretch = rsi_4h if direction > 0 else 100.0 - rsi_4h
        exhaustion = 0.6 + 0.8 * (1 - stretch / 100)
        confidence = ind.logistic(1.5 * (abs(t_stat) - MIN_T)) * agreement * min(1.0, exhaustion)
        return directional_opportunity(
            INFO,
            market,
            trade,
            opportunity_type="spot_momentum",
            symbol=symbol,
            side=side,
            exit_price=exit_price,
            stop_loss=stop,
            take_profit=exit_price,
            confidence=confidence,
            risk_bps=abs(entry - stop) / entry * 1e4,
            horizon_seconds=HORIZON_BARS * 4 * 3_600,  # 4h bars
            net_bps=net_bps,
            valid_for_ms=4 * 3_600_000,
            evidence={
                "drift_t_stat_4h": round(t_stat, 4),
                "held_asset_sale": side == "sell",
                "drift_per_4h_bps": round(drift * 1e4, 3),
                "drift_shrink": round(shrink, 4),
                "expected_move_bps": round(expected_move * 1e4, 3),
                "timeframes_agreeing": len(agreeing),
                "timeframes": ",".join(agreeing),
                "rsi_1h": votes["1h"]["rsi"],
                "rsi_4h": rsi_4h,
                "rsi_1d": votes["1d"]["rsi"],
                "macd_hist_pct_4h": round(float(votes["4h"]["macd_hist_pct"]), 5),
                "atr_4h": round(atr, 8),
            },
        )


STRATEGY = SpotMomentum()
