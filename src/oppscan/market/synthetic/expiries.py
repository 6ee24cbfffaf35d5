"""Listed expiry dates: dated futures and options expire on fixed Fridays at 08:00 UTC.

An instrument keeps its expiry from the day it is listed to the day it settles (as on Deribit,
OKX and Binance), so a snapshot a week later shows the same contracts, a week closer to expiry,
until the nearest one settles and the next is listed. Monthly contracts expire on a month's last
Friday, quarterly ones on the last Friday of March, June, September and December.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_DAY_MS = 86_400_000
_FRIDAY = 4
_QUARTER_MONTHS = (3, 6, 9, 12)


def _settle_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 8, tzinfo=UTC).timestamp() * 1000)


def _last_friday(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    last = first_next - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - _FRIDAY) % 7)


def _month_ends(as_of_ms: int, months: tuple[int, ...] | None) -> list[int]:
    today = datetime.fromtimestamp(as_of_ms / 1000, tz=UTC).date()
    year, month = today.year, today.month
    out = []
    for _ in range(15):
        if months is None or month in months:
            out.append(_settle_ms(_last_friday(year, month)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _first_after(candidates: list[int], earliest_ms: int) -> int:
    return next(ms for ms in candidates if ms >= earliest_ms)


def weekly(as_of_ms: int, min_days: float) -> int:
    """The first Friday 08:00 UTC at least ``min_days`` away."""
    earliest = as_of_ms + int(min_days * _DAY_MS)
    day = datetime.fromtimestamp(earliest / 1000, tz=UTC).date()
    friday = day + timedelta(days=(_FRIDAY - day.weekday()) % 7)
    settle = _settle_ms(friday)
    return settle if settle >= earliest else _settle_ms(friday + timedelta(days=7))


def monthly(as_of_ms: int, min_days: float) -> int:
    """The first month's-last-Friday expiry at least ``min_days`` away."""
    return _first_after(_month_ends(as_of_ms, None), as_of_ms + int(min_days * _DAY_MS))


def quarterly(as_of_ms: int, min_days: float) -> int:
    """The first quarterly expiry at least ``min_days`` away."""
    return _first_after(_month_ends(as_of_ms, _QUARTER_MONTHS), as_of_ms + int(min_days * _DAY_MS))


def future_expiries(as_of_ms: int) -> tuple[int, ...]:
    """The listed dated futures: a monthly (14 to ~45 days) and a quarterly (60 to ~150 days)."""
    return (monthly(as_of_ms, 14), quarterly(as_of_ms, 60))


def option_expiries(as_of_ms: int) -> tuple[int, ...]:
    """The option expiries shown: a weekly (3 to 10 days), a monthly (21 to ~52 days) and a
    quarterly (60 to ~150 days)."""
    return (weekly(as_of_ms, 3), monthly(as_of_ms, 21), quarterly(as_of_ms, 60))
