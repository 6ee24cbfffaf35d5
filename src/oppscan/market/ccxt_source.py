"""``CcxtSource``: a live snapshot from real exchanges through ``ccxt.async_support``.

ccxt is an optional extra (``oppscan[ccxt]``), imported only when this source is built. Calls are
bulk where the exchange offers it (``fetch_tickers``, ``fetch_funding_rates``), per symbol where
it does not (``fetch_order_book``; ``fetch_ohlcv`` only on each symbol's primary exchange, the
first configured exchange that lists it: bars on the others would nearly duplicate it at the
price of hundreds of rate-limited requests). All calls share one ``asyncio.Semaphore``; network
errors and rate limits are retried with exponential backoff; any other failure, or retries
exhausted, raises :class:`ExchangeFetchError` naming the exchange and the call.

Options are not fetched from ccxt (whole chains are thousands of instruments); live snapshots
have no option chains.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from oppscan.domain.errors import MarketDataUnavailable
from oppscan.market.snapshot import (
    TIMEFRAMES,
    Bars,
    DatedFuture,
    Fees,
    Funding,
    MarketSnapshot,
    OrderBook,
    Ticker,
)
from oppscan.market.synthetic.listing import major_symbols

DEFAULT_OHLCV_LIMITS: dict[str, int] = {"1m": 500, "1h": 500, "4h": 300, "1d": 365}
_YEAR_MS = 365 * 86_400_000

ExchangeFactory = Callable[[str], Any]


class ExchangeFetchError(MarketDataUnavailable):
    """One exchange failed; the message names it and the call, ``source`` the exchange alone."""

    def __init__(self, exchange: str, call: str, reason: str) -> None:
        super().__init__(f"{exchange}: {call} failed: {reason}", source=exchange)
        self.exchange = exchange
        self.call = call


def _default_factory(exchange_id: str) -> Any:
    import ccxt.async_support as ccxt_async

    try:
        exchange_class = getattr(ccxt_async, exchange_id)
    except AttributeError:
        raise ExchangeFetchError(exchange_id, "connect", "ccxt has no such exchange") from None
    return exchange_class({"enableRateLimit": True})


class CcxtSource:
    def __init__(
        self,
        exchanges: tuple[str, ...] = ("binance", "okx", "bybit"),
        symbols: tuple[str, ...] | None = None,
        *,
        exchange_factory: ExchangeFactory | None = None,
        concurrency: int = 8,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        ohlcv_limits: dict[str, int] | None = None,
        book_depth: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.exchange_ids = tuple(exchanges)
        self.name = "ccxt-" + "-".join(self.exchange_ids)
        self._symbols = symbols if symbols is not None else major_symbols(40)
        self._factory = exchange_factory or _default_factory
        self._concurrency = concurrency
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._limits = ohlcv_limits or DEFAULT_OHLCV_LIMITS
        self._book_depth = book_depth
        self._clock = clock
        self._exchanges: dict[str, Any] = {}

    def universe(self) -> tuple[str, ...]:
        return self._symbols

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        """A live snapshot; its ``as_of_ms`` is when the data was fetched, not ``as_of_ms``."""
        semaphore = asyncio.Semaphore(self._concurrency)
        for exchange_id in self.exchange_ids:
            if exchange_id not in self._exchanges:
                self._exchanges[exchange_id] = self._factory(exchange_id)
        await asyncio.gather(
            *(
                self._call(semaphore, e, "load_markets", self._exchanges[e].load_markets)
                for e in self.exchange_ids
            )
        )
        primary: dict[str, str] = {}
        for symbol in self._symbols:
            for exchange_id in self.exchange_ids:
                if symbol in self._exchanges[exchange_id].markets:
                    primary.setdefault(symbol, exchange_id)
        fetched_ms = int(self._clock() * 1000)
        parts = await asyncio.gather(
            *(self._fetch_exchange(semaphore, e, primary, fetched_ms) for e in self.exchange_ids)
        )
        snapshot = MarketSnapshot(
            source=self.name,
            as_of_ms=fetched_ms,
            exchanges=self.exchange_ids,
            symbols=tuple(s for s in self._symbols if s in primary),
        )
        for part in parts:
            snapshot.ohlcv.update(part.ohlcv)
            snapshot.tickers.update(part.tickers)
            snapshot.books.update(part.books)
            snapshot.funding.update(part.funding)
            snapshot.futures.update(part.futures)
            snapshot.fees.update(part.fees)
        return snapshot

    async def close(self) -> None:
        exchanges, self._exchanges = self._exchanges, {}
        for exchange in exchanges.values():
            await exchange.close()

    async def _fetch_exchange(
        self, semaphore: asyncio.Semaphore, exchange_id: str, primary: dict[str, str], now_ms: int
    ) -> MarketSnapshot:
        exchange = self._exchanges[exchange_id]
        markets: dict[str, Any] = exchange.markets
        listed = [s for s in self._symbols if s in markets]
        perps = [f"{s}:USDT" for s in listed if f"{s}:USDT" in markets]
        bases = {markets[s]["base"] for s in listed}
        dated = [
            m["symbol"]
            for m in markets.values()
            if m.get("future")
            and m.get("linear")
            and m.get("base") in bases
            and m.get("expiry")
            and 0 < m["expiry"] - now_ms < _YEAR_MS
            and m.get("active", True)
        ]

        def call(what: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Awaitable[Any]:
            return self._call(semaphore, exchange_id, what, fn, *args)

        tickers_task = call("fetch_tickers", exchange.fetch_tickers, listed)
        book_tasks = [
            call(f"fetch_order_book({s})", exchange.fetch_order_book, s, self._book_depth)
            for s in listed
        ]
        bar_jobs = [(s, tf) for s in listed if primary.get(s) == exchange_id for tf in TIMEFRAMES]
        bar_tasks = [
            call(f"fetch_ohlcv({s}, {tf})", exchange.fetch_ohlcv, s, tf, None, self._limits[tf])
            for s, tf in bar_jobs
        ]
        has = getattr(exchange, "has", {})
        funding_task = (
            call("fetch_funding_rates", exchange.fetch_funding_rates, perps)
            if perps and has.get("fetchFundingRates")
            else _empty()
        )
        futures_task = (
            call("fetch_tickers(futures)", exchange.fetch_tickers, dated) if dated else _empty()
        )
        tickers, funding, future_tickers, *rest = await asyncio.gather(
            tickers_task, funding_task, futures_task, *book_tasks, *bar_tasks
        )
        books, bars = rest[: len(book_tasks)], rest[len(book_tasks) :]

        part = MarketSnapshot(source=self.name, as_of_ms=now_ms, exchanges=(), symbols=())
        for symbol in listed:
            ticker = tickers.get(symbol)
            if ticker and ticker.get("bid") and ticker.get("ask"):
                part.tickers[(exchange_id, symbol)] = _ticker(ticker)
        for symbol, book in zip(listed, books, strict=True):
            part.books[(exchange_id, symbol)] = _book(book)
        for (symbol, tf), rows in zip(bar_jobs, bars, strict=True):
            if rows:
                part.ohlcv[(exchange_id, symbol, tf)] = _bars(rows)
        for perp in perps:
            rate = funding.get(perp)
            if rate and rate.get("fundingRate") is not None:
                spot = perp.split(":")[0]
                part.funding[(exchange_id, spot)] = _funding(
                    rate, part.tickers.get((exchange_id, spot))
                )
        for instrument, ticker in future_tickers.items():
            market = markets.get(instrument)
            if market is None or not ticker.get("bid") or not ticker.get("ask"):
                continue
            spot = f"{market['base']}/USDT"
            contract = DatedFuture(
                instrument, int(market["expiry"]), float(ticker["bid"]), float(ticker["ask"])
            )
            part.futures[(exchange_id, spot)] = (
                *part.futures.get((exchange_id, spot), ()),
                contract,
            )
        for key, contracts in part.futures.items():
            part.futures[key] = tuple(sorted(contracts, key=lambda c: c.expiry_ms))
        part.fees[exchange_id] = _fees(markets, listed)
        return part

    async def _call(
        self,
        semaphore: asyncio.Semaphore,
        exchange_id: str,
        what: str,
        fn: Callable[..., Awaitable[Any]],
        *args: Any,
    ) -> Any:
        import ccxt.async_support as ccxt_async

        for attempt in range(self._max_retries + 1):
            async with semaphore:
                try:
                    return await fn(*args)
                except ccxt_async.NetworkError as exc:  # includes RateLimitExceeded
                    if attempt == self._max_retries:
                        reason = f"{type(exc).__name__} after {attempt + 1} attempts: {exc}"
                        raise ExchangeFetchError(exchange_id, what, reason) from exc
                except ccxt_async.BaseError as exc:
                    raise ExchangeFetchError(
                        exchange_id, what, f"{type(exc).__name__}: {exc}"
                    ) from exc
            await asyncio.sleep(self._backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


async def _empty() -> dict[str, Any]:
    return {}


def _ticker(raw: dict[str, Any]) -> Ticker:
    bid, ask = float(raw["bid"]), float(raw["ask"])
    last = float(raw.get("last") or raw.get("close") or (bid + ask) / 2)
    quote_volume = raw.get("quoteVolume")
    if quote_volume is None and raw.get("baseVolume") is not None:
        quote_volume = float(raw["baseVolume"]) * last
    return Ticker(bid=bid, ask=ask, last=last, quote_volume_24h=float(quote_volume or 0.0))


def _book(raw: dict[str, Any]) -> OrderBook:
    def side(levels: list[list[float]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        rows = [level[:2] for level in levels]  # some exchanges add a count column
        return np.array(rows, dtype=np.float64).reshape(-1, 2)

    return OrderBook(bids=side(raw.get("bids", [])), asks=side(raw.get("asks", [])))


def _bars(rows: list[list[float]]) -> Bars:
    table = np.array(rows, dtype=np.float64)
    return Bars(
        ts=table[:, 0].astype(np.int64),
        open=table[:, 1].copy(),
        high=table[:, 2].copy(),
        low=table[:, 3].copy(),
        close=table[:, 4].copy(),
        volume=table[:, 5].copy(),
    )


def _funding(raw: dict[str, Any], ticker: Ticker | None) -> Funding:
    interval = str(raw.get("interval") or "8h")
    hours = float(interval[:-1]) if interval.endswith("h") else 8.0
    fallback = ticker.last if ticker else float("nan")
    next_ms = raw.get("nextFundingTimestamp") or raw.get("fundingTimestamp") or 0
    return Funding(
        rate=float(raw["fundingRate"]),
        interval_hours=hours,
        next_funding_ms=int(next_ms),
        mark_price=float(raw.get("markPrice") or fallback),
        index_price=float(raw.get("indexPrice") or fallback),
    )


def _fees(markets: dict[str, Any], listed: list[str]) -> Fees:
    """The exchange's default spot schedule, as ccxt describes its markets."""
    for symbol in listed:
        market = markets[symbol]
        if market.get("maker") is not None and market.get("taker") is not None:
            return Fees(maker=float(market["maker"]), taker=float(market["taker"]))
    return Fees(maker=0.001, taker=0.001)
