"""Scalping: a minutes-long long on one exchange whose book leans hard towards the buyers.

The signal is the notional imbalance of the top five levels of the book: resting bids far
outweighing asks tend to push the mid up over the next minutes. The model of the move is
``imbalance * sigma_1m * sqrt(HORIZON_MINUTES)``: a full imbalance is worth about one
standard deviation of the horizon's move (the empirical rule of thumb for top-of-book order-flow
imbalance; it is a model assumption, stated in the evidence). The trade pays the taker fee in,
a maker fee out (the exit is a resting limit at the target), the spread and both walks'
slippage; with fees of 8-10 bps a side, only a volatile, tight, lopsided book clears that.
Books are exchange-specific, so each exchange is its own opportunity. Spot is long-only.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Opportunity
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import LiquidityGates, StrategyInfo, StrategyRequest, round_trip
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import reference_bars
from oppscan.strategies.spot.directional import directional_opportunity

INFO = StrategyInfo(
    id="scalping_strategy",
    name="Scalping",
    description=(
        "1m microstructure on one exchange: tight spread, a book leaning to the bids, and "
        "short-term volatility large enough to beat the round-trip cost."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAME = "1m"
VOL_BARS = 120
HORIZON_MINUTES = 10
BOOK_LEVELS = 5
MIN_IMBALANCE = 0.4
GATES = LiquidityGates(
    min_quote_volume_usd=5_000_000.0,
    max_spread_bps=5.0,
    depth_band_bps=10.0,
    depth_share=0.2,
    volume_share=0.0005,
)


class Scalping:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        for (exchange, symbol), book in market.books.items():
            if book.bids.shape[0] < BOOK_LEVELS or book.asks.shape[0] < BOOK_LEVELS:
                continue
            imbalance = ind.book_imbalance(book.bids, book.asks, BOOK_LEVELS)
            if imbalance < MIN_IMBALANCE:
                continue
            opp = self._setup(market, request, exchange, symbol, imbalance)
            if opp is not None:
                found.append(opp)
        return found

    def _setup(
        self,
        market: MarketSnapshot,
        request: StrategyRequest,
        exchange: str,
        symbol: str,
        imbalance: float,
    ) -> Opportunity | None:
        bars = reference_bars(market, symbol, TIMEFRAME, VOL_BARS + 1, prefer=exchange)
        if bars is None:
            return None
        returns = np.diff(np.log(bars.close[-(VOL_BARS + 1) :]))
        sigma = float(returns.std(ddof=1))
        trade = round_trip(
            market, exchange, symbol, "buy", request.capital_usd, GATES, exit_fee="maker"
        )
        if trade is None or sigma <= 0:
            return None
        expected_move = imbalance * sigma * float(np.sqrt(HORIZON_MINUTES))
        net_bps = expected_move * 1e4 - trade.cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        book = market.books[(exchange, symbol)]
        micro = ind.microprice(book.bids, book.asks)
        mid = (float(book.bids[0, 0]) + float(book.asks[0, 0])) / 2.0
        last_5m = float(np.log(bars.close[-1] / bars.close[-6]))
        # Recent prints moving the same way as the book make the lean more believable.
        agreement = 1.0 if last_5m > 0 else 0.6
        confidence = ind.logistic(6.0 * (imbalance - 0.5)) * agreement
        entry = trade.entry_price
        exit_price = entry * float(np.exp(expected_move))
        stop = entry * float(np.exp(-2.0 * sigma * np.sqrt(HORIZON_MINUTES)))
        return directional_opportunity(
            INFO,
            market,
            trade,
            opportunity_type="scalping",
            symbol=symbol,
            side="buy",
            exit_price=exit_price,
            stop_loss=stop,
            take_profit=exit_price,
            confidence=confidence,
            risk_bps=(entry - stop) / entry * 1e4,
            horizon_seconds=HORIZON_MINUTES * 60,
            net_bps=net_bps,
            valid_for_ms=2 * 60_000,
            evidence={
                "imbalance": round(imbalance, 4),
                "book_levels": BOOK_LEVELS,
                "microprice_vs_mid_bps": round((micro / mid - 1) * 1e4, 4),
                "volatility_1m_bps": round(sigma * 1e4, 4),
                "horizon_minutes": HORIZON_MINUTES,
                "return_5m_bps": round(last_5m * 1e4, 3),
                "expected_move_bps": round(expected_move * 1e4, 3),
                "move_model": "imbalance * sigma_1m * sqrt(horizon)",
            },
        )


STRATEGY = Scalping()
