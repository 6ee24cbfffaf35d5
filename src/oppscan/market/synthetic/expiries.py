"""Listed expiry dates: dated futures and options expire on fixed Fridays at 08:00 UTC.

An instrument keeps its expiry from the day it is listed to the day it settles (as on Deribit,
OKX and Binance), so a snapshot a week later shows the same contracts, a week closer to expiry,
until the nearest one settles and the next is listed (the nearest can be hours from settling).
Monthly contracts expire on a month's last Friday, quarterly ones on the last Friday of March,
June, September and December.
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


def _first_after(candidates: list[int], after_ms: int) -> int:
    return next(ms for ms in candidates if ms > after_ms)


def weekly(as_of_ms: int) -> int:
    """The first Friday 08:00 UTC after ``as_of_ms``."""
    day = datetime.fromtimestamp(as_of_ms / 1000, tz=UTC).date()
    friday = day + timedelta(days=(_FRIDAY - day.weekday()) % 7)
    settle = _settle_ms(friday)
    return settle if settle > as_of_ms else _settle_ms(friday + timedelta(days=7))


def monthly(after_ms: int) -> int:
    """The first month's-last-Friday expiry after ``after_ms``."""
    return _first_after(_month_ends(after_ms, None), after_ms)


def quarterly(after_ms: int) -> int:
    """The first quarterly expiry after ``after_ms``."""
    return _first_after(_month_ends(after_ms, _QUARTER_MONTHS), after_ms)


# Each listing is the first of its kind after the one before it, so a contract never leaves the
# listing before it settles: when the nearest settles, the next one down the list takes its place.


def future_expiries(as_of_ms: int) -> tuple[int, ...]:
    """The dated futures listed: the nearest monthly and the first quarterly after it."""
    near = monthly(as_of_ms)
    return (near, quarterly(near))


def option_expiries(as_of_ms: int) -> tuple[int, ...]:
    """The option expiries shown: the nearest weekly, the first monthly after it and the first
    quarterly after that."""
    week = weekly(as_of_ms)
    month = monthly(week)
    return (week, month, quarterly(month))


def tenor_days(expiry_ms: int) -> int:
    """How long before its expiry a contract is listed: 91 days for a quarterly, 30 for a
    monthly, 7 for a weekly. It belongs to the date, not to the slot the listing shows it in."""
    day = datetime.fromtimestamp(expiry_ms / 1000, tz=UTC).date()
    if day != _last_friday(day.year, day.month):
        return 7
    return 91 if day.month in _QUARTER_MONTHS else 30


def listed_days_before(expiry_ms: int) -> int:
    """How long before its expiry a contract may first be shown (its strikes are set then):
    the listing shows a weekly up to 7 days ahead, a monthly up to ~2 months, a quarterly up to
    ~6 months."""
    return {7: 8, 30: 64, 91: 200}[tenor_days(expiry_ms)]
