"""``oppscan evaluate``: scan a market over a time range and follow everything it published.

The market is a synthetic one (by seed, planted or control) or a recorded sequence of snapshots
(``oppscan market record --at``, one file per moment).

Each scan runs every strategy of the catalog on the snapshot of its moment, with a fixed request
(``EVALUATION_REQUEST``: $10,000 of capital and a small portfolio, so the portfolio strategies
have something to work on). Every published opportunity is followed (``follow``) on the later
snapshots of the same market. The later snapshots are built without bars (a trade is marked on
quotes, books, funding and chains), cached by moment and shared by every trade of the run.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from oppscan.domain.models import Holding, Opportunity, Portfolio
from oppscan.evaluation.follow import (
    DataEnds,
    Later,
    Outcome,
    Unfollowable,
    follow,
    follow_grid,
    horizon_ms,
)
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic import SyntheticSource
from oppscan.strategies.base import StrategyRequest, StrategySkipped
from oppscan.strategies.registry import load_strategies

EVALUATION_REQUEST = StrategyRequest(
    capital_usd=10_000.0,
    portfolio=Portfolio(
        holdings=(
            Holding(symbol="BTC/USDT", quantity=0.1),
            Holding(symbol="ETH/USDT", quantity=2.0),
            Holding(symbol="SOL/USDT", quantity=30.0),
        ),
        cash_usd=5_000.0,
    ),
)
CALIBRATION_BINS = 10


@dataclass(frozen=True, slots=True)
class Followed:
    opportunity: Opportunity
    scan_ms: int
    outcome: Outcome | None  # None: it could not be traded as stated
    why_not: str | None = None


@dataclass
class Evaluation:
    market: str  # "synthetic seed 101", "synthetic seed 101, control", "recorded: 48 files"
    seed: int | None
    control: bool
    start_ms: int
    hours: float
    every_minutes: int | None  # None: a recorded sequence, scanned at every recording
    scans: int = 0
    followed: list[Followed] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # strategy id -> scans it raised in


class LaterMarket:
    """Snapshots of one source by moment, without bars, built once each; a trade is marked on
    the epoch-aligned grid of its timeframe (``follow_grid``), shared by every trade."""

    grid = staticmethod(follow_grid)

    def __init__(self, source: SyntheticSource) -> None:
        self._source = source
        self._cache: dict[int, MarketSnapshot] = {}

    def __call__(self, ms: int) -> MarketSnapshot:
        snapshot = self._cache.get(ms)
        if snapshot is None:
            snapshot = self._source.build(ms, bars=False)
            self._cache[ms] = snapshot
        return snapshot


class RecordedMarket:
    """A recorded sequence's later states: at each moment, the latest recording made by then.
    Past the last recording there is no later state (``DataEnds``). A trade is marked at each
    recording."""

    def __init__(self, snapshots: list[MarketSnapshot]) -> None:
        self._snapshots = [replace(s, ohlcv={}) for s in snapshots]
        self._times = [s.as_of_ms for s in snapshots]

    def __call__(self, ms: int) -> MarketSnapshot:
        if ms > self._times[-1]:
            raise DataEnds(f"the recordings end at {self._times[-1]}")
        return self._snapshots[bisect.bisect_right(self._times, ms) - 1]

    def grid(self, opportunity: Opportunity, entry_ms: int) -> list[int]:
        """The recordings after entry, through the horizon; one moment past the last recording
        when the horizon reaches beyond it (the data ends there)."""
        until = entry_ms + horizon_ms(opportunity)
        moments = [t for t in self._times if entry_ms < t <= until]
        return [*moments, self._times[-1] + 1] if until > self._times[-1] else moments


def evaluate(
    seed: int,
    start_ms: int,
    hours: float,
    every_minutes: int,
    *,
    control: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Scan ``seed``'s market (its control market if ``control``) every ``every_minutes`` over
    ``hours`` from ``start_ms``, and follow every opportunity published."""
    if hours <= 0 or every_minutes <= 0:
        raise ValueError("hours and every_minutes must be positive")
    source = SyntheticSource(seed, plant=not control)
    name = f"synthetic seed {seed}{', control' if control else ''}"
    result = Evaluation(name, seed, control, start_ms, hours, every_minutes)
    moments = range(start_ms, start_ms + int(hours * 3_600_000), every_minutes * 60_000)
    snapshots = (source.build(moment) for moment in moments)
    _scan_all(result, snapshots, len(moments), LaterMarket(source), progress)
    return result


def evaluate_recorded(
    snapshots: list[MarketSnapshot], progress: Callable[[int, int], None] | None = None
) -> Evaluation:
    """Scan every recorded snapshot (``oppscan market record``) and follow what each scan
    published on the recordings made after it."""
    if len(snapshots) < 2:
        raise ValueError("a recorded sequence needs at least two snapshots: one to scan, one after")
    ordered = sorted(snapshots, key=lambda s: s.as_of_ms)
    start, end = ordered[0].as_of_ms, ordered[-1].as_of_ms
    result = Evaluation(
        f"recorded: {len(ordered)} snapshots", None, False, start, (end - start) / 3_600_000, None
    )
    _scan_all(result, iter(ordered), len(ordered), RecordedMarket(ordered), progress)
    return result


def evaluate_many(
    seeds: Iterable[int], start_ms: int, hours: float, every_minutes: int
) -> list[tuple[Evaluation, float]]:
    """``evaluate`` on each seed's planted and control market, one process per core; each run
    with the seconds it took, in (seed, planted then control) order."""
    jobs = [(seed, control, start_ms, hours, every_minutes) for seed in seeds for control in
            (False, True)]  # fmt: skip
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_timed_run, jobs))


def _timed_run(job: tuple[int, bool, int, float, int]) -> tuple[Evaluation, float]:
    seed, control, start_ms, hours, every = job
    started = time.perf_counter()
    run = evaluate(seed, start_ms, hours, every, control=control)
    return run, time.perf_counter() - started


def merged(evaluations: list[Evaluation]) -> Evaluation:
    """Several runs as one (their opportunities pooled)."""
    first = evaluations[0]
    seeds = ", ".join(str(e.seed) for e in evaluations)
    market = f"synthetic seeds {seeds}{', control' if first.control else ''}"
    out = Evaluation(market, None, first.control, first.start_ms, first.hours, first.every_minutes)
    for e in evaluations:
        out.scans += e.scans
        out.followed.extend(e.followed)
        for sid, n in e.failures.items():
            out.failures[sid] = out.failures.get(sid, 0) + n
    return out


def _scan_all(
    result: Evaluation,
    snapshots: Iterator[MarketSnapshot],
    total: int,
    later: Later,
    progress: Callable[[int, int], None] | None,
) -> None:
    strategies = load_strategies()
    for k, snapshot in enumerate(snapshots):
        result.scans += 1
        for sid, strategy in strategies.items():
            try:
                found = strategy.scan(snapshot, EVALUATION_REQUEST)
            except StrategySkipped:
                continue
            except Exception:  # a strategy's bug must not end the evaluation: it is counted
                result.failures[sid] = result.failures.get(sid, 0) + 1
                continue
            for opportunity in found:
                result.followed.append(_follow_one(opportunity, snapshot, later))
        if progress is not None:
            progress(k + 1, total)


def _follow_one(opportunity: Opportunity, snapshot: MarketSnapshot, later: Later) -> Followed:
    try:
        outcome = follow(opportunity, snapshot, later)
    except Unfollowable as exc:
        return Followed(opportunity, snapshot.as_of_ms, None, str(exc))
    return Followed(opportunity, snapshot.as_of_ms, outcome)


def summary(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as the JSON object ``oppscan evaluate --json`` prints."""
    traded = [f for f in evaluation.followed if f.outcome is not None]
    by_strategy: dict[str, list[Followed]] = defaultdict(list)
    reducing: dict[str, list[Followed]] = defaultdict(list)
    for f in evaluation.followed:
        is_reduction = f.opportunity.risk_reduction_usd > 0
        (reducing if is_reduction else by_strategy)[f.opportunity.strategy_id].append(f)
    strategies = {
        sid: _strategy_row(items, evaluation) for sid, items in sorted(by_strategy.items())
    }
    risk_reductions = {
        sid: _reduction_row(items, evaluation) for sid, items in sorted(reducing.items())
    }
    hits = [is_hit(f) for f in traded]
    confidences = [f.opportunity.confidence_score for f in traded]
    base_rate = sum(hits) / len(hits) if hits else 0.0
    return {
        "market": evaluation.market,
        "seed": evaluation.seed,
        "control": evaluation.control,
        "start_ms": evaluation.start_ms,
        "hours": evaluation.hours,
        "every_minutes": evaluation.every_minutes,
        "scans": evaluation.scans,
        "published_per_scan": len(evaluation.followed) / max(evaluation.scans, 1),
        "strategies": strategies,
        "risk_reductions": risk_reductions,
        "calibration": calibration(confidences, hits),
        "brier": _brier(confidences, hits),
        "base_rate_brier": _brier([base_rate] * len(hits), hits),
        "failures": dict(sorted(evaluation.failures.items())),
    }


def is_hit(f: Followed) -> bool:
    """A trade that ended profitable after every cost."""
    return f.outcome is not None and f.outcome.pnl_usd > 0


def _strategy_row(items: list[Followed], evaluation: Evaluation) -> dict[str, Any]:
    traded = [f for f in items if f.outcome is not None]
    returns = [f.outcome.return_on_capital for f in traded if f.outcome is not None]
    predicted = [
        f.opportunity.profit_potential_usd / f.opportunity.required_capital_usd
        for f in traded
        if f.opportunity.required_capital_usd > 0
    ]
    held = [(f.outcome.exit_ms - f.scan_ms) / 3_600_000 for f in traded if f.outcome is not None]
    hits = [is_hit(f) for f in traded]
    confidences = [f.opportunity.confidence_score for f in traded]
    return {
        "published": len(items),
        "per_scan": len(items) / max(evaluation.scans, 1),
        "followed": len(traded),
        "realised_mean_return": _mean(returns),
        "realised_median_return": statistics.median(returns) if returns else None,
        "predicted_mean_return": _mean(predicted),
        "hit_rate": _mean([float(h) for h in hits]),
        "mean_confidence": _mean(confidences),
        "brier": _brier(confidences, hits),
        "mean_hold_hours": _mean(held),
        "published_for_minutes": _persistence(items, evaluation.every_minutes),
        "exits": _counts(f.outcome.reason for f in traded if f.outcome is not None),
    }


def _reduction_row(items: list[Followed], evaluation: Evaluation) -> dict[str, Any]:
    """Suggestions that reduce risk are not trades for a return: what they claimed to remove,
    and what they cost when followed."""
    traded = [f for f in items if f.outcome is not None]
    return {
        "published": len(items),
        "per_scan": len(items) / max(evaluation.scans, 1),
        "followed": len(traded),
        "mean_risk_reduction_usd": _mean([f.opportunity.risk_reduction_usd for f in items]),
        "predicted_mean_pnl_usd": _mean([f.opportunity.profit_potential_usd for f in items]),
        "realised_mean_pnl_usd": _mean([f.outcome.pnl_usd for f in traded if f.outcome]),
        "hit_rate": _mean([float(is_hit(f)) for f in traded]),
        "mean_confidence": _mean([f.opportunity.confidence_score for f in traded]),
    }


def _persistence(items: list[Followed], every_minutes: int | None) -> float | None:
    """The median time the same finding (strategy, symbol, venue, type, side) stayed published
    in consecutive scans, counted from each run of it: how long the edge took to decay (not
    measured on a recorded sequence, whose scans need not be evenly spaced)."""
    if every_minutes is None:
        return None
    seen: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for f in items:
        o = f.opportunity
        seen[(o.symbol, o.exchange, o.opportunity_type, o.side)].append(f.scan_ms)
    runs: list[float] = []
    step = every_minutes * 60_000
    for moments in seen.values():
        ordered = sorted(set(moments))
        length = 1
        for before, after in itertools.pairwise(ordered):
            if after - before == step:
                length += 1
            else:
                runs.append(length * every_minutes)
                length = 1
        runs.append(length * every_minutes)
    return statistics.median(runs) if runs else None


def calibration(confidences: list[float], hits: list[bool]) -> list[dict[str, Any]]:
    """Confidence in ``CALIBRATION_BINS`` equal bins against the hit rate in each."""
    rows = []
    for b in range(CALIBRATION_BINS):
        low, high = b / CALIBRATION_BINS, (b + 1) / CALIBRATION_BINS
        inside = [
            (c, h)
            for c, h in zip(confidences, hits, strict=True)
            if low <= c < high or (b == CALIBRATION_BINS - 1 and c == 1.0)
        ]
        if not inside:
            continue
        rows.append(
            {
                "low": low,
                "high": high,
                "n": len(inside),
                "mean_confidence": _mean([c for c, _ in inside]),
                "hit_rate": _mean([float(h) for _, h in inside]),
            }
        )
    return rows


def _brier(confidences: list[float], hits: list[bool]) -> float | None:
    if not hits:
        return None
    return sum((c - float(h)) ** 2 for c, h in zip(confidences, hits, strict=True)) / len(hits)


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def _counts(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
