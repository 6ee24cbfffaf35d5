"""Small hand-built snapshots for the derivatives and portfolio strategy tests.

Every number is chosen by the test that builds the market, so a test says exactly what setup it
expects a strategy to find (or not): a fair market is random-walk bars, fair funding and tight
books; each test then adds the one structure it is about.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import (
    TIMEFRAME_MS,
    Bars,
    DatedFuture,
    Fees,
    Funding,
    MarketSnapshot,
    OptionChain,
    OrderBook,
    Ticker,
)

AS_OF_MS = 1_790_000_000_000 - 1_790_000_000_000 % 86_400_000  # a midnight, 2026-09-22
DAY_MS = 86_400_000
BARS = {"1h": 600, "4h": 400, "1d": 400}
TEST_FEES = Fees(maker=0.0002, taker=0.0005)
PERIODS_PER_YEAR = {"1h": 24 * 365, "4h": 6 * 365, "1d": 365}


def random_walk(
    rng: np.random.Generator,
    last: float,
    n: int,
    annual_vol: float,
    periods_per_year: float,
    drift_per_bar: float = 0.0,
    factor: np.ndarray | None = None,
    beta: float = 0.0,
) -> np.ndarray:
    """Closes ending at ``last``; optional common factor returns scaled by ``beta``."""
    returns = rng.normal(drift_per_bar, annual_vol / np.sqrt(periods_per_year), n)
    if factor is not None:
        returns = returns + beta * factor[-n:]
    path = np.exp(np.cumsum(returns))
    return np.asarray(last * path / path[-1])


def bars_from_closes(closes: np.ndarray, timeframe: str, as_of_ms: int = AS_OF_MS) -> Bars:
    n = closes.shape[0]
    step = TIMEFRAME_MS[timeframe]
    opens = np.concatenate([[closes[0]], closes[:-1]])
    wiggle = np.abs(np.diff(np.log(closes), prepend=np.log(closes[0]))) * 0.5 + 1e-4
    return Bars(
        ts=(as_of_ms - step * np.arange(n, 0, -1)).astype(np.int64),
        open=opens,
        high=np.maximum(opens, closes) * np.exp(wiggle),
        low=np.minimum(opens, closes) * np.exp(-wiggle),
        close=closes,
        volume=np.full(n, 1_000.0),
    )


def book(mid: float, spread_bps: float = 2.0, level_usd: float = 200_000.0) -> OrderBook:
    """Twenty levels a side, one bp apart, ``level_usd`` of notional each."""
    steps = np.arange(20) * 1e-4
    bid_px = mid * (1 - spread_bps / 2e4 - steps)
    ask_px = mid * (1 + spread_bps / 2e4 + steps)
    return OrderBook(
        bids=np.column_stack([bid_px, level_usd / bid_px]),
        asks=np.column_stack([ask_px, level_usd / ask_px]),
    )


def ticker(mid: float, spread_bps: float = 2.0, volume_usd: float = 5e8) -> Ticker:
    half = mid * spread_bps / 2e4
    return Ticker(bid=mid - half, ask=mid + half, last=mid, quote_volume_24h=volume_usd)


def fair_funding(mark: float, interval_hours: float = 8.0) -> Funding:
    """0.01% per 8 hours, pro rata for shorter intervals: the usual neutral rate."""
    return Funding(
        rate=0.0001 * interval_hours / 8.0,
        interval_hours=interval_hours,
        next_funding_ms=AS_OF_MS + 3_600_000,
        mark_price=mark,
        index_price=mark,
    )


def snapshot(
    prices: dict[str, float],
    *,
    exchanges: Iterable[str] = ("binance", "okx"),
    seed: int = 1,
    annual_vol: float = 0.6,
    drift_per_bar: dict[str, float] | None = None,
    with_perps: bool = True,
    fees: Fees | None = None,
    correlated: bool = True,
) -> MarketSnapshot:
    """A fair market: random-walk bars (a shared factor when ``correlated``), tight books,
    fair funding on every (exchange, symbol). Tests replace pieces with ``dataclasses.replace``."""
    rng = np.random.default_rng(seed)
    exchanges = tuple(exchanges)
    drift = drift_per_bar or {}
    ohlcv: dict[tuple[str, str, str], Bars] = {}
    for tf, n in BARS.items():
        factor = rng.normal(0, 0.5 / np.sqrt(PERIODS_PER_YEAR[tf]), n) if correlated else None
        for symbol, last in prices.items():
            beta = 0.0 if factor is None else 1.0
            closes = random_walk(
                rng,
                last,
                n,
                annual_vol * (0.6 if correlated else 1.0),
                PERIODS_PER_YEAR[tf],
                drift.get(symbol, 0.0) * (4.0 if tf == "4h" else 24.0 if tf == "1d" else 1.0),
                factor,
                beta,
            )
            for exchange in exchanges:
                ohlcv[(exchange, symbol, tf)] = bars_from_closes(closes, tf)
    keys = [(e, s) for e in exchanges for s in prices]
    return MarketSnapshot(
        source="test",
        as_of_ms=AS_OF_MS,
        exchanges=exchanges,
        symbols=tuple(prices),
        ohlcv=ohlcv,
        tickers={k: ticker(prices[k[1]]) for k in keys},
        books={k: book(prices[k[1]]) for k in keys},
        funding={k: fair_funding(prices[k[1]]) for k in keys} if with_perps else {},
        fees={e: fees or TEST_FEES for e in exchanges},
    )


def option_chain(
    spot: float,
    iv_atm: float,
    *,
    expiry_days: Iterable[int] = (7, 30, 90),
    moneyness: Iterable[float] = (0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25),
    skew: float = -0.05,
    half_spread: float = 0.01,
    shifts: dict[tuple[int, float, bool], float] | None = None,
    rate: float = 0.04,
) -> OptionChain:
    """Calls and puts on a smile ``iv_atm * (1 + skew*k + k^2)``, ``k = ln(K/S)``; quotes are
    Black-Scholes at that IV, ``half_spread`` of the premium either side. ``shifts`` moves one
    quote's IV: key (expiry days, moneyness, is_call)."""
    rows = [(d, m, c) for d in expiry_days for m in moneyness for c in (True, False)]
    days = np.array([r[0] for r in rows], dtype=np.float64)
    strikes = np.array([round(spot * r[1], 6) for r in rows])
    is_call = np.array([r[2] for r in rows])
    k = np.log(strikes / spot)
    iv = iv_atm * (1 + skew * k + k * k)
    for i, r in enumerate(rows):
        iv[i] += (shifts or {}).get(r, 0.0)
    mid = bs_price(spot, strikes, days / 365, rate, iv, is_call)
    half = mid * half_spread + spot * 1e-5
    return OptionChain(
        underlying_price=spot,
        strikes=strikes,
        expiries_ms=(AS_OF_MS + days * DAY_MS).astype(np.int64),
        is_call=is_call,
        bids=np.maximum(mid - half, 0.0),
        asks=mid + half,
        iv=iv,
    )


def dated_future(symbol: str, days: int, spot: float, basis_annual: float) -> DatedFuture:
    mid = spot * (1 + basis_annual * days / 365)
    return DatedFuture(
        instrument=f"{symbol}:USDT-{days}d",
        expiry_ms=AS_OF_MS + days * DAY_MS,
        bid=mid * (1 - 1e-4),
        ask=mid * (1 + 1e-4),
    )


def realised_vol(market: MarketSnapshot, exchange: str, symbol: str, tf: str = "1h") -> float:
    bars = market.ohlcv[(exchange, symbol, tf)]
    return float(np.std(np.diff(np.log(bars.close)), ddof=1) * np.sqrt(PERIODS_PER_YEAR[tf]))
