"""``oppscan``: serve the API, run a worker, print a token, run one scan here, list strategies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from oppscan.auth import TIERS, issue_token
from oppscan.cli.market_cmd import market_app
from oppscan.logs import configure_logging
from oppscan.settings import Settings

app = typer.Typer(
    name="oppscan",
    help="Opportunity scans over shared market data: the API, its workers, and one-off scans.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(market_app, name="market")
out = Console()
err = Console(stderr=True)

EMBEDDED_NOTE = "embedded: one process holds the store and runs scans in itself (no Redis)"
DEMO_USER = "demo"
DEMO_TTL_SECONDS = 86_400
STARTUP_HEALTHCHECK_SECONDS = 60


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes (above 1 needs Redis).")] = 1,
    print_demo_token: Annotated[
        bool, typer.Option(help="Print the page's URL and a 24 h token for the user 'demo'.")
    ] = False,
) -> None:
    """The HTTP API, its docs at /docs and the web page at /."""
    settings = Settings()
    if workers > 1 and settings.embedded:
        raise _fail(
            f"--workers {workers} needs OPPSCAN_REDIS_URL: without Redis one process holds "
            "the store, and other processes could not see its scans"
        )
    if settings.embedded:
        typer.echo(f"oppscan serve: {EMBEDDED_NOTE}", err=True)
    else:
        typer.echo(
            f"oppscan serve: store and job queue on Redis ({_redacted(settings.redis_url)}), "
            f"{workers} API process(es); `oppscan worker` processes run the scans",
            err=True,
        )
    if print_demo_token:
        token = issue_token(settings, DEMO_USER, tier="pro", ttl_seconds=DEMO_TTL_SECONDS)
        typer.echo(f"open http://{host}:{port}/ — demo token: {token}")

    import uvicorn

    uvicorn.run(
        "oppscan.bootstrap:web_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,  # the app writes its own JSON access line per request
        # A worker starting up imports the scientific stack and builds its container; on a busy
        # machine that outlasts uvicorn's 5 s health ping, and it would kill and respawn workers.
        timeout_worker_healthcheck=STARTUP_HEALTHCHECK_SECONDS,
        log_level=settings.log_level.lower(),
    )


def _redacted(url: str | None) -> str:
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Strategy jobs at once (default from settings).")
    ] = None,
) -> None:
    """A scan worker: runs strategy jobs from the Redis queue (needs OPPSCAN_REDIS_URL)."""
    settings = Settings()
    if settings.embedded:
        raise _fail(
            "oppscan worker needs OPPSCAN_REDIS_URL: without Redis, `oppscan serve` runs scans "
            "in its own process and there is no queue to work on"
        )
    from oppscan.cli.worker_cmd import run_worker

    run_worker(settings, concurrency or settings.worker_concurrency)


@app.command()
def token(
    user: Annotated[str, typer.Option(help="The user id (claim 'sub').")],
    strategies: Annotated[
        str | None,
        typer.Option(help="Comma-separated strategy ids the token allows (default: all)."),
    ] = None,
    tier: Annotated[str | None, typer.Option(help=f"One of {', '.join(TIERS)}.")] = None,
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a token signed with OPPSCAN_JWT_SECRET (HS256)."""
    if tier is not None and tier not in TIERS:
        raise _fail(f"--tier must be one of {', '.join(TIERS)}")
    if not user.strip():
        raise _fail("--user must not be empty")
    typer.echo(issue_token(Settings(), user.strip(), _csv(strategies), tier, ttl))


@app.command("strategies")
def list_strategies() -> None:
    """The strategy catalog."""
    configure_logging("WARNING")
    from oppscan.strategies.registry import load_strategies

    table = Table(title="oppscan strategies")
    for column in ("id", "name", "needs", "portfolio", "description"):
        table.add_column(column, overflow="fold")
    for strategy in load_strategies().values():
        info = strategy.info
        table.add_row(
            info.id,
            info.name,
            ", ".join(info.needs),
            "yes" if info.needs_portfolio else "",
            info.description,
        )
    out.print(table)


@app.command()
def scan(
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated ids (default: all).")
    ] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated, e.g. BTC,ETH/USDT.")] = None,
    portfolio: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="JSON: holdings and cash_usd.")
    ] = None,
    capital: Annotated[float, typer.Option(help="Capital in USD.")] = 10_000.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """One scan in this process (embedded, no Redis), with a progress bar; a table or JSON."""
    from oppscan.bootstrap import bootstrap
    from oppscan.cli.scan_cmd import discover_body, run_scan

    try:
        body = discover_body(strategies, symbols, portfolio, capital)
    except ValidationError as exc:
        raise _fail(str(exc)) from exc
    container = bootstrap(Settings().model_copy(update={"redis_url": None}))
    raise typer.Exit(asyncio.run(run_scan(container, body, as_json, out, err)))


if __name__ == "__main__":
    app()
