"""``oppscan scan``: one scan through an embedded container, then a table or JSON."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from oppscan.bootstrap import Container
from oppscan.cli.errors import USAGE, allowed_suffix, say_error, validation_line
from oppscan.cli.options import SORT_KEYS, Selection, merge
from oppscan.cli.render import ScanProgress, exit_code, follow, print_results, print_unfinished
from oppscan.domain.models import Portfolio, RiskLevel, ScanView
from oppscan.logs import configure_logging
from oppscan.schemas import render_results
from oppscan.service.errors import InvalidRequest
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsPage, ResultsQuery, ScanService

CLI_USER = Principal(user_id="cli", tier="enterprise")
# The option of `oppscan scan` that sets each field of the request.
OPTIONS = {
    "strategy_ids": "--strategies",
    "symbols": "--symbols",
    "capital_usd": "--capital",
    "portfolio": "--portfolio",
}
POLL_SECONDS = 0.1


def discover_body(
    strategies: str | None, symbols: str | None, portfolio_file: Path | None, capital: float
) -> DiscoverInput:
    """The request, as ``POST /discover`` would receive it; ``typer.BadParameter`` naming the
    option if it is malformed."""
    held = read_portfolio(portfolio_file) if portfolio_file else None
    try:
        return DiscoverInput(
            strategy_ids=strategies, symbols=symbols, capital_usd=capital, portfolio=held
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise typer.BadParameter(validation_line(exc), param_hint=OPTIONS.get(field)) from exc


def read_portfolio(file: Path) -> Portfolio:
    try:
        return Portfolio.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        raise typer.BadParameter(
            f"{file}: {validation_line(exc)}", param_hint="--portfolio"
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise typer.BadParameter(
            f"cannot read {file} ({reason})", param_hint="--portfolio"
        ) from exc


async def run_scan(
    container: Container,
    body: DiscoverInput,
    as_json: bool,
    out: Console,
    err: Console,
    selection: Selection | None = None,
) -> int:
    """Runs the scan on ``container`` (started here, and closed), then prints the results that
    ``selection`` chooses. The exit code: 0 when the scan finished (complete or partial), 1 when
    it failed or was cancelled, 2 if the request was refused."""
    selection = selection or Selection()
    configure_logging("WARNING")  # JSON log lines would tear the progress bar apart
    await container.start()
    try:
        service = container.service
        try:
            started = await service.start(CLI_USER, body)
        except InvalidRequest as exc:
            option = OPTIONS.get(exc.field.split(".")[0], exc.field)
            say_error(f"{option}: {exc.message}{allowed_suffix(exc.allowed)}")
            return USAGE
        scan_id = started.record.scan_id

        async def read() -> ScanProgress:
            return progress_of(await service.status(CLI_USER, scan_id))

        progress = await follow(read, err, POLL_SECONDS)
        page = await select(service, scan_id, selection)
    finally:
        await container.close()

    if as_json:
        # Plain text, not rich: the output is for other programs, so nothing may wrap it.
        out.file.write(render_results(page).model_dump_json(indent=2) + "\n")
    else:
        print_unfinished(progress, err)
        scan = f"{progress.status} scan {scan_id}"
        print_results(out, page.opportunities, page.total, selection.sort, scan)
    return exit_code(progress.status)


def progress_of(view: ScanView) -> ScanProgress:
    record = view.record
    return ScanProgress(
        scan_id=record.scan_id,
        status=record.status.value,
        done=record.strategies_completed,
        total=record.total_strategies,
        found=record.opportunities_found,
        strategies={sid: (s.status.value, s.error) for sid, s in view.strategies.items()},
    )


async def select(service: ScanService, scan_id: str, selection: Selection) -> ResultsPage:
    """The results page ``GET /results`` would answer with these options (several risk levels:
    one query each, merged)."""
    pages = [
        await service.results(
            CLI_USER,
            scan_id,
            ResultsQuery(
                risk_level=RiskLevel(risk) if risk else None,
                min_profit_usd=selection.min_profit,
                sort=selection.sort.value,
                limit=selection.limit,
            ),
        )
        for risk in selection.risk_per_query()
    ]
    rows, total = merge(
        [(page.opportunities, page.total) for page in pages],
        SORT_KEYS[selection.sort],
        selection.limit,
    )
    return replace(pages[0], opportunities=rows, total=total)
