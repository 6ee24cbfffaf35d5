"""The start use case against the in-process store, with fakes of the queue and market ports."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from oppscan.domain.errors import StoreUnavailable
from oppscan.domain.models import Opportunity, ScanStatus, StrategyStatus
from oppscan.market.snapshot import MarketSnapshot
from oppscan.service.errors import InvalidRequest, RateLimited
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import NO_WORKER, ScanService
from oppscan.settings import Settings
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.strategies.base import Strategy, StrategyInfo, StrategyRequest
from tests.unit.fakes import RecordingQueue


class Universe:
    def universe(self) -> tuple[str, ...]:
        return ("BTC/USDT", "ETH/USDT")

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        raise AssertionError("start never reads the market")

    async def close(self) -> None:
        return None


class Idle:
    info = StrategyInfo(id="idle", name="idle", description="test", needs=())

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return []


def service(queue: RecordingQueue, per_minute: int = 10) -> tuple[ScanService, InMemoryScanStore]:
    settings = Settings(scans_per_minute={"basic": per_minute})
    store = InMemoryScanStore(result_ttl_seconds=60)
    strategies: dict[str, Strategy] = {"idle": Idle()}
    return ScanService(settings, store, queue, Universe(), strategies), store


ALICE = Principal("alice")


async def test_a_scan_whose_jobs_cannot_be_queued_fails_saying_why() -> None:
    scans, store = service(RecordingQueue(fail=True))
    with pytest.raises(StoreUnavailable):
        await scans.start(ALICE, DiscoverInput())
    [record] = await store.list_user_scans("alice", 10, None)
    assert record.status is ScanStatus.FAILED
    assert record.error is not None and "could not be queued" in record.error
    view = await store.get_view(record.scan_id)
    assert view is not None
    assert view.strategies["idle"].status is StrategyStatus.FAILED


async def test_identical_requests_at_the_limit_reuse_instead_of_429() -> None:
    queue = RecordingQueue()
    scans, _ = service(queue, per_minute=1)
    started = await asyncio.gather(*(scans.start(ALICE, DiscoverInput()) for _ in range(8)))
    assert len({s.record.scan_id for s in started}) == 1
    assert sum(not s.reused for s in started) == 1
    assert len(queue.enqueued) == 1
    with pytest.raises(RateLimited) as limited:
        await scans.start(ALICE, DiscoverInput(capital_usd=5000))
    assert limited.value.retry_after >= 1


async def test_a_cursor_must_be_one_the_api_returned() -> None:
    scans, _ = service(RecordingQueue())
    for cursor in ("nan", "inf", "yesterday"):
        with pytest.raises(InvalidRequest) as caught:
            await scans.list_scans(ALICE, 10, cursor)
        assert caught.value.field == "cursor"


@pytest.mark.parametrize(
    "body",
    [
        {"capital_usd": float("inf")},
        {"min_profit_potential": float("nan")},
        {"portfolio": {"holdings": [{"symbol": "BTC", "quantity": float("inf")}]}},
    ],
)
def test_infinity_and_nan_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DiscoverInput.model_validate(body)


class RefusingQueue(RecordingQueue):
    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6391. Connection refused.")


async def test_a_scan_that_cannot_be_queued_says_so_without_the_queue_address() -> None:
    scans, store = service(RefusingQueue())
    with pytest.raises(StoreUnavailable):
        await scans.start(ALICE, DiscoverInput())
    [record] = await store.list_user_scans("alice", 10, None)
    assert record.error == "its strategy jobs could not be queued: the job queue was unreachable"


@pytest.mark.parametrize(("workers", "notice"), [(0, True), (2, False), (None, False)])
async def test_a_queued_scan_says_when_no_worker_is_alive(
    workers: int | None, notice: bool
) -> None:
    scans, _ = service(RecordingQueue(workers=workers))
    started = await scans.start(ALICE, DiscoverInput())
    view = await scans.status(ALICE, started.record.scan_id)
    assert view.record.status is ScanStatus.QUEUED
    assert (view.notice == NO_WORKER) is notice
    assert (view.notice is None) is not notice
