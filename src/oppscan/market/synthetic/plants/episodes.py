"""When a planted structure lives: episodes anchored in the market's own time.

A plant is not redrawn at every snapshot: it is born at a moment that depends only on the seed
and its kind, lives at full strength for ``live`` time, then decays (its strength halves every
``half_life``) until the next episode of the same slot is born, one ``period`` after the last.
Whatever a snapshot shows of a plant is a function of the moment, so a snapshot at ``t + d``
agrees with the one at ``t`` about everything before ``t``, and a trade opened while a plant
lives meets its decay in the later market.

A kind may run two slots half a period apart (two symbols taking turns), so that at every
moment one of them is alive when ``live`` is at least half the ``period``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Schedule:
    period_ms: int
    live_ms: int
    half_life_ms: int  # of the decay after the live window


@dataclass(frozen=True, slots=True)
class Phase:
    """Where one slot's current episode is at a moment."""

    slot: int
    born_ms: int
    age_ms: int
    live: bool
    strength: float  # 1 while live, then halving every half-life


def phase(seed: int, kind: str, slot: int, slots: int, schedule: Schedule, at_ms: int) -> Phase:
    """The phase of ``slot`` (of ``slots`` evenly staggered) of ``kind``'s episodes at ``at_ms``."""
    period = schedule.period_ms
    # Births fall on whole hours: an hourly bar closes on the moment a plant is born.
    hours = zlib.crc32(f"{seed}:{kind}".encode()) % (period // HOUR_MS)
    offset = hours * HOUR_MS + slot * period // slots
    born = (at_ms - offset) // period * period + offset
    age = at_ms - born
    live = age < schedule.live_ms
    strength = 1.0 if live else 0.5 ** ((age - schedule.live_ms) / schedule.half_life_ms)
    return Phase(slot, born, age, live, strength)
