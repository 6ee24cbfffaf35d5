"""``CcxtSource`` on recorded exchange responses (fixtures), through a fake exchange object."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pytest

from oppscan.market.ccxt_source import CcxtSource, ExchangeFetchError

FIXTURES = Path(__file__).parent / "fixtures"
T0 = 1767268800000
UNIVERSE = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT")


class FakeExchange:
    """Answers like ``ccxt.async_support`` exchanges, from a JSON file of recorded responses.

    ``failures[method]`` is a list of exceptions raised by that method's next calls, in order.
    """

    def __init__(self, exchange_id: str) -> None:
        self.id = exchange_id
        self.data: dict[str, Any] = json.loads((FIXTURES / f"ccxt_{exchange_id}.json").read_text())
        self.markets: dict[str, Any] = {}
        self.has = {"fetchFundingRates": True}
        self.failures: dict[str, list[Exception]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False

    def _enter(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    async def load_markets(self) -> dict[str, Any]:
        self._enter("load_markets")
        self.markets = self.data["markets"]
        return self.markets

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Any]:
        self._enter("fetch_tickers", symbols)
        return {s: t for s, t in self.data["tickers"].items() if symbols is None or s in symbols}

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> dict[str, Any]:
        self._enter("fetch_order_book", symbol, limit)
        book: dict[str, Any] = self.data["order_books"][symbol]
        return book

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> list[list[float]]:
        self._enter("fetch_ohlcv", symbol, timeframe)
        rows: list[list[float]] = self.data["ohlcv"][symbol][timeframe]
        return rows[-limit:] if limit else rows

    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, Any]:
        self._enter("fetch_funding_rates", symbols)
        rates = self.data["funding_rates"]
        return {s: r for s, r in rates.items() if symbols is None or s in symbols}

    async def close(self) -> None:
        self.closed = True


class Exchanges:
    def __init__(self) -> None:
        self.made: dict[str, FakeExchange] = {}

    def __call__(self, exchange_id: str) -> FakeExchange:
        self.made[exchange_id] = FakeExchange(exchange_id)
        return self.made[exchange_id]


def make_source(factory: Callable[[str], FakeExchange], **kwargs: Any) -> CcxtSource:
    return CcxtSource(
        ("binance", "okx"),
        UNIVERSE,
        exchange_factory=factory,
        backoff_seconds=0.001,
        clock=lambda: T0 / 1000,
        **kwargs,
    )


async def test_snapshot_from_recorded_responses() -> None:
    exchanges = Exchanges()
    source = make_source(exchanges)
    snapshot = await source.fetch(0)
    assert snapshot.as_of_ms == T0 and snapshot.source == "ccxt-binance-okx"
    assert snapshot.symbols == ("BTC/USDT", "ETH/USDT", "SOL/USDT")  # DOGE is listed nowhere
    btc = snapshot.tickers[("binance", "BTC/USDT")]
    assert btc.bid < btc.ask and btc.quote_volume_24h == pytest.approx(2.1e9)
    book = snapshot.books[("okx", "SOL/USDT")]
    assert book.bids.shape == (20, 2) and book.bids[0, 0] < book.asks[0, 0]  # count column dropped
    bars = snapshot.bars("binance", "ETH/USDT", "1h")
    assert bars is not None and len(bars) == 5 and np.all(bars.low <= bars.close)
    assert bars.ts.dtype == np.int64 and bars.ts[-1] == T0
    assert snapshot.funding[("okx", "SOL/USDT")].interval_hours == 4.0
    assert snapshot.funding[("binance", "ETH/USDT")].rate == 0.00025
    (future,) = snapshot.futures[("binance", "BTC/USDT")]
    assert future.instrument == "BTC/USDT:USDT-260327" and future.mid > btc.last
    assert snapshot.fees["okx"].maker == 0.0008 and snapshot.fees["binance"].taker == 0.001
    await source.close()
    assert all(e.closed for e in exchanges.made.values())


async def test_bars_only_from_each_symbols_primary_exchange() -> None:
    exchanges = Exchanges()
    snapshot = await make_source(exchanges).fetch(0)
    assert snapshot.bars("okx", "BTC/USDT", "1h") is None  # binance is BTC's primary
    assert snapshot.bars("okx", "SOL/USDT", "1d") is not None  # only okx lists SOL
    okx_bar_calls = [c for c in exchanges.made["okx"].calls if c[0] == "fetch_ohlcv"]
    assert {c[1][0] for c in okx_bar_calls} == {"SOL/USDT"} and len(okx_bar_calls) == 4
    bulk = [c for c in exchanges.made["binance"].calls if c[0] == "fetch_tickers"]
    assert len(bulk) == 2  # spot in one call, dated futures in another


async def test_network_errors_and_rate_limits_are_retried() -> None:
    exchanges = Exchanges()

    def flaky(exchange_id: str) -> FakeExchange:
        exchange = exchanges(exchange_id)
        exchange.failures["fetch_tickers"] = [
            ccxt.RateLimitExceeded("429 too many requests"),
            ccxt.NetworkError("connection reset"),
        ]
        return exchange

    snapshot = await make_source(flaky).fetch(0)
    assert ("okx", "BTC/USDT") in snapshot.tickers
    tries = [c for c in exchanges.made["okx"].calls if c[0] == "fetch_tickers"]
    assert len(tries) == 3  # two failures, then success (okx lists no dated futures)


async def test_exhausted_retries_name_the_exchange_and_the_call() -> None:
    exchanges = Exchanges()

    def down(exchange_id: str) -> FakeExchange:
        exchange = exchanges(exchange_id)
        if exchange_id == "okx":
            exchange.failures["fetch_funding_rates"] = [ccxt.NetworkError("timeout")] * 3
        return exchange

    source = make_source(down, max_retries=2)
    with pytest.raises(ExchangeFetchError, match=r"^okx: fetch_funding_rates failed") as caught:
        await source.fetch(0)
    assert caught.value.exchange == "okx" and "3 attempts" in str(caught.value)


async def test_other_exchange_errors_are_not_retried() -> None:
    exchanges = Exchanges()

    def broken(exchange_id: str) -> FakeExchange:
        exchange = exchanges(exchange_id)
        exchange.failures["load_markets"] = [ccxt.AuthenticationError("bad key")]
        return exchange

    source = make_source(broken)
    with pytest.raises(ExchangeFetchError, match="binance: load_markets failed: Authentic"):
        await source.fetch(0)
    assert len(exchanges.made["binance"].calls) == 1


async def test_concurrency_is_limited() -> None:
    import asyncio

    exchanges = Exchanges()
    in_flight = 0
    peak = 0

    def slow(exchange_id: str) -> FakeExchange:
        exchange = exchanges(exchange_id)
        original = exchange.fetch_order_book

        async def fetch_order_book(symbol: str, limit: int | None = None) -> dict[str, Any]:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return await original(symbol, limit)

        exchange.fetch_order_book = fetch_order_book  # type: ignore[method-assign]
        return exchange

    await make_source(slow, concurrency=1).fetch(0)
    assert peak == 1
