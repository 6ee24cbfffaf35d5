"""``oppscan market``: record the configured market source to a replay file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from oppscan.cli.errors import CliGroup, fail

if TYPE_CHECKING:
    from oppscan.settings import Settings

market_app = typer.Typer(
    name="market",
    cls=CliGroup,
    help="Market data: record a snapshot to replay later.",
    no_args_is_help=True,
)


@market_app.callback()
def _market() -> None:
    """Market data: record a snapshot to replay later."""
    # A callback keeps `market` a group even with one command, so it reads `market record FILE`.


async def _record(settings: Settings, file: Path) -> str:
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
        snapshot = await source.fetch(int(time.time() * 1000))
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
    try:
        recorded = asyncio.run(_record(settings, file))
    except (ValueError, RuntimeError, OSError) as exc:
        raise fail(str(exc), 1) from exc
    typer.echo(recorded)
