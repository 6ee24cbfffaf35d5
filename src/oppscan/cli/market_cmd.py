"""``oppscan market``: show the bars a scan saw, or record a snapshot to replay later."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from oppscan.cli.errors import CliGroup, fail
from oppscan.cli.moment import AtOption, at_moment

if TYPE_CHECKING:
    from oppscan.settings import Settings

market_app = typer.Typer(
    name="market",
    cls=CliGroup,
    help="Market data: show the bars a scan saw, or record a snapshot to replay later.",
    no_args_is_help=True,
)


@market_app.callback()
def _market() -> None:
    """Market data: show the bars a scan saw, or record a snapshot to replay later."""


async def _record(settings: Settings, file: Path, as_of_ms: int) -> str:
    """Fetch one snapshot and write it; what was recorded, as one line.

    The snapshot never leaves the coroutine: on Python 3.11 ``asyncio.run`` formats the repr of
    its main task (result included) when it restores the Ctrl-C handler, and the repr of a whole
    snapshot took about 13 s.
    """
    # Imported here: the market's modules load numpy and scipy, which `oppscan --help` must not.
    from oppscan.market.codec import write_snapshot
    from oppscan.market.sources import build_source

    source = build_source(settings)
    try:
        snapshot = await source.fetch(as_of_ms)
    finally:
        await source.close()
    size = write_snapshot(file, snapshot)
    return (
        f"recorded {snapshot.source}: {len(snapshot.symbols)} symbols on "
        f"{len(snapshot.exchanges)} exchanges, {len(snapshot.ohlcv)} bar series, "
        f"{size / 1e6:.1f} MB -> {file}"
    )


@market_app.command()
def record(
    file: Annotated[Path, typer.Argument(help="Where to write the snapshot (replay format).")],
    at: AtOption = None,
) -> None:
    """Fetch one snapshot from the configured source (OPPSCAN_MARKET_SOURCE) and write it.

    Replay it with OPPSCAN_MARKET_SOURCE=<file>.
    """
    if not file.parent.is_dir():
        # Say it before fetching a whole market that could not be written.
        raise fail(f"FILE: no such folder: {file.parent}")
    import asyncio

    from oppscan.settings import Settings

    settings = Settings()
    moment = at_moment(at, settings)
    as_of_ms = int((time.time() if moment is None else moment) * 1000)
    try:
        recorded = asyncio.run(_record(settings, file, as_of_ms))
    except (ValueError, RuntimeError, OSError) as exc:
        raise fail(str(exc), 1) from exc
    typer.echo(recorded)


class Timeframe(StrEnum):
    M1 = "1m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


@market_app.command()
def show(
    symbol: Annotated[str, typer.Argument(help="The market, e.g. BTC or BTC/USDT.")],
    exchange: Annotated[
        str | None, typer.Option(help="Default: the first exchange with bars of the symbol.")
    ] = None,
    timeframe: Annotated[Timeframe, typer.Option(help="Bar length.")] = Timeframe.H1,
    at: AtOption = None,
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="The table shows the last N bars.")
    ] = 20,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Every bar as [open_time_ms, open, high, low, close, volume]."),
    ] = False,
) -> None:
    """The bars a scan at that moment saw (OPPSCAN_MARKET_SOURCE, its time bucket)."""
    import asyncio
    import json

    from oppscan.market.buckets import bucket_start_ms
    from oppscan.settings import Settings

    settings = Settings()
    moment = at_moment(at, settings)
    as_of_ms = bucket_start_ms(
        time.time() if moment is None else moment, settings.market_bucket_seconds
    )
    try:
        found = asyncio.run(_bars(settings, symbol, exchange, timeframe.value, as_of_ms))
    except typer.Exit:
        raise  # a refusal already said (click's Exit is a RuntimeError)
    except (RuntimeError, OSError) as exc:
        raise fail(str(exc), 1) from exc
    venue, rows = found
    if as_json:
        typer.echo(json.dumps(rows))
        return
    _print_bars(rows[-limit:], f"{symbol.upper()} on {venue}, {timeframe.value} bars", as_of_ms)


async def _bars(
    settings: Settings, symbol: str, exchange: str | None, timeframe: str, as_of_ms: int
) -> tuple[str, list[list[float]]]:
    """The exchange and its bars, oldest first, as plain rows (the snapshot stays in here)."""
    from oppscan.market.sources import build_source
    from oppscan.service.requests import normalise_symbol

    source = build_source(settings)
    try:
        snapshot = await source.fetch(as_of_ms)
    finally:
        await source.close()
    pair = normalise_symbol(symbol)
    if pair not in snapshot.symbols:
        shown = ", ".join(snapshot.symbols[:8])
        raise fail(f"SYMBOL: {pair} is not in the market ({len(snapshot.symbols)}: {shown}, ...)")
    if exchange is not None and exchange not in snapshot.exchanges:
        allowed = ", ".join(snapshot.exchanges)
        raise fail(f"--exchange: {exchange} is not in the market (allowed: {allowed})")
    venues = [exchange] if exchange is not None else list(snapshot.exchanges)
    for venue in venues:
        bars = snapshot.bars(venue, pair, timeframe)
        if bars is not None:
            columns = (bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume)
            return venue, [
                [int(row[0]), *map(float, row[1:])] for row in zip(*columns, strict=True)
            ]
    raise fail(f"SYMBOL: no {timeframe} bars of {pair} on {', '.join(venues)}", 1)


def _print_bars(rows: list[list[float]], title: str, as_of_ms: int) -> None:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    def iso(ms: float) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")

    table = Table(title=f"{title} (market as of {iso(as_of_ms)} UTC)")
    table.add_column("open time UTC")
    for name in ("open", "high", "low", "close", "volume"):
        table.add_column(name, justify="right")
    for ts, *values in rows:
        table.add_row(iso(ts), *(f"{v:,.6g}" for v in values))
    Console().print(table)
