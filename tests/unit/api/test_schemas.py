"""Rendering scan views into the contract's JSON."""

from __future__ import annotations

import orjson

from oppscan.domain.models import (
    Opportunity,
    RiskLevel,
    ScanRecord,
    ScanRequest,
    ScanStatus,
    ScanView,
    StrategyState,
    StrategyStatus,
)
from oppscan.schemas import (
    StatusReply,
    iso,
    render_catalog,
    render_discover,
    render_results,
    render_status,
    render_summary,
    status_json,
)
from oppscan.service.scans import ResultsPage, Started, StrategyPerformance
from oppscan.strategies.base import StrategyInfo

T0 = 1_790_000_000.0


def _record(status: ScanStatus, done: int, **extra: object) -> ScanRecord:
    fields: dict[str, object] = {
        "scan_id": "scan_abc",
        "user_id": "alice",
        "status": status,
        "request": ScanRequest(strategy_ids=("a", "b", "c", "d")),
        "fingerprint": "fp",
        "created_at": T0,
        "updated_at": T0 + 10,
        "deadline_at": T0 + 120,
        "strategies_completed": done,
        "opportunities_found": 3,
        "version": 5,
    }
    fields.update(extra)
    return ScanRecord.model_validate(fields)


def _opportunity(n: int) -> Opportunity:
    return Opportunity(
        opportunity_id=f"opp_{n}",
        strategy_id="a",
        strategy_name="A",
        opportunity_type="carry",
        symbol="BTC/USDT",
        exchange="binance",
        side="buy",
        entry_price=100.0,
        exit_price=101.0,
        profit_potential_usd=10.0 + n,
        required_capital_usd=1000.0,
        confidence_score=0.5,
        risk_level=RiskLevel.LOW,
        horizon_seconds=43_200,
        estimated_timeframe="hours",
        annualized_return_pct=0.0,
        net_edge_bps=12.0,
        data_as_of="2026-01-01T00:00:00Z",
        expires_at="2026-01-01T01:00:00Z",
        discovered_at="2026-01-01T00:00:00Z",
    )


def _view(record: ScanRecord, top: int = 0) -> ScanView:
    states = {
        "a": StrategyState(status=StrategyStatus.DONE, opportunities=3, duration_ms=40),
        "b": StrategyState(status=StrategyStatus.FAILED, duration_ms=5, error="boom"),
        "c": StrategyState(status=StrategyStatus.RUNNING),
        "d": StrategyState(),
    }
    return ScanView(
        record=record,
        strategies=states,
        top_json="[" + ",".join(_opportunity(i).model_dump_json() for i in range(top)) + "]",
    )


def test_iso_is_utc_with_z() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(None) is None


def test_status_reports_progress_per_strategy_while_scanning() -> None:
    view = _view(_record(ScanStatus.SCANNING, done=2), top=10)
    body = render_status(view, now=T0 + 20)
    assert body["status"] == "scanning"
    assert body["progress"] == {
        "strategies_completed": 2,
        "total_strategies": 4,
        "opportunities_found_so_far": 3,
        "percentage": 50.0,
    }
    assert body["strategies"]["b"] == {
        "status": "failed",
        "opportunities": 0,
        "duration_ms": 5,
        "error": "boom",
    }
    assert body["strategies"]["d"]["status"] == "queued"
    assert len(orjson.loads(status_json(view))["partial_results"]) == 10
    # Two strategies took 20 s, two remain: about 20 s more, within the 100 s to the deadline.
    assert body["estimated_time_remaining_seconds"] == 20.0
    assert body["created_at"] == iso(T0)
    assert body["finished_at"] is None
    assert body["results_url"] == "/api/v1/opportunities/results/scan_abc"


def test_remaining_time_never_exceeds_the_deadline() -> None:
    body = render_status(_view(_record(ScanStatus.SCANNING, done=1)), now=T0 + 90)
    assert body["estimated_time_remaining_seconds"] == 30.0
    before_any = render_status(_view(_record(ScanStatus.QUEUED, done=0)), now=T0 + 1)
    assert before_any["estimated_time_remaining_seconds"] == 119.0


def test_terminal_scan_is_at_100_percent_with_nothing_remaining() -> None:
    record = _record(ScanStatus.PARTIAL, done=4, finished_at=T0 + 30)
    body = render_status(_view(record), now=T0 + 500)
    assert body["progress"]["percentage"] == 100.0
    assert body["estimated_time_remaining_seconds"] == 0.0
    assert body["finished_at"] == iso(T0 + 30)


def test_results_of_a_partial_scan_say_partial_and_time_to_finish() -> None:
    record = _record(ScanStatus.PARTIAL, done=4, finished_at=T0 + 1.5)
    page = ResultsPage(
        view=_view(record, top=2),
        opportunities=[_opportunity(1)],
        total=2,
        performance={"a": StrategyPerformance(count=2, total_potential=21.0, avg_confidence=0.5)},
    )
    body = render_results(page)
    assert body.partial is True
    assert body.execution_time_ms == 1500
    assert body.total_opportunities == 2
    assert body.user_id == "alice"
    assert body.strategy_performance["a"].total_potential == 21.0
    dumped = body.model_dump(mode="json")
    assert dumped["opportunities"][0]["risk_level"] == "low"


def test_complete_results_are_not_partial() -> None:
    record = _record(ScanStatus.COMPLETE, done=4, finished_at=T0 + 2)
    body = render_results(ResultsPage(view=_view(record), opportunities=[], total=0))
    assert body.partial is False


def test_discover_reply_links_to_the_scan() -> None:
    body = render_discover(Started(_record(ScanStatus.QUEUED, done=0), reused=True), now=T0)
    assert body.reused is True
    assert body.poll_url == "/api/v1/opportunities/status/scan_abc"
    assert body.events_url == "/api/v1/opportunities/status/scan_abc/events"
    assert body.results_url == "/api/v1/opportunities/results/scan_abc"
    assert body.estimated_completion_seconds == 120.0
    assert "reusing" in body.message


def test_summary_and_catalog() -> None:
    summary = render_summary(_record(ScanStatus.SCANNING, done=1))
    assert summary.strategy_ids == ["a", "b", "c", "d"]
    infos = [
        StrategyInfo(id="a", name="A", description="first", needs=("ohlcv",)),
        StrategyInfo(id="b", name="B", description="second", needs=(), needs_portfolio=True),
    ]
    catalog = render_catalog(infos, frozenset({"b"}))
    assert [(s.id, s.allowed, s.needs_portfolio) for s in catalog.strategies] == [
        ("a", False, False),
        ("b", True, True),
    ]
    assert all(s.allowed for s in render_catalog(infos, None).strategies)


def test_the_status_bytes_match_the_documented_schema() -> None:
    """The hot path writes bytes itself; the OpenAPI model must still describe them exactly."""
    view = _view(_record(ScanStatus.SCANNING, done=2), top=3)
    reply = StatusReply.model_validate_json(status_json(view))
    assert reply.scan_id == "scan_abc"
    assert [o.opportunity_id for o in reply.partial_results] == [o.opportunity_id for o in view.top]
    assert set(StatusReply.model_fields) == set(render_status(view))
