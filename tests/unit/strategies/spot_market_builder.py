"""Small hand-built market snapshots for the spot strategies' unit tests.

Bars come from a close path that the test writes (a random walk, a trend, an overshoot...);
every exchange quotes the same last close with its own spread, depth, book imbalance and fees,
so a test controls exactly which setup is present and what trading it costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oppscan.market.snapshot import (
    TIMEFRAME_MS,
    Bars,
    Fees,
    MarketSnapshot,
    OrderBook,
    Ticker,
)

AS_OF_MS = 1_790_000_000_000
FEES = {"binance": Fees(0.001, 0.001), "okx": Fees(0.0008, 0.001)}


def random_walk(rng: np.random.Generator, n: int, vol: float, start: float = 100.0) -> np.ndarray:
    return start * np.exp(np.cumsum(rng.normal(0.0, vol, n)))


def bars_from_close(
    close: np.ndarray, timeframe: str, rng: np.random.Generator, volume: np.ndarray | None = None
) -> Bars:
    n = close.shape[0]
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0.0, 0.002, n)) * close
    step = TIMEFRAME_MS[timeframe]
    ts = AS_OF_MS - step * np.arange(n, 0, -1, dtype=np.int64)
    return Bars(
        ts=ts,
        open=open_,
        high=np.maximum(open_, close) + wick,
        low=np.minimum(open_, close) - wick,
        close=close.astype(np.float64),
        volume=np.full(n, 1000.0) if volume is None else volume.astype(np.float64),
    )


def order_book(
    mid: float,
    spread_bps: float,
    level_usd: float,
    imbalance: float = 0.0,
    levels: int = 25,
    step_bps: float = 2.0,
) -> OrderBook:
    """``level_usd`` of quote per level, tilted by ``imbalance`` (> 0: more on the bids)."""
    half = spread_bps / 2e4
    offsets = np.arange(levels) * step_bps / 1e4
    bid_px = mid * (1 - half - offsets)
    ask_px = mid * (1 + half + offsets)
    bid_usd = level_usd * (1 + imbalance)
    ask_usd = level_usd * (1 - imbalance)
    return OrderBook(
        bids=np.column_stack([bid_px, np.full(levels, bid_usd) / bid_px]),
        asks=np.column_stack([ask_px, np.full(levels, ask_usd) / ask_px]),
    )


@dataclass
class Venue:
    spread_bps: float = 2.0
    level_usd: float = 200_000.0
    imbalance: float = 0.0
    quote_volume_24h: float = 500_000_000.0


@dataclass
class SpotMarketBuilder:
    exchanges: tuple[str, ...] = ("binance", "okx")
    seed: int = 0
    bars: dict[tuple[str, str], Bars] = field(default_factory=dict)
    venues: dict[tuple[str, str], Venue] = field(default_factory=dict)
    fees: dict[str, Fees] = field(default_factory=lambda: dict(FEES))

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def series(
        self, symbol: str, timeframe: str, close: np.ndarray, volume: np.ndarray | None = None
    ) -> SpotMarketBuilder:
        self.bars[(symbol, timeframe)] = bars_from_close(close, timeframe, self.rng, volume)
        return self

    def venue(self, exchange: str, symbol: str, **kwargs: float) -> SpotMarketBuilder:
        self.venues[(exchange, symbol)] = Venue(**kwargs)
        return self

    def build(self) -> MarketSnapshot:
        symbols = tuple(dict.fromkeys(s for s, _ in self.bars))
        ohlcv, tickers, books = {}, {}, {}
        for symbol in symbols:
            last = next(b.close[-1] for (s, _), b in self.bars.items() if s == symbol)
            for exchange in self.exchanges:
                for (s, tf), b in self.bars.items():
                    if s == symbol:
                        ohlcv[(exchange, symbol, tf)] = b
                venue = self.venues.get((exchange, symbol), Venue())
                book = order_book(last, venue.spread_bps, venue.level_usd, venue.imbalance)
                books[(exchange, symbol)] = book
                tickers[(exchange, symbol)] = Ticker(
                    bid=float(book.bids[0, 0]),
                    ask=float(book.asks[0, 0]),
                    last=float(last),
                    quote_volume_24h=venue.quote_volume_24h,
                )
        return MarketSnapshot(
            source="test",
            as_of_ms=AS_OF_MS,
            exchanges=self.exchanges,
            symbols=symbols,
            ohlcv=ohlcv,
            tickers=tickers,
            books=books,
            fees=dict(self.fees),
        )
