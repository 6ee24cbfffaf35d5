"""Reshaping a symbol's path: the one way a planter changes prices, and it keeps them causal.

A planter gives a symbol a new log path as a function of each moment (and of the market at that
moment): the same function is applied to the closes of every timeframe and to the price now,
so a later snapshot shows the same bars, and the plant's future is the market's future.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oppscan.market.snapshot import TIMEFRAMES, FloatArray, IntArray
from oppscan.market.synthetic.draft import MarketDraft
from oppscan.market.synthetic.latent import MARKET_START_MS
from oppscan.market.synthetic.plants.episodes import Schedule, phase

Path = Callable[[str, IntArray, FloatArray], FloatArray]


def hourly_sd(draft: MarketDraft, symbol: str) -> float:
    """A symbol's long-run hourly volatility (fixed for the seed, unlike a window's)."""
    return float(draft.annual_vol[symbol] / np.sqrt(24 * 365.0))


def reshape(
    draft: MarketDraft,
    symbol: str,
    path: Path,
) -> None:
    """Give ``symbol`` the log path ``path(tf, times, own)`` on every timeframe and now.

    ``path`` sees the moments of the bars' closes and the symbol's own latent log closes at
    them; it must be a function of each moment (and of the market at that moment) only, so
    the reshaped market stays continuous: a later snapshot shows the same bars.
    """
    for tf in TIMEFRAMES:
        times = draft.close_times(tf)
        draft.log_close[(symbol, tf)] = path(tf, times, draft.log_close[(symbol, tf)])
    now = np.array([draft.as_of_ms], dtype=np.int64)
    own = np.log(np.array([draft.last_price[symbol]]))
    draft.last_price[symbol] = float(np.exp(path("now", now, own)[0]))


def log_at(draft: MarketDraft, symbol: str, tf: str) -> FloatArray:
    """A symbol's log closes on ``tf``, or its log price now when ``tf`` is "now"."""
    if tf == "now":
        now: FloatArray = np.log(np.array([draft.last_price[symbol]]))
        return now
    return draft.log_close[(symbol, tf)]


def scale_moves(draft: MarketDraft, symbol: str, scale: float) -> None:
    """Scale ``symbol``'s latent moves around its listing level by ``scale``, everywhere."""
    level = float(np.log(draft.listing_price[symbol]))

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        scaled: FloatArray = level + scale * (own - level)
        return scaled

    reshape(draft, symbol, path)


def trend_age(
    seed: int, kind: str, slot: int, slots: int, schedule: Schedule, times: IntArray
) -> FloatArray:
    """Each moment's age within ``kind``'s trend cycle (milliseconds, 0 .. period)."""
    born = phase(seed, kind, slot, slots, schedule, MARKET_START_MS).born_ms
    age: FloatArray = ((times - born) % schedule.period_ms).astype(np.float64)
    return age


def add_trend(
    draft: MarketDraft,
    symbol: str,
    kind: str,
    schedule: Schedule,
    per_hour_sds: float,
    slot: int = 0,
    slots: int = 1,
) -> None:
    """A trend cycle on ``symbol``: for the first half of each period (``schedule.live_ms``)
    its price drifts up ``per_hour_sds`` of its hourly moves an hour, then down as fast for the
    second half, back to where it started (so the level stays bounded over the years)."""
    drift = per_hour_sds * hourly_sd(draft, symbol) / 3_600_000  # log per millisecond
    leg = schedule.live_ms

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        age = trend_age(draft.seed, kind, slot, slots, schedule, times)
        trended: FloatArray = own + drift * (leg - np.abs(age - leg))
        return trended

    reshape(draft, symbol, path)
