"""The JSON bodies oppscan answers, and how a scan view becomes them: the HTTP API's, and the
CLI's ``--json`` (the same results body).

Field names are the API contract's: the old platform's frontend reads them.
Times are ISO 8601 in UTC; durations in seconds or milliseconds as their names say.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, Field

from oppscan.domain.models import Opportunity, ScanRecord, ScanView
from oppscan.service.scans import ResultsPage, Started
from oppscan.strategies.base import StrategyInfo

PREFIX = "/api/v1/opportunities"
POLLING_INTERVAL_SECONDS = 1.0


def iso(epoch_seconds: float | None) -> str | None:
    if epoch_seconds is None:
        return None
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_url(scan_id: str) -> str:
    return f"{PREFIX}/status/{scan_id}"


def results_url(scan_id: str) -> str:
    return f"{PREFIX}/results/{scan_id}"


def events_url(scan_id: str) -> str:
    return f"{PREFIX}/status/{scan_id}/events"


# -- bodies -----------------------------------------------------------------------------------


ISO = "ISO 8601, UTC"


class DiscoverReply(BaseModel):
    success: bool = True
    scan_id: str
    status: str = Field(description="the scan's status: queued | scanning, or terminal if reused")
    message: str
    reused: bool = Field(description="your identical scan, running or freshly finished")
    estimated_completion_seconds: float = Field(description="from the pace so far and the deadline")
    polling_interval_seconds: float = Field(description="how often to poll the status")
    poll_url: str
    results_url: str
    events_url: str = Field(description="the status as Server-Sent Events")


class Progress(BaseModel):
    strategies_completed: int = Field(description="strategies in a terminal state")
    total_strategies: int
    opportunities_found_so_far: int
    percentage: float = Field(description="0..100; 100 once the scan is terminal")


class StrategyProgress(BaseModel):
    status: str = Field(
        description="queued | running | done | failed | skipped | timed_out | cancelled"
    )
    opportunities: int
    duration_ms: int | None = Field(description="how long it ran, once finished")
    error: str | None = Field(description="why it failed, was skipped or timed out")


class StatusReply(BaseModel):
    success: bool = True
    scan_id: str
    status: str = Field(description="queued | scanning | complete | partial | failed | cancelled")
    progress: Progress
    strategies: dict[str, StrategyProgress] = Field(description="by strategy id")
    partial_results: list[Opportunity] = Field(description="the best ten so far, best first")
    estimated_time_remaining_seconds: float = Field(description="0 once terminal")
    created_at: str | None = Field(description=ISO)
    updated_at: str | None = Field(description=ISO)
    finished_at: str | None = Field(description=f"{ISO}; null while running")
    results_url: str
    notice: str | None = Field(
        default=None,
        description="what you should know that the status cannot say, e.g. that no scan worker "
        "is running; null when there is nothing",
    )


class Performance(BaseModel):
    count: int = Field(description="all of this strategy's opportunities in the scan, unfiltered")
    total_potential: float = Field(description="sum of their profit_potential_usd, USD")
    avg_confidence: float = Field(description="mean confidence_score, 0..1")


class ResultsReply(BaseModel):
    success: bool = True
    scan_id: str
    user_id: str
    status: str = Field(description="queued | scanning | complete | partial | failed | cancelled")
    partial: bool = Field(description="true unless the scan is complete")
    opportunities: list[Opportunity] = Field(description="this page, in the requested order")
    total_opportunities: int = Field(description="after the query's filters, before paging")
    strategy_performance: dict[str, Performance] = Field(description="by strategy id")
    execution_time_ms: int = Field(description="from creation to finish (or to now)")
    last_updated: str | None = Field(description=ISO)


class ScanSummary(BaseModel):
    scan_id: str
    status: str = Field(description="queued | scanning | complete | partial | failed | cancelled")
    strategy_ids: list[str]
    strategies_completed: int
    total_strategies: int
    opportunities_found: int
    created_at: str | None = Field(description=ISO)
    updated_at: str | None = Field(description=ISO)
    finished_at: str | None = Field(description=f"{ISO}; null while running")
    status_url: str
    results_url: str


class ScanList(BaseModel):
    success: bool = True
    items: list[ScanSummary] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class StrategyEntry(BaseModel):
    id: str
    name: str
    description: str
    needs: list[str] = Field(
        description="market data it reads: ohlcv | tickers | order_books | funding | futures | "
        "options | fees"
    )
    needs_portfolio: bool = Field(description="it is skipped without a portfolio")
    allowed: bool = Field(description="your token may run it")


class Catalog(BaseModel):
    success: bool = True
    strategies: list[StrategyEntry]


# -- rendering --------------------------------------------------------------------------------


def _remaining_seconds(record: ScanRecord, now: float) -> float:
    """From the pace so far, bounded by the deadline (by which every scan is terminal)."""
    if record.status.terminal:
        return 0.0
    to_deadline = max(0.0, record.deadline_at - now)
    done, total = record.strategies_completed, record.total_strategies
    if done == 0 or total == 0:
        return round(to_deadline, 1)
    elapsed = max(0.0, now - record.created_at)
    by_pace = elapsed / done * (total - done)
    return round(min(by_pace, to_deadline), 1)


def render_discover(started: Started, now: float | None = None) -> DiscoverReply:
    record = started.record
    scan_id = record.scan_id
    if started.reused:
        message = f"reusing your identical scan ({record.status.value})"
    else:
        message = f"scan started: {record.total_strategies} strategies"
    return DiscoverReply(
        scan_id=scan_id,
        status=record.status.value,
        message=message,
        reused=started.reused,
        estimated_completion_seconds=_remaining_seconds(record, now or time.time()),
        polling_interval_seconds=POLLING_INTERVAL_SECONDS,
        poll_url=status_url(scan_id),
        results_url=results_url(scan_id),
        events_url=events_url(scan_id),
    )


def render_status(view: ScanView, now: float | None = None) -> dict[str, Any]:
    """The status body (``StatusReply``'s shape) as plain data: the poll's hot path.

    The best results so far are embedded as the JSON the store holds (``orjson.Fragment``), so a
    poll never parses and re-serialises them.
    """
    record = view.record
    total = record.total_strategies
    done = record.strategies_completed
    percentage = 100.0 if record.status.terminal else (100.0 * done / total if total else 0.0)
    return {
        "success": True,
        "scan_id": record.scan_id,
        "status": record.status.value,
        "progress": {
            "strategies_completed": done,
            "total_strategies": total,
            "opportunities_found_so_far": record.opportunities_found,
            "percentage": round(percentage, 1),
        },
        "strategies": {
            sid: {
                "status": state.status.value,
                "opportunities": state.opportunities,
                "duration_ms": state.duration_ms,
                "error": state.error,
            }
            for sid, state in view.strategies.items()
        },
        "partial_results": orjson.Fragment(view.top_json),
        "estimated_time_remaining_seconds": _remaining_seconds(record, now or time.time()),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "finished_at": iso(record.finished_at),
        "results_url": results_url(record.scan_id),
        "notice": view.notice,
    }


def status_json(view: ScanView) -> bytes:
    return orjson.dumps(render_status(view))


def render_results(page: ResultsPage, now: float | None = None) -> ResultsReply:
    record = page.view.record
    end = record.finished_at if record.finished_at is not None else (now or time.time())
    return ResultsReply(
        scan_id=record.scan_id,
        user_id=record.user_id,
        status=record.status.value,
        partial=record.status.value != "complete",
        opportunities=page.opportunities,
        total_opportunities=page.total,
        strategy_performance={
            sid: Performance(
                count=p.count, total_potential=p.total_potential, avg_confidence=p.avg_confidence
            )
            for sid, p in page.performance.items()
        },
        execution_time_ms=max(0, math.floor((end - record.created_at) * 1000)),
        last_updated=iso(record.updated_at),
    )


def render_summary(record: ScanRecord) -> ScanSummary:
    return ScanSummary(
        scan_id=record.scan_id,
        status=record.status.value,
        strategy_ids=list(record.request.strategy_ids),
        strategies_completed=record.strategies_completed,
        total_strategies=record.total_strategies,
        opportunities_found=record.opportunities_found,
        created_at=iso(record.created_at),
        updated_at=iso(record.updated_at),
        finished_at=iso(record.finished_at),
        status_url=status_url(record.scan_id),
        results_url=results_url(record.scan_id),
    )


def render_catalog(infos: list[StrategyInfo], allowed: frozenset[str] | None) -> Catalog:
    return Catalog(
        strategies=[
            StrategyEntry(
                id=info.id,
                name=info.name,
                description=info.description,
                needs=list(info.needs),
                needs_portfolio=info.needs_portfolio,
                allowed=allowed is None or info.id in allowed,
            )
            for info in infos
        ]
    )
