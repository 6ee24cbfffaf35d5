"""Trading costs and sizes: fees plus the slippage of walking the real order book at a given size,
and how much of a market's depth and volume a trade may take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oppscan.market.snapshot import FloatArray, MarketSnapshot, OrderBook


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


def book_mid(book: OrderBook) -> float:
    return float((book.bids[0, 0] + book.asks[0, 0]) / 2.0)


def capacity_usd(
    market: MarketSnapshot,
    exchange: str,
    symbol: str,
    *,
    band_bps: float,
    volume_share: float,
    depth_share: float = 1.0,
) -> float:
    """What a round trip may take: ``depth_share`` of the thinner side's depth within
    ``band_bps`` of the touch, and at most ``volume_share`` of the 24h volume (0: no book)."""
    book, ticker = market.books.get((exchange, symbol)), market.tickers.get((exchange, symbol))
    if book is None or ticker is None:
        return 0.0
    depth = min(depth_usd(book, "buy", band_bps), depth_usd(book, "sell", band_bps))
    return min(depth_share * depth, volume_share * ticker.quote_volume_24h)


@dataclass(frozen=True, slots=True)
class TradeCost:
    fees_usd: float
    crossing_usd: float  # half spread and slippage against the book's mid
    filled: bool

    @property
    def total_usd(self) -> float:
        return self.fees_usd + self.crossing_usd


def taker_cost(
    market: MarketSnapshot, exchange: str, symbol: str, side: str, notional: float
) -> TradeCost:
    """Fee and crossing cost of one taker order of ``notional`` USD, walked on the book."""
    book, fees = market.books.get((exchange, symbol)), market.fees.get(exchange)
    if book is None or fees is None or notional <= 0:
        return TradeCost(0.0, 0.0, notional <= 0)
    if book.bids.shape[0] == 0 or book.asks.shape[0] == 0:
        return TradeCost(fees.taker * notional, 0.0, False)
    fill = walk_book(book, side, notional)
    mid = book_mid(book)
    crossing = abs(fill.avg_price - mid) / mid * notional if np.isfinite(fill.avg_price) else 0.0
    return TradeCost(fees.taker * notional, crossing, fill.complete)


@dataclass(frozen=True, slots=True)
class Execution:
    """A round trip of ``size_usd`` on one exchange: taker in, taker (or maker) out."""

    exchange: str
    entry_price: float  # average fill price of the entry walk
    size_usd: float
    capacity_usd: float
    cost_bps: float  # fees both ways + the spread + both walks' slippage
    fee_bps: float
    spread_bps: float
    slippage_bps: float
    quote_volume_24h: float

    def evidence(self) -> dict[str, float | str]:
        return {
            "exchange": self.exchange,
            "cost_bps": round(self.cost_bps, 3),
            "fee_bps": round(self.fee_bps, 3),
            "spread_bps": round(self.spread_bps, 3),
            "slippage_bps": round(self.slippage_bps, 3),
            "quote_volume_24h": round(self.quote_volume_24h, 2),
        }


@dataclass(frozen=True, slots=True)
class LiquidityGates:
    min_quote_volume_usd: float = 1_000_000.0
    max_spread_bps: float = 30.0
    depth_band_bps: float = 50.0  # capacity counts the depth within this band of the touch
    depth_share: float = 0.25  # ... of which a trade may take this share
    volume_share: float = 0.002  # and at most this share of the 24h volume
    min_size_usd: float = 50.0


def round_trip(
    market: MarketSnapshot,
    exchange: str,
    symbol: str,
    side: str,
    capital_usd: float,
    gates: LiquidityGates,
    *,
    exit_fee: str = "taker",
) -> Execution | None:
    """The cost of entering ``side`` and leaving again at the same size, or None if untradable."""
    ticker = market.tickers.get((exchange, symbol))
    book = market.books.get((exchange, symbol))
    fees = market.fees.get(exchange)
    if ticker is None or book is None or fees is None or ticker.bid <= 0:
        return None
    if ticker.quote_volume_24h < gates.min_quote_volume_usd:
        return None
    if ticker.spread_bps > gates.max_spread_bps:
        return None
    capacity = capacity_usd(
        market,
        exchange,
        symbol,
        band_bps=gates.depth_band_bps,
        volume_share=gates.volume_share,
        depth_share=gates.depth_share,
    )
    size = min(capital_usd, capacity)
    if size < gates.min_size_usd:
        return None
    entry = walk_book(book, side, size)
    leave = walk_book(book, "sell" if side == "buy" else "buy", size)
    if not (entry.complete and leave.complete):
        return None
    fee_bps = (fees.taker + (fees.maker if exit_fee == "maker" else fees.taker)) * 1e4
    slippage = entry.slippage_bps + leave.slippage_bps
    spread = ticker.spread_bps
    return Execution(
        exchange=exchange,
        entry_price=entry.avg_price,
        size_usd=size,
        capacity_usd=capacity,
        cost_bps=fee_bps + spread + slippage,
        fee_bps=fee_bps,
        spread_bps=spread,
        slippage_bps=slippage,
        quote_volume_24h=ticker.quote_volume_24h,
    )


def cheapest_round_trip(
    market: MarketSnapshot,
    symbol: str,
    side: str,
    capital_usd: float,
    gates: LiquidityGates,
) -> Execution | None:
    """The exchange where the round trip costs least; ties go to the larger capacity."""
    options = [
        ex
        for exchange in market.exchanges
        if (ex := round_trip(market, exchange, symbol, side, capital_usd, gates)) is not None
    ]
    if not options:
        return None
    return min(options, key=lambda e: (e.cost_bps, -e.capacity_usd))
