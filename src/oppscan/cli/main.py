"""``oppscan``: serve the API, run a worker, print a token, run one scan here, follow a scan on a
server, list strategies, forward-test the scanners.

Starting must stay fast: this module imports typer and little else, and each command imports
what it needs when it runs (``--version`` and ``strategies`` never load scipy or statsmodels).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from oppscan.cli.errors import CliGroup, fail
from oppscan.cli.market_cmd import market_app
from oppscan.cli.moment import AtOption, at_moment, clock_from
from oppscan.cli.options import MAX_LIMIT, Selection, Sort, parse_risks

app = typer.Typer(
    name="oppscan",
    cls=CliGroup,
    help="Opportunity scans over shared market data: the API, its workers, and one-off scans.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(market_app, name="market")

EMBEDDED_NOTE = "embedded: one process holds the store and runs scans in itself (no Redis)"
DEV_SECRET_NOTE = (
    "tokens are signed with the public development secret (OPPSCAN_JWT_SECRET is unset): "
    "a demo for this machine only; anything else needs OPPSCAN_JWT_SECRET=$(openssl rand -hex 32)"
)
DEMO_USER = "demo"
DEMO_TTL_SECONDS = 86_400
STARTUP_HEALTHCHECK_SECONDS = 60
DEFAULT_SERVER = "http://127.0.0.1:8000"  # of `status` and `results`, unless OPPSCAN_SERVER


def _version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        typer.echo(f"oppscan {version('oppscan')}")
    except PackageNotFoundError:  # pragma: no cover - run from a tree that is not installed
        typer.echo("oppscan (not installed)")
    raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Opportunity scans over shared market data: the API, its workers, and one-off scans."""


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


# The options that choose and order printed results, shared by `scan` and `results`.
SortOption = Annotated[
    Sort,
    typer.Option(
        help="Order, largest first: score (the ranking score, shown in the table), profit "
        "(USD after costs) or confidence."
    ),
]
RiskOption = Annotated[
    list[str] | None,
    typer.Option(
        "--risk",
        metavar="LEVEL",
        callback=parse_risks,
        help="Only these risk levels (low, medium, high, very_high); repeat it, or separate "
        "them with commas.",
    ),
]
MinProfitOption = Annotated[
    float | None,
    typer.Option("--min-profit", min=0, metavar="USD", help="Only profit after costs >= USD."),
]
LimitOption = Annotated[
    int,
    typer.Option(min=1, max=MAX_LIMIT, metavar="N", help="Print at most N results (the best N)."),
]
ServerOption = Annotated[
    str,
    typer.Option(envvar="OPPSCAN_SERVER", help="The oppscan server's base URL."),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="OPPSCAN_TOKEN",
        show_default=False,
        help="Bearer token of the scan's user (`oppscan token --user ID` prints one).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]


def _selection(
    sort: Sort, risk: list[str] | None, min_profit: float | None, limit: int
) -> Selection:
    return Selection(sort=sort, risks=tuple(risk or ()), min_profit=min_profit, limit=limit)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes (above 1 needs Redis).")] = 1,
    print_demo_token: Annotated[
        bool, typer.Option(help="Print the page's URL and a 24 h token for the user 'demo'.")
    ] = False,
) -> None:
    """The HTTP API, its docs at /docs and the web page at /."""
    from oppscan.settings import Settings

    settings = Settings()
    if workers > 1 and settings.embedded:
        raise fail(
            f"--workers {workers} needs OPPSCAN_REDIS_URL: without Redis one process holds "
            "the store, and other processes could not see its scans"
        )
    # The one exception to a strong secret: the embedded demo, reachable from this machine only.
    demo = settings.dev_jwt_secret and settings.embedded and is_loopback(host)
    problem = settings.jwt_secret_problem()
    if problem is not None and not demo:
        raise fail(problem)
    if settings.embedded:
        typer.echo(f"oppscan serve: {EMBEDDED_NOTE}", err=True)
    else:
        typer.echo(
            f"oppscan serve: store and job queue on Redis ({_redacted(settings.redis_url)}), "
            f"{workers} API process(es); `oppscan worker` processes run the scans",
            err=True,
        )
    if demo:
        typer.echo(f"oppscan serve: {DEV_SECRET_NOTE}", err=True)
    if print_demo_token:
        from oppscan.auth import issue_token

        ttl = min(DEMO_TTL_SECONDS, settings.max_token_ttl_seconds)
        token = issue_token(settings, DEMO_USER, tier="pro", ttl_seconds=ttl)
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
        server_header=False,  # no `Server: uvicorn` on every reply
        # A worker starting up imports the scientific stack and builds its container; on a busy
        # machine that outlasts uvicorn's 5 s health ping, and it would kill and respawn workers.
        timeout_worker_healthcheck=STARTUP_HEALTHCHECK_SECONDS,
        log_level=settings.log_level.lower(),
    )


def is_loopback(host: str) -> bool:
    """``host`` is reachable from this machine only: localhost, 127.0.0.0/8 or ::1."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve this worker's Prometheus metrics (the market cache's) on this port.",
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address the metrics port listens on.")
    ] = "127.0.0.1",
) -> None:
    """A scan worker: runs strategy jobs from the Redis queue (needs OPPSCAN_REDIS_URL)."""
    from oppscan.settings import Settings

    settings = Settings()
    if settings.embedded:
        raise fail(
            "oppscan worker needs OPPSCAN_REDIS_URL: without Redis, `oppscan serve` runs scans "
            "in its own process and there is no queue to work on"
        )
    from oppscan.cli.worker_cmd import run_worker

    metrics = (metrics_host, metrics_port) if metrics_port is not None else None
    run_worker(settings, concurrency or settings.worker_concurrency, metrics)


TIERS = ("basic", "pro", "enterprise")  # oppscan.auth.TIERS (a test keeps them equal)


@app.command()
def token(
    user: Annotated[str, typer.Option(help="The user id (claim 'sub').")],
    strategies: Annotated[
        str | None,
        typer.Option(help="Comma-separated strategy ids the token allows (default: all)."),
    ] = None,
    tier: Annotated[str | None, typer.Option(help=f"One of {', '.join(TIERS)}.")] = None,
    ttl: Annotated[
        int,
        typer.Option(min=1, help="Lifetime in seconds, at most OPPSCAN_MAX_TOKEN_TTL_SECONDS."),
    ] = 3600,
) -> None:
    """Print a token signed with OPPSCAN_JWT_SECRET (HS256; at least 32 bytes)."""
    if tier is not None and tier not in TIERS:
        raise fail(f"--tier: {tier!r} is not a tier (allowed: {', '.join(TIERS)})")
    if not user.strip():
        raise fail("--user: must not be empty (allowed: any user id)")
    from oppscan.settings import Settings

    settings = Settings()
    problem = settings.jwt_secret_problem()
    if problem is not None:
        raise fail(problem)
    longest = settings.max_token_ttl_seconds
    if ttl > longest:
        raise fail(
            f"--ttl: {ttl} s is longer than OPPSCAN_MAX_TOKEN_TTL_SECONDS, and the API would "
            f"refuse the token (allowed: 1 to {longest})"
        )
    from oppscan.auth import issue_token

    typer.echo(issue_token(settings, user.strip(), _csv(strategies), tier, ttl))


@app.command("strategies")
def list_strategies() -> None:
    """The strategy catalog."""
    from rich.console import Console
    from rich.table import Table

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
    Console().print(table)


@app.command()
def scan(
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated ids (default: all).")
    ] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated, e.g. BTC,ETH/USDT.")] = None,
    portfolio: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="JSON: holdings and cash_usd."),
    ] = None,
    capital: Annotated[float, typer.Option(help="Capital in USD.")] = 10_000.0,
    sort: SortOption = Sort.SCORE,
    risk: RiskOption = None,
    min_profit: MinProfitOption = None,
    limit: LimitOption = MAX_LIMIT,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """One scan in this process (embedded, no Redis), with a progress bar; a table or JSON.

    With --at, the scan runs on the market of that moment: the same command gives the same
    results.
    """
    import asyncio

    from rich.console import Console

    from oppscan.bootstrap import bootstrap
    from oppscan.cli.scan_cmd import discover_body, run_scan
    from oppscan.settings import Settings

    body = discover_body(strategies, symbols, portfolio, capital)
    settings = Settings().model_copy(update={"redis_url": None})
    container = bootstrap(settings, clock=clock_from(at_moment(at, settings)))
    selection = _selection(sort, risk, min_profit, limit)
    out, err = Console(), Console(stderr=True)
    raise typer.Exit(asyncio.run(run_scan(container, body, as_json, out, err, selection)))


@app.command()
def evaluate(
    seed: Annotated[int, typer.Option(help="The synthetic market's seed.")] = 101,
    start: Annotated[
        str, typer.Option(help="ISO 8601 moment of the first scan.")
    ] = "2026-01-02T00:00:00Z",
    hours: Annotated[
        float, typer.Option(min=0.5, max=24 * 30, help="How long to scan for, in hours.")
    ] = 24.0,
    every: Annotated[int, typer.Option(min=1, max=24 * 60, help="Minutes between scans.")] = 30,
    control: Annotated[
        bool, typer.Option("--control", help="The control market: no planted structure.")
    ] = False,
    recorded: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="A folder of recorded snapshots (oppscan market record --at, one file per "
            "moment): scan each, follow on the later ones (instead of a synthetic market).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Scan a market over time and follow every published opportunity on the later market:
    realised returns, hit rates and confidence calibration, per strategy."""
    from oppscan.cli.evaluate_cmd import run_evaluation, run_recorded
    from oppscan.cli.moment import parse_at
    from oppscan.market.synthetic.latent import EARLIEST_AS_OF_MS

    if recorded is not None:
        if control:
            raise fail("--control: a recorded sequence is the market it recorded; drop one")
        raise typer.Exit(run_recorded(recorded, as_json))
    start_ms = int(parse_at(start, now=None) * 1000)
    start_ms -= start_ms % 60_000
    if start_ms < EARLIEST_AS_OF_MS:
        raise fail("--start: the synthetic market's first full year ends 2021-01-01; start later")
    raise typer.Exit(run_evaluation(seed, start_ms, hours, every, control, as_json))


@app.command()
def status(
    scan_id: Annotated[str, typer.Argument(help="The scan's id (scan_...).")],
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Follow a scan on a server with a progress bar until it is finished."""
    from rich.console import Console

    from oppscan.cli.remote_cmd import Refused, Server, follow_status, run

    try:
        where = Server.checked(server, token)
    except Refused as refused:
        raise fail(refused.message, refused.code) from refused
    out, err = Console(), Console(stderr=True)
    raise typer.Exit(run(follow_status(where, scan_id, out, err)))


@app.command()
def results(
    scan_id: Annotated[str, typer.Argument(help="The scan's id (scan_...).")],
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    sort: SortOption = Sort.SCORE,
    risk: RiskOption = None,
    min_profit: MinProfitOption = None,
    limit: LimitOption = MAX_LIMIT,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's results body (JSON).")
    ] = False,
) -> None:
    """A scan's results on a server: a table, or the API's JSON."""
    from rich.console import Console

    from oppscan.cli.remote_cmd import Refused, Server, fetch_results, run

    try:
        where = Server.checked(server, token)
    except Refused as refused:
        raise fail(refused.message, refused.code) from refused
    selection = _selection(sort, risk, min_profit, limit)
    out, err = Console(), Console(stderr=True)
    raise typer.Exit(run(fetch_results(where, scan_id, selection, as_json, out, err)))


if __name__ == "__main__":
    app()
