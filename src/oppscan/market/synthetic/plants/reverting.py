"""Mean-reverting spreads that live in the market's own time, and the paths they shape.

A reverting spread is an AR(1) in hours, from the market's first hour, driven by its own
counter-based shocks plus a stretch (``stretch_sds`` of its stationary deviation) at every
episode's birth: the AR(1) then takes the stretch back at its half-life, so a trade opened on
it meets the reversion in the later market. The recursion runs from the market's start so
that every hour's value is the same whichever snapshot computes it; it is cached per day.
A spread whose ``phi`` is 1 is a random walk: it never comes back (a decoy).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from oppscan.market.snapshot import FloatArray, IntArray
from oppscan.market.synthetic.latent import DAY_MS, HOUR_MS, MARKET_START_MS
from oppscan.market.synthetic.plants.episodes import Schedule, phase
from oppscan.market.synthetic.streams import normals, stream_key, words

_START_HOUR = MARKET_START_MS // HOUR_MS


@dataclass(frozen=True, slots=True)
class Spread:
    """One reverting (or, with ``phi`` = 1, wandering) spread and its stretches."""

    kind: str  # whose episode schedule stretches it, e.g. "pairs_trading"
    name: str  # the stream of its shocks, e.g. "pairs_trading:0"
    phi: float  # per hour
    shock_sd: float  # log units per hour
    stretch_sds: float  # signed, in stationary deviations of the reverting version
    schedule: Schedule
    slot: int
    slots: int

    @property
    def stationary_sd(self) -> float:
        reference = self.phi if self.phi < 1.0 else 0.9
        return float(self.shock_sd / np.sqrt(1.0 - reference**2))


def spread_at(seed: int, spread: Spread, times_ms: IntArray) -> FloatArray:
    """The spread's value at each moment (linear between whole hours)."""
    last_day = int(times_ms.max()) // DAY_MS
    hourly = _hourly(seed, spread, last_day)
    position = (times_ms - MARKET_START_MS) / HOUR_MS
    values: FloatArray = np.interp(position, np.arange(hourly.shape[0]), hourly)
    return values


@lru_cache(maxsize=64)
def _hourly(seed: int, spread: Spread, last_day: int) -> FloatArray:
    from scipy.signal import lfilter

    n = (last_day + 1) * 24 - _START_HOUR
    shocks = spread.shock_sd * normals(words(stream_key(seed, spread.name), 0, n, 4)[:, 0])
    # Every episode birth up to the end of the day adds its stretch in the hour it is born.
    period = spread.schedule.period_ms
    first = phase(seed, spread.kind, spread.slot, spread.slots, spread.schedule, MARKET_START_MS)
    births = np.arange(first.born_ms + period, (last_day + 1) * DAY_MS, period)
    hours = (births - MARKET_START_MS) // HOUR_MS
    np.add.at(shocks, hours[hours < n], spread.stretch_sds * spread.stationary_sd)
    levels: FloatArray = lfilter([1.0], [1.0, -spread.phi], shocks)
    return levels
