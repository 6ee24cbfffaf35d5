"""Spot breakout: a close above a tight consolidation's resistance, on a surge of volume.

The box is the Donchian channel of the ``BOX_BARS`` 1h bars before the latest one. It counts as
a consolidation when its height is small next to what the symbol's usual volatility would
sweep in that time (``tightness`` = height / (sigma * sqrt(BOX_BARS)); a random walk's range
is about 1.6 on that scale) and its bar-to-bar volatility has contracted. The break must come
with the latest bar's volume at least ``MIN_SURGE`` times the box's median volume. The target
is the classic measured move (the box height added to the breakout level); the edge is the
expected value of reaching it before the stop, with the confidence as the probability.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Opportunity
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import LiquidityGates, StrategyInfo, StrategyRequest, cheapest_round_trip
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import reference_bars
from oppscan.strategies.spot.directional import directional_opportunity, scan_symbols

INFO = StrategyInfo(
    id="spot_breakout_strategy",
    name="Spot breakout",
    description=(
        "Buys a close above a tight consolidation (Donchian resistance) on a volume surge; "
        "measured-move target, stop back inside the box, net of costs."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAME = "1h"
BOX_BARS = 48
HORIZON_HOURS = 24  # the box's move is expected within a day of the break
VOL_BARS = 200  # history before the box that sets the symbol's usual volatility
MIN_SURGE = 2.5
MAX_TIGHTNESS = 0.8
MAX_COMPRESSION = 0.6  # the box's bar-to-bar volatility against the usual: quiet before the break
MAX_EXTENSION = 0.5  # a close already half a box above resistance has spent its move
GATES = LiquidityGates()


class SpotBreakout:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return scan_symbols(market, request, self._symbol)

    def _symbol(
        self, market: MarketSnapshot, request: StrategyRequest, symbol: str
    ) -> Opportunity | None:
        bars = reference_bars(market, symbol, TIMEFRAME, VOL_BARS + BOX_BARS + 2)
        if bars is None:
            return None
        close = float(bars.close[-1])
        box_high = float(bars.high[-(BOX_BARS + 1) : -1].max())
        if close <= box_high:
            return None
        box_low = float(bars.low[-(BOX_BARS + 1) : -1].min())
        box_median_volume = float(np.median(bars.volume[-(BOX_BARS + 1) : -1]))
        surge = float(bars.volume[-1]) / box_median_volume if box_median_volume > 0 else 0.0
        if surge < MIN_SURGE:
            return None
        past = np.diff(np.log(bars.close[-(VOL_BARS + BOX_BARS + 1) : -BOX_BARS]))
        sigma = float(past.std(ddof=1))
        height = float(np.log(box_high / box_low))
        if sigma <= 0 or height <= 0:
            return None
        in_box = np.diff(np.log(bars.close[-(BOX_BARS + 1) : -1]))
        compression = float(in_box.std(ddof=1)) / sigma
        tightness = height / (sigma * float(np.sqrt(BOX_BARS)))
        extension = float(np.log(close / box_high)) / height
        if tightness > MAX_TIGHTNESS or compression > MAX_COMPRESSION or extension > MAX_EXTENSION:
            return None

        trade = cheapest_round_trip(market, symbol, "buy", request.capital_usd, GATES)
        if trade is None:
            return None
        entry = trade.entry_price
        atr = float(ind.atr(bars.high, bars.low, bars.close, 14)[-1])
        target = box_high * float(np.exp(height))
        stop = max(box_low, box_high - atr)
        reward = float(np.log(target / entry))
        risk = float(np.log(entry / stop))
        if reward <= 0 or risk <= 0:
            return None
        p_win = ind.logistic(0.8 * (surge - MIN_SURGE)) * ind.logistic(4.0 * (0.8 - tightness))
        expected_move = p_win * reward - (1.0 - p_win) * risk
        net_bps = expected_move * 1e4 - trade.cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        exit_price = entry * float(np.exp(expected_move))
        donchian = ind.donchian(bars.high, bars.low, BOX_BARS)
        return directional_opportunity(
            INFO,
            market,
            trade,
            opportunity_type="spot_breakout",
            symbol=symbol,
            side="buy",
            exit_price=exit_price,
            stop_loss=stop,
            take_profit=target,
            confidence=p_win,
            risk_bps=risk * 1e4,
            horizon_seconds=HORIZON_HOURS * 3_600,
            net_bps=net_bps,
            valid_for_ms=3_600_000,
            evidence={
                "resistance": round(box_high, 8),
                "support": round(box_low, 8),
                "donchian_upper": round(float(donchian.upper[-2]), 8),
                "box_bars": BOX_BARS,
                "box_height_bps": round(height * 1e4, 3),
                "tightness": round(tightness, 4),
                "volatility_compression": round(compression, 4),
                "extension": round(extension, 4),
                "volume_surge_ratio": round(surge, 4),
                "win_probability": round(p_win, 4),
                "reward_bps": round(reward * 1e4, 3),
                "risk_bps": round(risk * 1e4, 3),
                "expected_move_bps": round(expected_move * 1e4, 3),
                "atr_1h": round(atr, 8),
            },
        )


STRATEGY = SpotBreakout()
