"""The store contract: every adapter (in-process and Redis) must pass every test here."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from oppscan.domain.errors import InvalidCompletion
from oppscan.domain.models import (
    Opportunity,
    RiskLevel,
    ScanRecord,
    ScanRequest,
    ScanStatus,
    StrategyOutcome,
    StrategyStatus,
)
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.store.port import ScanStore
from oppscan.store.redis_store import RedisScanStore

TTL = 600


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, key_prefix: str) -> ScanStore:
    if request.param == "memory":
        return InMemoryScanStore(result_ttl_seconds=TTL)
    # Asked for only here, so the in-process half of the contract runs without Redis. (This
    # fixture is not async: pytest-asyncio cannot set up an async fixture from inside another.)
    client: aioredis.Redis = request.getfixturevalue("redis_client")
    return RedisScanStore(client, prefix=key_prefix, result_ttl_seconds=TTL)


async def make_scan(
    store: ScanStore,
    scan_id: str = "scan_a",
    user_id: str = "alice",
    strategies: tuple[str, ...] = ("s1", "s2"),
    deadline: float = 60.0,
) -> ScanRecord:
    now = await store.now()
    record = ScanRecord(
        scan_id=scan_id,
        user_id=user_id,
        status=ScanStatus.QUEUED,
        request=ScanRequest(strategy_ids=strategies),
        fingerprint="fp",
        created_at=now,
        updated_at=now,
        deadline_at=now + deadline,
    )
    await store.create_scan(record)
    return record


def opp(oid: str, strategy: str, edge: float) -> Opportunity:
    return Opportunity(
        opportunity_id=oid,
        strategy_id=strategy,
        strategy_name=strategy,
        opportunity_type="spot",
        symbol="BTC/USDT",
        exchange="binance",
        side="buy",
        entry_price=100.0,
        exit_price=101.0,
        profit_potential_usd=10.0,
        required_capital_usd=1000.0,
        confidence_score=0.5,
        risk_level=RiskLevel.LOW,
        horizon_seconds=43_200,
        estimated_timeframe="hours",
        annualized_return_pct=0.0,
        net_edge_bps=edge,
        data_as_of="2026-01-01T00:00:00Z",
        expires_at="2026-01-01T01:00:00Z",
        discovered_at="2026-01-01T00:00:00Z",
    )


def done(*opps: Opportunity, status: StrategyStatus = StrategyStatus.DONE) -> StrategyOutcome:
    return StrategyOutcome(status=status, opportunities=list(opps), duration_ms=12)


async def test_a_created_scan_is_readable_queued(store: ScanStore) -> None:
    record = await make_scan(store)
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.record.scan_id == record.scan_id
    assert view.record.status is ScanStatus.QUEUED
    assert view.record.request == record.request
    assert list(view.strategies) == ["s1", "s2"]
    assert all(s.status is StrategyStatus.QUEUED for s in view.strategies.values())
    assert await store.get_view("scan_unknown") is None


async def test_progress_moves_with_each_strategy_and_ends_complete(store: ScanStore) -> None:
    await make_scan(store)
    assert await store.start_strategy("scan_a", "s1") == 1
    view = await store.get_view("scan_a")
    assert view is not None and view.record.status is ScanStatus.SCANNING
    first = await store.complete_strategy("scan_a", "s1", done(opp("o1", "s1", 50)))
    assert first is not None and first.changed and first.status is ScanStatus.SCANNING
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.record.strategies_completed == 1
    assert view.record.opportunities_found == 1
    assert [o.opportunity_id for o in view.top] == ["o1"]
    last = await store.complete_strategy("scan_a", "s2", done(opp("o2", "s2", 80)))
    assert last is not None and last.status is ScanStatus.COMPLETE
    view = await store.get_view("scan_a", all_results=True)
    assert view is not None
    assert view.record.finished_at is not None
    assert [o.opportunity_id for o in view.top] == ["o2", "o1"]  # ranked by score
    assert view.strategies["s1"].duration_ms == 12


async def test_a_redelivered_completion_counts_once(store: ScanStore) -> None:
    await make_scan(store)
    outcome = done(opp("o1", "s1", 50))
    assert (await store.complete_strategy("scan_a", "s1", outcome)).changed  # type: ignore[union-attr]
    again = await store.complete_strategy("scan_a", "s1", outcome)
    assert again is not None and not again.changed
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.record.strategies_completed == 1
    assert view.record.opportunities_found == 1


async def test_concurrent_duplicate_completions_apply_once(store: ScanStore) -> None:
    await make_scan(store, strategies=("s1",))
    results = await asyncio.gather(
        *(store.complete_strategy("scan_a", "s1", done(opp("o1", "s1", 5))) for _ in range(20))
    )
    assert sum(1 for r in results if r is not None and r.changed) == 1


async def test_failures_make_partial_and_all_failures_make_failed(store: ScanStore) -> None:
    await make_scan(store, "scan_p")
    await store.complete_strategy("scan_p", "s1", done())
    failed = StrategyOutcome(status=StrategyStatus.FAILED, duration_ms=3, error="boom")
    applied = await store.complete_strategy("scan_p", "s2", failed)
    assert applied is not None and applied.status is ScanStatus.PARTIAL
    view = await store.get_view("scan_p")
    assert view is not None and view.strategies["s2"].error == "boom"

    await make_scan(store, "scan_f")
    await store.complete_strategy("scan_f", "s1", failed)
    applied = await store.complete_strategy("scan_f", "s2", failed)
    assert applied is not None and applied.status is ScanStatus.FAILED


async def test_skipped_strategies_still_complete(store: ScanStore) -> None:
    await make_scan(store)
    skipped = StrategyOutcome(status=StrategyStatus.SKIPPED, duration_ms=0, error="no holdings")
    await store.complete_strategy("scan_a", "s1", skipped)
    applied = await store.complete_strategy("scan_a", "s2", done())
    assert applied is not None and applied.status is ScanStatus.COMPLETE


async def test_any_reader_finishes_an_overdue_scan(store: ScanStore) -> None:
    await make_scan(store, deadline=0.3)
    await store.start_strategy("scan_a", "s1")
    await store.complete_strategy("scan_a", "s2", done(opp("o2", "s2", 10)))
    await asyncio.sleep(0.4)
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.record.status is ScanStatus.PARTIAL
    assert view.strategies["s1"].status is StrategyStatus.TIMED_OUT
    assert view.strategies["s2"].status is StrategyStatus.DONE
    assert view.record.strategies_completed == 2
    assert view.record.error
    # A late result after the deadline changes nothing.
    late = await store.complete_strategy("scan_a", "s1", done(opp("o1", "s1", 10)))
    assert late is not None and not late.changed
    assert await store.start_strategy("scan_a", "s1") is None


async def test_finish_overdue_sweeps_scans_nobody_reads(store: ScanStore) -> None:
    await make_scan(store, "scan_x", deadline=0.2)
    await make_scan(store, "scan_y", deadline=60)
    await asyncio.sleep(0.3)
    assert await store.finish_overdue() == ["scan_x"]
    assert await store.finish_overdue() == []
    view = await store.get_view("scan_y")
    assert view is not None and view.record.status is ScanStatus.QUEUED


async def test_cancel_stops_what_is_left(store: ScanStore) -> None:
    await make_scan(store)
    await store.complete_strategy("scan_a", "s1", done())
    applied = await store.cancel_scan("scan_a")
    assert applied is not None and applied.changed and applied.status is ScanStatus.CANCELLED
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.strategies["s1"].status is StrategyStatus.DONE
    assert view.strategies["s2"].status is StrategyStatus.CANCELLED
    assert await store.start_strategy("scan_a", "s2") is None
    again = await store.cancel_scan("scan_a")
    assert again is not None and not again.changed
    assert await store.cancel_scan("scan_unknown") is None


async def test_version_grows_with_every_change(store: ScanStore) -> None:
    await make_scan(store)
    versions = []
    for step in (
        store.start_strategy("scan_a", "s1"),
        store.complete_strategy("scan_a", "s1", done()),
        store.complete_strategy("scan_a", "s2", done()),
    ):
        await step
        view = await store.get_view("scan_a")
        assert view is not None
        versions.append(view.record.version)
    assert versions == sorted(set(versions))


async def test_fingerprint_is_claimed_once(store: ScanStore) -> None:
    owners = await asyncio.gather(
        *(store.claim_fingerprint("alice", "fp1", f"scan_{i}", 60) for i in range(10))
    )
    winners = [i for i, owner in enumerate(owners) if owner is None]
    assert len(winners) == 1
    assert all(owner == f"scan_{winners[0]}" for owner in owners if owner is not None)
    assert await store.fingerprint_owner("alice", "fp1") == f"scan_{winners[0]}"
    assert await store.fingerprint_owner("bob", "fp1") is None
    assert not await store.replace_fingerprint("alice", "fp1", "scan_wrong", "scan_new", 60)
    assert await store.replace_fingerprint("alice", "fp1", f"scan_{winners[0]}", "scan_new", 60)
    assert await store.fingerprint_owner("alice", "fp1") == "scan_new"


async def test_user_list_is_newest_first_and_pages(store: ScanStore) -> None:
    for i in range(5):
        await make_scan(store, f"scan_{i}")
        await asyncio.sleep(0.01)
    await make_scan(store, "scan_bob", user_id="bob")
    first = await store.list_user_scans("alice", 3, None)
    assert [r.scan_id for r in first] == ["scan_4", "scan_3", "scan_2"]
    rest = await store.list_user_scans("alice", 3, first[-1].created_at)
    assert [r.scan_id for r in rest] == ["scan_1", "scan_0"]
    assert [r.scan_id for r in await store.list_user_scans("bob", 10, None)] == ["scan_bob"]


async def test_a_deleted_scan_is_gone(store: ScanStore) -> None:
    await make_scan(store)
    await store.delete_scan("scan_a", "alice")
    assert await store.get_view("scan_a") is None
    assert await store.list_user_scans("alice", 10, None) == []


async def one_window(store: ScanStore, needed: float = 5.0) -> None:
    """Wait for a fresh minute if this one ends too soon: the starts of a test share a window."""
    now = await store.now()
    if 60 - now % 60 < needed:
        await asyncio.sleep(60 - now % 60 + 0.05)


async def test_starts_are_taken_atomically_up_to_the_limit(store: ScanStore) -> None:
    await one_window(store)
    quotas = await asyncio.gather(*(store.take_start("alice", f"fp{i}", 10, 60) for i in range(50)))
    allowed = [q for q in quotas if q.allowed]
    refused = [q for q in quotas if not q.allowed]
    assert (len(allowed), len(refused)) == (10, 40)
    assert sorted(q.count for q in allowed) == list(range(1, 11))
    assert all(q.count == 10 and 1 <= q.retry_after <= 60 for q in refused)
    assert not any(q.identical_pending for q in refused)  # no refused fingerprint was pending
    assert (await store.take_start("bob", "fp0", 10, 60)).allowed  # per user


async def test_a_start_given_back_can_be_taken_again(store: ScanStore) -> None:
    await one_window(store)
    first = await store.take_start("alice", "fp", 1, 60)
    assert first.allowed
    # Refused while the first holds its start, and told an identical request is starting.
    again = await store.take_start("alice", "fp", 1, 60)
    assert not again.allowed and again.identical_pending
    other = await store.take_start("alice", "fp-other", 1, 60)
    assert not other.allowed and not other.identical_pending
    await store.settle_start("alice", first, started=False)  # it reused a scan: given back
    second = await store.take_start("alice", "fp-other", 1, 60)
    assert second.allowed
    await store.settle_start("alice", second, started=True)  # it started one: kept
    await store.settle_start("alice", second, started=True)  # settling twice changes nothing
    refused = await store.take_start("alice", "fp", 1, 60)
    assert not refused.allowed and not refused.identical_pending


async def test_a_scan_that_cannot_run_fails_saying_why(store: ScanStore) -> None:
    await make_scan(store)
    applied = await store.fail_scan("scan_a", "its strategy jobs could not be queued")
    assert applied is not None and applied.changed and applied.status is ScanStatus.FAILED
    view = await store.get_view("scan_a")
    assert view is not None
    assert view.record.error == "its strategy jobs could not be queued"
    assert all(s.status is StrategyStatus.FAILED for s in view.strategies.values())
    again = await store.fail_scan("scan_a", "again")
    assert again is not None and not again.changed
    assert await store.fail_scan("scan_unknown", "x") is None


async def test_listing_finishes_overdue_scans_too(store: ScanStore) -> None:
    await make_scan(store, deadline=0.2)
    await asyncio.sleep(0.3)
    [listed] = await store.list_user_scans("alice", 10, None)
    assert listed.status is ScanStatus.PARTIAL


async def test_the_best_ten_are_kept_in_rank_order(store: ScanStore) -> None:
    await make_scan(store)
    await store.complete_strategy("scan_a", "s1", done(*(opp(f"a{i}", "s1", i) for i in range(8))))
    await store.complete_strategy(
        "scan_a", "s2", done(*(opp(f"b{i}", "s2", i + 0.5) for i in range(8)))
    )
    view = await store.get_view("scan_a")
    assert view is not None
    assert [o.opportunity_id for o in view.top] == [
        "b7",
        "a7",
        "b6",
        "a6",
        "b5",
        "a5",
        "b4",
        "a4",
        "b3",
        "a3",
    ]
    everything = await store.get_view("scan_a", all_results=True)
    assert everything is not None and len(everything.top) == 16


@pytest.mark.parametrize(
    "bad",
    [
        {"profit_potential_usd": float("inf")},  # a finite score, a number JSON cannot carry
        {"net_edge_bps": float("nan")},  # the score itself is not a number
        {"confidence_score": float("-inf")},
    ],
)
async def test_a_completion_with_a_non_finite_number_writes_nothing(
    store: ScanStore, bad: dict[str, float]
) -> None:
    await make_scan(store)
    await store.start_strategy("scan_a", "s1")
    before = await store.get_view("scan_a", all_results=True)
    poisoned = opp("o2", "s1", 20).model_copy(update=bad)  # made without validation
    with pytest.raises(InvalidCompletion, match=r"^invalid completion: result 2: .* finite number"):
        await store.complete_strategy("scan_a", "s1", done(opp("o1", "s1", 10), poisoned))
    after = await store.get_view("scan_a", all_results=True)
    assert before is not None and after is not None
    assert after.record == before.record  # not a field, not the version, changed
    assert after.strategies == before.strategies
    assert after.top_json == "[]"
    # The strategy can still complete, and then its counts and results agree.
    applied = await store.complete_strategy("scan_a", "s1", done(opp("o1", "s1", 10)))
    assert applied is not None and applied.changed
    view = await store.get_view("scan_a", all_results=True)
    assert view is not None
    assert view.record.opportunities_found == len(view.top) == view.strategies["s1"].opportunities
