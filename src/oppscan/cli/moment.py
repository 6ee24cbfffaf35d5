"""``--at ISO-8601``: the moment a command's market is rebuilt at, so any scan is reproducible.

Only the synthetic market can be rebuilt at a past moment (it is a function of seed and time);
``ccxt`` is live and a recorded file holds its own one moment, so ``--at`` refuses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from oppscan.cli.errors import fail

if TYPE_CHECKING:
    from oppscan.settings import Settings

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="ISO-8601",
        help="The moment to rebuild the market at, e.g. 2026-01-01T12:00:00Z (UTC when no "
        "offset is given); synthetic market only. Default: now.",
    ),
]

FUTURE_SLACK_SECONDS = 60.0


def parse_at(value: str, now: float | None = None) -> float:
    """Epoch seconds of ``value``; a usage error for text that is not a past ISO 8601 moment."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise fail(f"--at: {value!r} is not an ISO 8601 time (e.g. 2026-01-01T12:00:00Z)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    if seconds > (time.time() if now is None else now) + FUTURE_SLACK_SECONDS:
        raise fail(f"--at: {value} is in the future; a market has no data from after now")
    return seconds


def at_moment(value: str | None, settings: Settings) -> float | None:
    """The ``--at`` moment, checked against the configured source; None for "now"."""
    if value is None:
        return None
    seconds = parse_at(value)
    if settings.market_source.strip() != "synthetic":
        raise fail(
            "--at: only the synthetic market can be rebuilt at a past moment "
            f"(OPPSCAN_MARKET_SOURCE={settings.market_source}: ccxt is live, a recorded file "
            "has its own moment)"
        )
    return seconds


def clock_from(moment: float | None) -> Callable[[], float] | None:
    """A clock that starts at ``moment`` and runs at the real pace (deadlines still pass)."""
    if moment is None:
        return None
    started = time.time()
    return lambda: moment + (time.time() - started)
