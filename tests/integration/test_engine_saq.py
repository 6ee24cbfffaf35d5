"""The engine against a real Redis: SAQ workers in this process, the store as the only truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from oppscan.bootstrap import Container, bootstrap
from oppscan.domain.models import ScanStatus, ScanView, StrategyStatus
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import NO_WORKER
from oppscan.settings import Settings
from tests.conftest import TEST_REDIS_URL
from tests.integration.inprocess import running
from tests.integration.processes import purge

pytestmark = pytest.mark.redis

SPOT = ["spot_momentum_strategy", "spot_mean_reversion", "spot_breakout_strategy"]
ALICE = Principal("alice", tier="enterprise")


def settings_for(prefix: str, **overrides: object) -> Settings:
    return Settings(redis_url=TEST_REDIS_URL, key_prefix=prefix, **overrides)  # type: ignore[arg-type]


async def until(c: Container, scan_id: str, done: Callable[[ScanView], bool]) -> ScanView:
    async with asyncio.timeout(30):
        while True:
            view = await c.service.status(ALICE, scan_id)
            if done(view):
                return view
            await asyncio.sleep(0.05)


def terminal(view: ScanView) -> bool:
    return view.record.status.terminal


async def test_a_scan_runs_to_complete_over_two_workers(key_prefix: str) -> None:
    async with running(settings_for(key_prefix), workers=2) as c:
        started = await c.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        seen_progress: list[int] = []

        def note_progress(v: ScanView) -> bool:
            seen_progress.append(v.record.strategies_completed)
            return terminal(v)

        view = await until(c, started.record.scan_id, note_progress)
        assert view.record.status is ScanStatus.COMPLETE
        assert all(s.status is StrategyStatus.DONE for s in view.strategies.values())
        assert all(s.attempts == 1 for s in view.strategies.values())
        assert seen_progress == sorted(seen_progress)
        assert view.record.strategies_completed == 3


async def test_enqueueing_a_scan_twice_runs_each_strategy_once(key_prefix: str) -> None:
    async with running(settings_for(key_prefix)) as c:
        started = await c.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        record = started.record
        # A second enqueue of the same scan (a retried request, say) adds no job.
        await c.queue.enqueue_strategies(
            record.scan_id, record.request.strategy_ids, record.deadline_at
        )
        view = await until(c, record.scan_id, terminal)
        assert view.record.status is ScanStatus.COMPLETE
        assert [s.attempts for s in view.strategies.values()] == [1, 1, 1]


async def test_cancel_stops_the_remaining_strategies(key_prefix: str) -> None:
    slow = settings_for(key_prefix, synthetic_latency_ms=1500)
    async with running(slow) as c:
        started = await c.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        view = await c.service.cancel(ALICE, started.record.scan_id)
        assert view.record.status is ScanStatus.CANCELLED
        await asyncio.sleep(2.5)  # long enough for any job that was already running to end
        after = await c.service.status(ALICE, started.record.scan_id)
        assert after.record.status is ScanStatus.CANCELLED
        assert all(s.status is StrategyStatus.CANCELLED for s in after.strategies.values())


async def test_a_scan_with_no_worker_ends_partial_at_its_deadline(key_prefix: str) -> None:
    settings = settings_for(key_prefix, scan_deadline_seconds=1.0)
    container = bootstrap(settings)
    await container.start()
    try:
        started = await container.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        waiting = await container.service.status(ALICE, started.record.scan_id)
        assert waiting.record.status is ScanStatus.QUEUED
        assert waiting.notice == NO_WORKER  # the status says why nothing happens
        await asyncio.sleep(1.2)
        view = await container.service.status(ALICE, started.record.scan_id)
        assert view.notice is None  # terminal: nothing waits any more
        assert view.record.status is ScanStatus.PARTIAL
        assert all(s.status is StrategyStatus.TIMED_OUT for s in view.strategies.values())
        assert view.record.error
    finally:
        await container.close()
        purge(TEST_REDIS_URL, key_prefix)


async def test_an_unpolled_overdue_scan_is_finished_by_a_worker_sweep(key_prefix: str) -> None:
    settings = settings_for(key_prefix, scan_deadline_seconds=1.0)
    api = bootstrap(settings)
    await api.start()
    started = await api.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
    await api.close()
    # No one polls; the first worker to start sweeps the overdue scan (its jobs find it terminal).
    await asyncio.sleep(1.2)
    async with running(settings) as c:
        await asyncio.sleep(3)
        listed = await c.store.list_user_scans("alice", 10, None)
        assert [r.status for r in listed] == [ScanStatus.PARTIAL]
        assert listed[0].scan_id == started.record.scan_id


@pytest.mark.parametrize("reads", [20])
async def test_polls_during_a_scan_never_miss_it(key_prefix: str, reads: int) -> None:
    async with running(settings_for(key_prefix)) as c:
        started = await c.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        views = await asyncio.gather(
            *(c.service.status(ALICE, started.record.scan_id) for _ in range(reads))
        )
        assert all(v.record.scan_id == started.record.scan_id for v in views)
        await until(c, started.record.scan_id, terminal)


async def test_live_workers_are_counted_while_they_run(key_prefix: str) -> None:
    settings = settings_for(key_prefix)
    async with running(settings, workers=2) as c:
        await workers_become(c, 2)
        started = await c.service.start(ALICE, DiscoverInput(strategy_ids=SPOT))
        view = await c.service.status(ALICE, started.record.scan_id)
        assert view.notice is None
    # Stopped workers drop out once their info expires (WORKER_INFO_SECONDS + 1).
    after = bootstrap(settings)
    await after.start()
    try:
        await workers_become(after, 0)
    finally:
        await after.close()
        purge(TEST_REDIS_URL, key_prefix)


async def workers_become(c: Container, count: int) -> None:
    async with asyncio.timeout(10):
        while True:
            if await c.service.live_workers() == count:
                return
            await asyncio.sleep(0.1)
