"""The continuous latent market: one price path per symbol and seed, defined at every minute.

A snapshot at time ``t`` shows the bars of this path that closed by ``t``; a snapshot at
``t + d`` shows the same bars and more. Nothing is simulated from an epoch at snapshot time
beyond one cheap daily recursion (cached per day): every bar's randomness comes from
counter-based streams keyed by its index (``streams``), and the finer paths are Brownian
bridges between the coarser ones.

- **Days.** A day's return is ``sd_day * vol * (sqrt(w) * M + sqrt(1 - w) * e)``: a market
  factor ``M`` common to every symbol plus the symbol's own ``e``, with loading ``w`` from its
  beta. ``vol`` is stochastic volatility: ``exp(lv)`` where the log-vol ``lv`` is an AR(1) in
  days (half-life ~23 days), part market-wide and part the symbol's own, scaled so the mean
  square of ``vol`` is 1 (the long-run volatility is the listing's ``annual_vol``). The log
  price is a very slow AR(1) (half-life a year) around the listing price, so prices stay
  plausible for years; it is pinned so that 2026-01-01 00:00 UTC prints the listing's price.
  The recursions run from 2020-01-01 (``MARKET_START_MS``), the market's first day.
- **Hours** within a day are a Brownian bridge from the previous day's close to the day's close
  with the same factor structure and the day's volatility; **minutes** within an hour are a
  bridge between hourly closes. A bridge from a Gaussian endpoint with the right variance is
  exactly a random walk, so a finer path carries no hint of the coarser close it ends at.
- **Bars.** 1m, 1h and 1d bars close on those paths; a 4h bar aggregates its four hours (high
  and low are the hours' extremes). Each bar's wicks and volume noise have their own draws:
  1m, 1h and 1d wicks are not derived from finer bars (only the 4h ones are).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from oppscan.market.snapshot import FloatArray, IntArray
from oppscan.market.synthetic.listing import Listing, build_listing
from oppscan.market.synthetic.streams import half_normals, normals, stream_key, words

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
FOUR_HOURS_MS = 4 * HOUR_MS
DAY_MS = 86_400_000

MARKET_START_MS = 1_577_836_800_000  # 2020-01-01 00:00 UTC: the synthetic market's first day
ANCHOR_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: every symbol trades at its listing price
TIMEFRAME_BARS: dict[str, int] = {"1m": 600, "1h": 600, "4h": 320, "1d": 365}
# The earliest moment a snapshot can show a full year of daily bars.
EARLIEST_AS_OF_MS = MARKET_START_MS + (TIMEFRAME_BARS["1d"] + 1) * DAY_MS

_START_DAY = MARKET_START_MS // DAY_MS
_ANCHOR_DAY = ANCHOR_MS // DAY_MS
_LOG_VOL_PHI = 0.97  # per day: a half-life of ~23 days
_LOG_VOL_SD_MARKET = 0.25  # stationary sd of the market-wide log-vol
_LOG_VOL_SD_OWN = 0.15  # and of each symbol's own
_PRICE_PHI = 0.5 ** (1 / 365)  # the log price's pull to its listing level: a half-life of a year
_WICK = 0.44  # wick sd per bar sd: Parkinson's estimator then agrees with close-to-close vol
_HISTORY_DAYS = 56  # days of hours kept per snapshot: 320 4h bars and the 600 1h bars in them
_MINUTE_HOURS = 11  # hours of minutes per snapshot: the 600 1m bars


@dataclass(frozen=True, slots=True)
class Factors:
    """A symbol table's fixed parameters, by column (columns follow ``listing.symbols``)."""

    listing: Listing
    annual_vol: FloatArray
    market_weight: FloatArray  # share of a return's variance that is the market factor
    log_price0: FloatArray
    units_per_day: FloatArray  # base units traded per day across every exchange


@dataclass(frozen=True, slots=True)
class Path:
    """One resolution of the latent path: ``log_close[i]`` is the log price at the end of
    period ``first + i`` (periods of ``period_ms``), ``vol[i]`` that period's volatility
    multiplier, ``own``/``market`` the raw draws behind later columns."""

    first: int
    period_ms: int
    log_close: FloatArray  # (periods, symbols)
    vol: FloatArray  # (periods, symbols)


@dataclass(frozen=True, slots=True)
class TimeframeBars:
    """The complete bars of one timeframe for every symbol, oldest first.

    ``log_close`` has one row more than there are bars: row 0 is the close before the first bar
    (its open). ``wick_up`` and ``wick_down`` are the high over ``max(open, close)`` and
    ``min(open, close)`` over the low (both >= 1). ``volume`` is in base units, all exchanges.
    """

    open_ms: IntArray  # (bars,)
    log_close: FloatArray  # (bars + 1, symbols)
    wick_up: FloatArray  # (bars, symbols)
    wick_down: FloatArray
    volume: FloatArray
    bar_sd: FloatArray  # (symbols,): the long-run sd of one bar's log return


def check_as_of(as_of_ms: int) -> None:
    """Refuse a moment the synthetic market cannot show a year of daily bars for."""
    if as_of_ms < EARLIEST_AS_OF_MS:
        raise ValueError(
            "the synthetic market starts on 2020-01-01 and shows a year of daily bars: ask for "
            "a moment on or after 2021-01-01T00:00:00Z"
        )


@lru_cache(maxsize=16)
def factors(seed: int, symbols_count: int) -> Factors:
    listing = build_listing(symbols_count, np.random.default_rng([seed, 0]))
    symbols = listing.symbols
    vol = np.array([listing.annual_vol[s] for s in symbols])
    beta = np.array([listing.beta[s] for s in symbols])
    price = np.array([listing.price[s] for s in symbols])
    units = np.array([listing.quote_volume_24h[s] for s in symbols]) / price
    return Factors(
        listing=listing,
        annual_vol=vol,
        market_weight=np.minimum(0.7, (beta * 0.45 / vol) ** 2),
        log_price0=np.log(price),
        units_per_day=units,
    )


def _mix(f: Factors, market: FloatArray, own: FloatArray) -> FloatArray:
    """Unit-variance returns: the market factor (broadcast over symbols) plus each one's own."""
    w = f.market_weight
    mixed: FloatArray = np.sqrt(w) * market[..., None] + np.sqrt(1.0 - w) * own
    return mixed


def _own_draws(
    seed: int, name: str, symbols: int, start: int, count: int, width: int
) -> np.ndarray:
    """Per-symbol words, shape (count, symbols, width)."""
    return np.stack(
        [words(stream_key(seed, name, j), start, count, width) for j in range(symbols)], axis=1
    )


@lru_cache(maxsize=4)
def daily_path(seed: int, symbols_count: int, last_day: int) -> Path:
    """Log closes and volatility of every day from the market's start to ``last_day``."""
    from scipy.signal import lfilter

    f = factors(seed, symbols_count)
    n = max(last_day, _ANCHOR_DAY) - _START_DAY + 1
    market = normals(words(stream_key(seed, "day-market"), 0, n, 4)[:, :2])
    own = normals(_own_draws(seed, "day", symbols_count, 0, n, 4)[:, :, :2])
    shock_m = np.sqrt(1 - _LOG_VOL_PHI**2)
    log_vol = lfilter([_LOG_VOL_SD_MARKET * shock_m], [1.0, -_LOG_VOL_PHI], market[:, 1])[
        :, None
    ] + lfilter([_LOG_VOL_SD_OWN * shock_m], [1.0, -_LOG_VOL_PHI], own[:, :, 1], axis=0)
    variance = _LOG_VOL_SD_MARKET**2 + _LOG_VOL_SD_OWN**2
    vol = np.exp(log_vol - variance)  # E[vol^2] = 1
    returns = f.annual_vol / np.sqrt(365.0) * vol * _mix(f, market[:, 0], own[:, :, 0])
    level = lfilter([1.0], [1.0, -_PRICE_PHI], returns, axis=0)
    log_close = f.log_price0 + level - level[_ANCHOR_DAY - _START_DAY - 1]
    return Path(_START_DAY, DAY_MS, log_close[: last_day - _START_DAY + 1], vol)


def _bridge(start: FloatArray, end: FloatArray, increments: FloatArray) -> FloatArray:
    """Brownian bridges over axis 1 of ``increments`` (periods, steps, symbols), from ``start``
    (periods, symbols) to ``end``: the log closes at each step's end."""
    walk = np.cumsum(increments, axis=1)
    steps = increments.shape[1]
    k = (np.arange(1, steps + 1) / steps)[None, :, None]
    bridged: FloatArray = (
        start[:, None, :] + walk - k * walk[:, -1:, :] + k * (end - start)[:, None, :]
    )
    return bridged


@lru_cache(maxsize=4)
def hourly_path(seed: int, symbols_count: int, first_day: int, last_day: int) -> Path:
    """Hourly log closes for the hours of days ``first_day..last_day``."""
    days = daily_path(seed, symbols_count, last_day)
    return _refine(seed, factors(seed, symbols_count), days, first_day, last_day, "hour", 24)


@lru_cache(maxsize=4)
def minute_path(seed: int, symbols_count: int, first_hour: int, last_hour: int) -> Path:
    """Minute log closes for the minutes of hours ``first_hour..last_hour``."""
    hours = hourly_path(seed, symbols_count, *_hour_days(last_hour))
    return _refine(seed, factors(seed, symbols_count), hours, first_hour, last_hour, "minute", 60)


def _refine(
    seed: int, f: Factors, coarse: Path, first: int, last: int, name: str, steps: int
) -> Path:
    """``steps`` finer periods in each coarse period ``first..last``: Brownian bridges between
    the coarse closes, with the coarse period's volatility and the same factor structure."""
    rows = slice(first - coarse.first, last - coarse.first + 1)
    end = coarse.log_close[rows]
    start = coarse.log_close[first - coarse.first - 1 : last - coarse.first]
    vol = coarse.vol[rows]
    n = last - first + 1
    symbols = f.annual_vol.shape[0]
    market = normals(words(stream_key(seed, f"{name}-market"), first * steps, n * steps, 4)[:, 0])
    own = normals(_own_draws(seed, name, symbols, first * steps, n * steps, 4)[:, :, 0])
    periods_per_year = 365.0 * DAY_MS / (coarse.period_ms / steps)
    sd = f.annual_vol / np.sqrt(periods_per_year)
    increments = sd * vol[:, None, :] * _mix(f, market, own).reshape(n, steps, -1)
    log_close = _bridge(start, end, increments).reshape(n * steps, -1)
    return Path(first * steps, coarse.period_ms // steps, log_close, np.repeat(vol, steps, axis=0))


def _hour_days(last_hour: int) -> tuple[int, int]:
    """The day window of hours a snapshot whose last hour is ``last_hour`` reads."""
    last_day = last_hour // 24
    return last_day - _HISTORY_DAYS + 1, last_day


def _bars(
    seed: int,
    f: Factors,
    name: str,
    path: Path,
    last_index: int,
    count: int,
    per_day: float,
) -> TimeframeBars:
    """``count`` bars of one resolution ending with period ``last_index`` (inclusive)."""
    lo = last_index - count + 1 - path.first
    log_close = path.log_close[lo - 1 : lo + count]
    vol = path.vol[lo : lo + count]
    symbols = log_close.shape[1]
    draws = _own_draws(seed, f"{name}-bar", symbols, last_index - count + 1, count, 4)
    spread = half_normals(draws[:, :, :2])
    bar_sd = f.annual_vol / np.sqrt(365.0 * per_day)
    scale = _WICK * bar_sd * vol
    returns = np.diff(log_close, axis=0)
    z = np.abs(returns) / (bar_sd * vol)
    # Volume rises with the size of the move (|z| has mean ~0.8), with log-normal noise.
    noise = np.exp(-0.045 + 0.3 * normals(draws[:, :, 2]))
    volume = f.units_per_day / per_day * noise * (0.6 + 0.5 * z)
    first = last_index - count + 1
    return TimeframeBars(
        open_ms=(np.arange(first, last_index + 1, dtype=np.int64) * path.period_ms),
        log_close=log_close,
        wick_up=np.exp(spread[:, :, 0] * scale),
        wick_down=np.exp(spread[:, :, 1] * scale),
        volume=volume,
        bar_sd=bar_sd,
    )


def _four_hour_bars(hourly: TimeframeBars, count: int) -> TimeframeBars:
    """4h bars from the 1h bars that make them up (the 1h bars must start on a 4h boundary)."""
    n = count * 4
    close = hourly.log_close[-n - 1 :]
    bars = hourly.log_close.shape[1]
    opens = np.exp(close[:-1])
    closes = np.exp(close[1:])
    high = (np.maximum(opens, closes) * hourly.wick_up[-n:]).reshape(count, 4, bars).max(axis=1)
    low = (np.minimum(opens, closes) / hourly.wick_down[-n:]).reshape(count, 4, bars).min(axis=1)
    log_close = close[::4]
    o4 = np.exp(log_close[:-1])
    c4 = np.exp(log_close[1:])
    return TimeframeBars(
        open_ms=hourly.open_ms[-n:][::4],
        log_close=log_close,
        wick_up=high / np.maximum(o4, c4),
        wick_down=np.minimum(o4, c4) / low,
        volume=hourly.volume[-n:].reshape(count, 4, bars).sum(axis=1),
        bar_sd=hourly.bar_sd * 2.0,
    )


@dataclass(frozen=True, slots=True)
class LatentView:
    """What a snapshot at ``as_of_ms`` sees of the latent market."""

    as_of_ms: int
    factors: Factors
    bars: dict[str, TimeframeBars]
    log_price: FloatArray  # (symbols,): the latent log price at ``as_of_ms``


def latent_view(seed: int, symbols_count: int, as_of_ms: int) -> LatentView:
    """The complete bars of every timeframe at ``as_of_ms`` (a minute boundary) and the price."""
    check_as_of(as_of_ms)
    f = factors(seed, symbols_count)
    minute = as_of_ms // MINUTE_MS - 1  # the last minute that has closed
    hour_now = minute // 60  # the hour it belongs to (it may still be running)
    minutes = minute_path(seed, symbols_count, hour_now - _MINUTE_HOURS + 1, hour_now)
    # The window of hours moves once a day, so it stays cached all day.
    hours = hourly_path(seed, symbols_count, *_hour_days(hour_now))
    days = daily_path(seed, symbols_count, hour_now // 24)
    last_hour = as_of_ms // HOUR_MS - 1
    last_4h = as_of_ms // FOUR_HOURS_MS - 1
    last_day = as_of_ms // DAY_MS - 1
    count_4h = TIMEFRAME_BARS["4h"]
    hourly_for_4h = _bars(seed, f, "1h", hours, last_4h * 4 + 3, count_4h * 4, 24.0)
    hourly = _bars(seed, f, "1h", hours, last_hour, TIMEFRAME_BARS["1h"], 24.0)
    bars = {
        "1m": _bars(seed, f, "1m", minutes, minute, TIMEFRAME_BARS["1m"], 1440.0),
        "1h": hourly,
        "4h": _four_hour_bars(hourly_for_4h, count_4h),
        "1d": _bars(seed, f, "1d", days, last_day, TIMEFRAME_BARS["1d"], 1.0),
    }
    return LatentView(
        as_of_ms=as_of_ms,
        factors=f,
        bars=bars,
        log_price=minutes.log_close[minute - minutes.first],
    )


def day_close(seed: int, symbols_count: int, day: int, today: int) -> FloatArray:
    """Every symbol's latent log close at the end of ``day`` (<= ``today``, the current day)."""
    days = daily_path(seed, symbols_count, today)
    close: FloatArray = days.log_close[day - days.first]
    return close
