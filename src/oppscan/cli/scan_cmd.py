"""``oppscan scan``: one scan through an embedded container, then a table or JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oppscan.bootstrap import Container
from oppscan.domain.models import Opportunity, Portfolio, ScanView
from oppscan.logs import configure_logging
from oppscan.schemas import render_results
from oppscan.service.errors import InvalidRequest
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsQuery, ScanService

CLI_USER = Principal(user_id="cli", tier="enterprise")
POLL_SECONDS = 0.1
MAX_ROWS = 1000


def discover_body(
    strategies: str | None, symbols: str | None, portfolio_file: Path | None, capital: float
) -> DiscoverInput:
    """The request, as ``POST /discover`` would receive it; ``ValidationError`` if malformed."""
    held = Portfolio.model_validate_json(portfolio_file.read_bytes()) if portfolio_file else None
    return DiscoverInput(
        strategy_ids=strategies, symbols=symbols, capital_usd=capital, portfolio=held
    )


async def run_scan(
    container: Container, body: DiscoverInput, as_json: bool, out: Console, err: Console
) -> int:
    """Runs the scan on ``container`` (started here, and closed). The exit code: 0 when the scan
    finished (complete or partial), 1 when it failed or was cancelled, 2 if the request was
    refused."""
    configure_logging("WARNING")  # JSON log lines would tear the progress bar apart
    await container.start()
    try:
        service = container.service
        try:
            started = await service.start(CLI_USER, body)
        except InvalidRequest as exc:
            allowed = f" (allowed: {', '.join(map(str, exc.allowed))})" if exc.allowed else ""
            err.print(f"[bold red]error:[/] {exc.field}: {exc.message}{allowed}")
            return 2
        view = await _follow(service, started.record.scan_id, err)
        page = await service.results(CLI_USER, view.record.scan_id, ResultsQuery(limit=MAX_ROWS))
    finally:
        await container.close()

    if as_json:
        # Plain text, not rich: the output is for other programs, so nothing may wrap it.
        out.file.write(render_results(page).model_dump_json(indent=2) + "\n")
    else:
        _print_strategies(view, err)
        if page.opportunities:
            out.print(_table(page.opportunities, page.total))
        else:
            out.print(
                f"no opportunity found ({view.record.status.value} scan {view.record.scan_id})"
            )
    return 0 if view.record.status.value in ("complete", "partial") else 1


async def _follow(service: ScanService, scan_id: str, err: Console) -> ScanView:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("strategies · {task.fields[found]} opportunities"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        view = await service.status(CLI_USER, scan_id)
        task = progress.add_task("scanning", total=view.record.total_strategies, found=0)
        while True:
            record = view.record
            progress.update(
                task,
                completed=record.strategies_completed,
                description=record.status.value,
                found=record.opportunities_found,
            )
            if record.status.terminal:
                return view
            await asyncio.sleep(POLL_SECONDS)
            view = await service.status(CLI_USER, scan_id)


def _print_strategies(view: ScanView, err: Console) -> None:
    for strategy_id, state in view.strategies.items():
        if state.status.value != "done":
            reason = f": {state.error}" if state.error else ""
            err.print(f"[yellow]{strategy_id}[/] {state.status.value}{reason}")


def _table(opportunities: list[Opportunity], total: int) -> Table:
    table = Table(title=f"{total} opportunities (best first)")
    for name, justify in (
        ("strategy", "left"),
        ("symbol", "left"),
        ("exchange", "left"),
        ("side", "left"),
        ("profit USD", "right"),
        ("edge bps", "right"),
        ("confidence", "right"),
        ("risk", "left"),
        ("capital USD", "right"),
        ("timeframe", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for o in opportunities:
        table.add_row(
            o.strategy_id,
            o.symbol,
            o.exchange,
            o.side,
            f"{o.profit_potential_usd:,.2f}",
            f"{o.net_edge_bps:.1f}",
            f"{o.confidence_score:.2f}",
            o.risk_level.value,
            f"{o.required_capital_usd:,.0f}",
            o.estimated_timeframe,
        )
    return table
