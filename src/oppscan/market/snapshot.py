"""The market snapshot every strategy reads: immutable column arrays, keyed by exchange and symbol.

A snapshot is fetched once per (source, universe, time bucket) and shared by every scan; nothing
in it changes after it is built, which is why processes may cache it in memory by its key.
Symbols are ccxt-style pairs quoted in USDT (``"BTC/USDT"``); prices are in the quote currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Timeframe = Literal["1m", "1h", "4h", "1d"]
TIMEFRAMES: tuple[Timeframe, ...] = ("1m", "1h", "4h", "1d")
TIMEFRAME_MS: dict[str, int] = {"1m": 60_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000}


@dataclass(frozen=True, slots=True)
class Bars:
    """OHLCV bars, oldest first; ``ts`` is the bar open time in epoch milliseconds."""

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray  # base units

    def __len__(self) -> int:
        return int(self.close.shape[0])


@dataclass(frozen=True, slots=True)
class Ticker:
    bid: float
    ask: float
    last: float
    quote_volume_24h: float  # USD traded in the last 24 hours

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0

    @property
    def spread_bps(self) -> float:
        return (self.ask - self.bid) / self.mid * 1e4


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Depth: ``bids`` best (highest) first, ``asks`` best (lowest) first; columns price, size."""

    bids: FloatArray  # shape (n, 2)
    asks: FloatArray  # shape (n, 2)


@dataclass(frozen=True, slots=True)
class Funding:
    """A perpetual swap's funding: ``rate`` is paid per ``interval_hours`` (longs pay if > 0)."""

    rate: float
    interval_hours: float
    next_funding_ms: int
    mark_price: float
    index_price: float

    @property
    def annualised(self) -> float:
        return self.rate * (24.0 / self.interval_hours) * 365.0


@dataclass(frozen=True, slots=True)
class DatedFuture:
    instrument: str  # e.g. "BTC/USDT:USDT-261225"
    expiry_ms: int
    bid: float
    ask: float

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class OptionChain:
    """One underlying's listed options as columns; ``iv`` is the mid implied volatility (annual)."""

    underlying_price: float
    strikes: FloatArray
    expiries_ms: IntArray
    is_call: npt.NDArray[np.bool_]
    bids: FloatArray  # option premium in quote currency per unit of underlying
    asks: FloatArray
    iv: FloatArray

    def __len__(self) -> int:
        return int(self.strikes.shape[0])


@dataclass(frozen=True, slots=True)
class Fees:
    maker: float  # fraction of notional, e.g. 0.001 = 10 bps
    taker: float


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    source: str
    as_of_ms: int
    exchanges: tuple[str, ...]
    symbols: tuple[str, ...]
    ohlcv: dict[tuple[str, str, str], Bars] = field(default_factory=dict)  # (exch, sym, tf)
    tickers: dict[tuple[str, str], Ticker] = field(default_factory=dict)
    books: dict[tuple[str, str], OrderBook] = field(default_factory=dict)
    funding: dict[tuple[str, str], Funding] = field(default_factory=dict)
    futures: dict[tuple[str, str], tuple[DatedFuture, ...]] = field(default_factory=dict)
    options: dict[tuple[str, str], OptionChain] = field(default_factory=dict)
    fees: dict[str, Fees] = field(default_factory=dict)
    risk_free_rate: float = 0.04

    def bars(self, exchange: str, symbol: str, timeframe: str) -> Bars | None:
        return self.ohlcv.get((exchange, symbol, timeframe))

    def restricted_to(self, symbols: tuple[str, ...]) -> MarketSnapshot:
        """The same snapshot seen through a smaller universe (a request's ``symbols``)."""
        if not symbols:
            return self
        keep = set(symbols)

        def pick(d: dict, pos: int = 1) -> dict:  # type: ignore[type-arg]
            return {k: v for k, v in d.items() if k[pos] in keep}

        return MarketSnapshot(
            source=self.source,
            as_of_ms=self.as_of_ms,
            exchanges=self.exchanges,
            symbols=tuple(s for s in self.symbols if s in keep),
            ohlcv=pick(self.ohlcv),
            tickers=pick(self.tickers),
            books=pick(self.books),
            funding=pick(self.funding),
            futures=pick(self.futures),
            options=pick(self.options),
            fees=self.fees,
            risk_free_rate=self.risk_free_rate,
        )
