"""Trading costs: fees plus the slippage of walking the real order book at a given size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oppscan.market.snapshot import FloatArray, OrderBook


@dataclass(frozen=True, slots=True)
class Fill:
    avg_price: float
    filled_usd: float  # quote notional actually available in the book
    slippage_bps: float  # average price vs best price, always >= 0
    complete: bool  # the whole size fits in the visible depth


def walk_book(book: OrderBook, side: str, notional_usd: float) -> Fill:
    """Fill ``notional_usd`` of quote against the book: a buy takes asks, a sell takes bids."""
    levels: FloatArray = book.asks if side == "buy" else book.bids
    if levels.shape[0] == 0 or notional_usd <= 0:
        return Fill(float("nan"), 0.0, float("inf"), False)
    prices, sizes = levels[:, 0], levels[:, 1]
    level_usd = prices * sizes
    cum = np.cumsum(level_usd)
    best = float(prices[0])
    if cum[-1] < notional_usd:
        avg = float(cum[-1] / sizes.sum())
        return Fill(avg, float(cum[-1]), _slip(best, avg, side), False)
    i = int(np.searchsorted(cum, notional_usd))
    prev_usd = float(cum[i - 1]) if i > 0 else 0.0
    prev_qty = float(sizes[:i].sum())
    qty = prev_qty + (notional_usd - prev_usd) / float(prices[i])
    avg = notional_usd / qty
    return Fill(avg, notional_usd, _slip(best, avg, side), True)


def _slip(best: float, avg: float, side: str) -> float:
    return max(0.0, (avg - best) / best * 1e4 if side == "buy" else (best - avg) / best * 1e4)


def depth_usd(book: OrderBook, side: str, within_bps: float) -> float:
    """Quote notional resting within ``within_bps`` of the best price on the side a taker hits."""
    levels = book.asks if side == "buy" else book.bids
    if levels.shape[0] == 0:
        return 0.0
    best = levels[0, 0]
    if side == "buy":
        mask = levels[:, 0] <= best * (1 + within_bps / 1e4)
    else:
        mask = levels[:, 0] >= best * (1 - within_bps / 1e4)
    return float((levels[mask, 0] * levels[mask, 1]).sum())
