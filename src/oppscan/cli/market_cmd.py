"""``oppscan market``: record the configured market source to a replay file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oppscan.market.codec import write_snapshot
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.sources import build_source
from oppscan.settings import Settings

market_app = typer.Typer(
    name="market", help="Market data: record a snapshot to replay later.", no_args_is_help=True
)
_out = Console()


@market_app.callback()
def _market() -> None:
    """Market data: record a snapshot to replay later."""
    # A callback keeps `market` a group even with one command, so it reads `market record FILE`.


_err = Console(stderr=True)


async def _fetch_once(settings: Settings) -> MarketSnapshot:
    source = build_source(settings)
    try:
        return await source.fetch(int(time.time() * 1000))
    finally:
        await source.close()


@market_app.command()
def record(
    file: Annotated[Path, typer.Argument(help="Where to write the snapshot (replay format).")],
) -> None:
    """Fetch one snapshot from the configured source (OPPSCAN_MARKET_SOURCE) and write it.

    Replay it with OPPSCAN_MARKET_SOURCE=<file>.
    """
    settings = Settings()
    try:
        snapshot = asyncio.run(_fetch_once(settings))
    except (ValueError, RuntimeError, OSError) as exc:
        _err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    size = write_snapshot(file, snapshot)
    _out.print(
        f"recorded {snapshot.source}: {len(snapshot.symbols)} symbols on "
        f"{len(snapshot.exchanges)} exchanges, {len(snapshot.ohlcv)} bar series, "
        f"{size / 1e6:.1f} MB -> {file}"
    )
