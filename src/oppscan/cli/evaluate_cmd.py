"""``oppscan evaluate``: forward-test the scanners on a synthetic market over a time range, or
on a recorded sequence of snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from oppscan.cli.errors import fail
from oppscan.evaluation.run import Evaluation, evaluate, evaluate_recorded, summary


def run_evaluation(
    seed: int, start_ms: int, hours: float, every: int, control: bool, as_json: bool
) -> int:
    err = Console(stderr=True)

    def progress(done: int, total: int) -> None:
        if not as_json:
            err.print(f"scan {done}/{total}", end="\r")

    return _report(
        evaluate(seed, start_ms, hours, every, control=control, progress=progress), as_json
    )


def run_recorded(folder: Path, as_json: bool) -> int:
    """Evaluate on every snapshot file in ``folder``; exit 2 naming the first bad file."""
    from oppscan.market.codec import read_snapshot

    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    snapshots = []
    for file in files:
        try:
            snapshots.append(read_snapshot(file))
        except Exception as exc:  # the codec raises several kinds for a file that is not one
            raise fail(f"--recorded: {file} is not a recorded snapshot ({exc})") from exc
    if len(snapshots) < 2:
        raise fail(f"--recorded: {folder} holds {len(snapshots)} snapshots; at least 2 are needed")
    return _report(evaluate_recorded(snapshots), as_json)


def _report(evaluation: Evaluation, as_json: bool) -> int:
    result = summary(evaluation)
    if as_json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print_summary(result, Console())
    return 0


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def print_summary(result: dict[str, Any], out: Console) -> None:
    table = Table(
        title=f"{result['market']}: {result['scans']} scans, "
        f"{result['published_per_scan']:.2f} opportunities per scan"
    )
    for name in ("strategy", "published", "followed", "mean return", "median", "hit rate"):
        table.add_column(name, justify="left" if name == "strategy" else "right")
    table.add_column("confidence", justify="right")
    for sid, row in result["strategies"].items():
        table.add_row(
            sid,
            str(row["published"]),
            str(row["followed"]),
            _pct(row["realised_mean_return"]),
            _pct(row["realised_median_return"]),
            _pct(row["hit_rate"]),
            "" if row["mean_confidence"] is None else f"{row['mean_confidence']:.3f}",
        )
    out.print(table)
    brier, base = result["brier"], result["base_rate_brier"]
    if brier is not None:
        out.print(f"Brier {brier:.4f} (base rate {base:.4f})")
