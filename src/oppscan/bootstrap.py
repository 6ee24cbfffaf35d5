"""The composition root: the one place that builds oppscan's concrete parts from settings.

Nothing is built at import time. Every part can be passed in instead (as cosmicpython's
``bootstrap`` does), so a test builds the API, a worker or the CLI's scan with its fakes in one
call, without touching a module global::

    container = bootstrap(settings, source=PinnedSource(...), clock=lambda: 1_767_268_800.0)
    app = create_app(settings, build=lambda: bootstrap(settings, store=broken_store))
    worker = build_worker(bootstrap(settings, market=pinned_market), concurrency=2)

Only the entrypoints (``oppscan.cli``, uvicorn through ``web_app``) call it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from saq import Worker

from oppscan.api.app import create_app
from oppscan.engine.local import LocalJobQueue
from oppscan.engine.saq_queue import SaqJobQueue, saq_queue
from oppscan.engine.saq_worker import saq_worker
from oppscan.market.port import MarketData, MarketSource
from oppscan.market.shared import MarketMetrics, SharedMarketData
from oppscan.market.sources import build_source
from oppscan.service.ports import JobQueue
from oppscan.service.runner import StrategyRunner
from oppscan.service.scans import ScanService
from oppscan.settings import Settings
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.store.port import ScanStore
from oppscan.store.redis_snapshots import RedisSnapshotBlobs
from oppscan.store.redis_store import RedisScanStore, connect
from oppscan.strategies.base import Strategy
from oppscan.strategies.registry import load_strategies, preload

Clock = Callable[[], float]  # epoch seconds


@dataclass
class Container:
    """Every part one process uses. ``registry`` holds the parts' Prometheus metrics."""

    settings: Settings
    store: ScanStore
    market: MarketData
    strategies: dict[str, Strategy]
    runner: StrategyRunner
    queue: JobQueue
    service: ScanService
    registry: CollectorRegistry

    async def start(self) -> None:
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()
        await self.market.close()
        await self.store.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    store: ScanStore | None = None,
    queue: JobQueue | None = None,
    market: MarketData | None = None,
    source: MarketSource | None = None,
    clock: Clock | None = None,
    strategies: Mapping[str, Strategy] | None = None,
    registry: CollectorRegistry | None = None,
) -> Container:
    """The parts for ``settings`` (default: the ``OPPSCAN_*`` environment); any part given is
    used as it is.

    With ``OPPSCAN_REDIS_URL`` the store, the job queue and the market cache's shared blobs are
    on Redis; without it, in this process. ``clock`` is the clock of the parts this process
    keeps time with (the in-process store, the market's buckets); the Redis store keeps Redis's.
    ``source`` is the market source under the shared cache (ignored when ``market`` is given).
    """
    settings = settings or Settings()
    clock = clock or time.time
    registry = registry or CollectorRegistry(auto_describe=True)
    if strategies is not None:
        catalog = dict(strategies)
    else:
        catalog = load_strategies()
        preload()  # this process runs scans: its first must not wait for scipy's imports
    if store is None:
        store = _build_store(settings, clock)
    if market is None:
        market = build_market(settings, source=source, clock=clock, registry=registry)
    runner = StrategyRunner(store, market, catalog)
    if queue is None:
        queue = (
            SaqJobQueue(saq_queue(settings.redis_url, settings.key_prefix))
            if settings.redis_url
            else LocalJobQueue(runner, store, settings.worker_concurrency)
        )
    service = ScanService(settings, store, queue, market, catalog)
    return Container(settings, store, market, catalog, runner, queue, service, registry)


def _build_store(settings: Settings, clock: Clock) -> ScanStore:
    if settings.redis_url:
        return RedisScanStore(
            connect(settings.redis_url),
            prefix=settings.key_prefix,
            result_ttl_seconds=settings.result_ttl_seconds,
        )
    return InMemoryScanStore(result_ttl_seconds=settings.result_ttl_seconds, clock=clock)


def build_market(
    settings: Settings,
    *,
    source: MarketSource | None = None,
    clock: Clock = time.time,
    registry: CollectorRegistry | None = None,
) -> SharedMarketData:
    """The market every scan of this process reads: ``source`` (default: the configured one)
    fetched once per bucket, shared through Redis with every other process when there is one."""
    blobs = (
        RedisSnapshotBlobs(
            connect(settings.redis_url, decode_responses=False), prefix=settings.key_prefix
        )
        if settings.redis_url
        else None
    )
    return SharedMarketData(
        source if source is not None else build_source(settings),
        bucket_seconds=settings.market_bucket_seconds,
        blobs=blobs,
        metrics=MarketMetrics(registry) if registry is not None else None,
        clock=clock,
    )


def build_worker(container: Container, concurrency: int) -> Worker[Any]:
    """A SAQ worker running ``container``'s strategy jobs; it closes the container when it
    stops."""
    settings = container.settings
    if not settings.redis_url:
        raise ValueError("a worker needs OPPSCAN_REDIS_URL: there is no queue without Redis")
    return saq_worker(
        saq_queue(settings.redis_url, settings.key_prefix),
        container.runner,
        container.store,
        concurrency=concurrency,
        on_shutdown=container.close,
    )


def web_app(settings: Settings | None = None) -> FastAPI:
    """The API app, for uvicorn's ``--factory`` (``oppscan serve``): its container is built
    when the app starts and closed when it stops."""
    settings = settings or Settings()
    problem = settings.jwt_secret_problem()
    if problem is not None and not settings.embedded:
        # `oppscan serve` refuses first; this stops an API process started any other way.
        raise RuntimeError(problem)
    return create_app(settings, build=lambda: bootstrap(settings))
