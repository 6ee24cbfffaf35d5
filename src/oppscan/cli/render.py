"""What ``scan``, ``status`` and ``results`` print, whether the scan ran here or on a server: the
progress bar and the results table."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oppscan.cli.errors import OK, SCAN_FAILED
from oppscan.cli.options import SORT_LABELS, Sort
from oppscan.domain.models import TERMINAL_SCAN_STATUSES, Opportunity, ScanStatus

TERMINAL = frozenset(status.value for status in TERMINAL_SCAN_STATUSES)
FINISHED = frozenset({ScanStatus.COMPLETE.value, ScanStatus.PARTIAL.value})
SCORE_MEANING = (
    "score = net edge bps × confidence ÷ √(horizon in days, at least 1 h) ÷ (1 + risk step: "
    "low 0, medium 1, high 2, very_high 3)"
)
TARGET_MEANING = "target = the take-profit price, else the planned exit price"


# -- progress -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanProgress:
    """One reading of a scan's progress, from a ``ScanView`` here or a status body there."""

    scan_id: str
    status: str
    done: int
    total: int
    found: int
    strategies: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # status, error

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


async def follow(
    read: Callable[[], Awaitable[ScanProgress]], err: Console, poll_seconds: float
) -> ScanProgress:
    """A progress bar on ``err`` until the scan is terminal; its last reading."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("strategies · {task.fields[found]} opportunities"),
        TimeElapsedColumn(),
    )
    progress = await read()  # a refusal before the bar starts leaves nothing of it on screen
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("scanning", total=progress.total, found=0)
        while True:
            bar.update(
                task,
                total=progress.total,
                completed=progress.done,
                description=progress.status,
                found=progress.found,
            )
            if progress.terminal:
                return progress
            await asyncio.sleep(poll_seconds)
            progress = await read()


def print_unfinished(progress: ScanProgress, err: Console) -> None:
    """The strategies that did not finish ``done``, and why."""
    for strategy_id, (status, error) in progress.strategies.items():
        if status != "done":
            reason = f": {error}" if error else ""
            err.print(f"[yellow]{strategy_id}[/] {status}{reason}", markup=True, highlight=False)


def exit_code(status: str) -> int:
    """0 unless the scan ended failed or cancelled (a running scan's results so far: 0)."""
    return SCAN_FAILED if status in TERMINAL - FINISHED else OK


# -- the table -------------------------------------------------------------------------------


def price(value: float | None) -> str:
    """Enough digits for a 60,000 USD coin and a 0.0001 USD one alike."""
    if value is None:
        return "—"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.2f}"
    if size >= 1:
        return f"{value:.4f}"
    if size == 0:
        return "0"
    return f"{value:#.4g}" if size >= 1e-4 else f"{value:.3e}"


COLUMNS = (
    ("strategy", "left"),
    ("symbol", "left"),
    ("exchange", "left"),
    ("side", "left"),
    ("entry", "right"),
    ("target", "right"),
    ("stop", "right"),
    ("profit USD", "right"),
    ("edge bps", "right"),
    ("confidence", "right"),
    ("risk", "left"),
    ("score", "right"),
    ("capital USD", "right"),
    ("timeframe", "left"),
)


def results_table(opportunities: Sequence[Opportunity], total: int, sort: Sort) -> Table:
    shown = len(opportunities)
    count = f"{total}" if shown == total else f"{shown} of {total}"
    table = Table(
        title=f"{count} opportunities, best first by {SORT_LABELS[sort]}",
        caption=f"{SCORE_MEANING}; {TARGET_MEANING}",
    )
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for o in opportunities:
        table.add_row(
            o.strategy_id,
            o.symbol,
            o.exchange,
            o.side,
            price(o.entry_price),
            price(o.take_profit if o.take_profit is not None else o.exit_price),
            price(o.stop_loss),
            f"{o.profit_potential_usd:,.2f}",
            f"{o.net_edge_bps:.1f}",
            f"{o.confidence_score:.2f}",
            o.risk_level.value,
            f"{o.rank_score:.2f}",
            f"{o.required_capital_usd:,.0f}",
            o.estimated_timeframe,
        )
    return table


def print_results(
    out: Console, opportunities: Sequence[Opportunity], total: int, sort: Sort, scan: str
) -> None:
    """The table, or one line saying nothing matched (``scan``: its status and id)."""
    if opportunities:
        out.print(results_table(opportunities, total, sort))
    else:
        out.print(f"no opportunity found ({scan})", highlight=False)
