"""Symbols seen through a snapshot, whichever exchange quotes them: bars, log prices, holdings."""

from __future__ import annotations

import numpy as np

from oppscan.market.snapshot import Bars, FloatArray, MarketSnapshot
from oppscan.strategies.base import StrategyRequest


def reference_bars(
    market: MarketSnapshot, symbol: str, timeframe: str, min_bars: int, prefer: str | None = None
) -> Bars | None:
    """The symbol's bars from ``prefer``, else the first exchange (in the snapshot's order) with
    enough history.

    Exchanges quote the same asset within a few bps of each other, so a signal is read once per
    symbol; where to trade it is decided by cost afterwards. (A live snapshot fetches bars from
    one primary exchange per symbol only.)
    """
    order = market.exchanges if prefer is None else (prefer, *market.exchanges)
    for exchange in order:
        bars = market.bars(exchange, symbol, timeframe)
        if bars is not None and len(bars) >= min_bars:
            return bars
    return None


def held_usd(market: MarketSnapshot, request: StrategyRequest, symbol: str) -> float:
    """The value of the request's holding of ``symbol`` at the snapshot's best bid (0 if none).

    Spot is long-only: a bearish setup is a trade only for someone who holds the asset (sell now,
    buy back after the move), and only up to what they hold.
    """
    if request.portfolio is None:
        return 0.0
    quantity = sum(h.quantity for h in request.portfolio.holdings if h.symbol == symbol)
    bids = [t.bid for (_, s), t in market.tickers.items() if s == symbol and t.bid > 0]
    return float(quantity * max(bids)) if quantity > 0 and bids else 0.0


def log_close_matrix(
    market: MarketSnapshot, timeframe: str, bars: int
) -> tuple[list[str], FloatArray]:
    """The last ``bars`` log closes of every symbol with that much history, as the columns of a
    (bars, N) matrix, and the symbols in column order."""
    names: list[str] = []
    columns: list[FloatArray] = []
    for symbol in market.symbols:
        series = reference_bars(market, symbol, timeframe, bars)
        if series is not None:
            names.append(symbol)
            columns.append(np.log(series.close[-bars:]))
    matrix = np.column_stack(columns) if columns else np.empty((bars, 0))
    return names, np.asarray(matrix, dtype=np.float64)
