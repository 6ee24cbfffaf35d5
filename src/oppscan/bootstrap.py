"""The one place that builds the concrete parts from settings. Nothing is built at import time."""

from __future__ import annotations

from dataclasses import dataclass

from oppscan.engine.local import LocalJobQueue
from oppscan.engine.saq_queue import SaqJobQueue, saq_queue
from oppscan.market.port import MarketData
from oppscan.market.sources import build_market_data
from oppscan.service.runner import StrategyRunner
from oppscan.service.scans import ScanService
from oppscan.settings import Settings
from oppscan.store.memory_store import InMemoryScanStore
from oppscan.store.port import ScanStore
from oppscan.store.redis_store import RedisScanStore, connect
from oppscan.strategies.base import Strategy
from oppscan.strategies.registry import load_strategies


@dataclass
class Container:
    settings: Settings
    store: ScanStore
    market: MarketData
    strategies: dict[str, Strategy]
    runner: StrategyRunner
    queue: LocalJobQueue | SaqJobQueue
    service: ScanService

    async def start(self) -> None:
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()
        await self.market.close()
        await self.store.close()


def build_container(settings: Settings) -> Container:
    strategies = load_strategies()
    store: ScanStore
    queue: LocalJobQueue | SaqJobQueue
    if settings.redis_url:
        client = connect(settings.redis_url)
        store = RedisScanStore(
            client, prefix=settings.key_prefix, result_ttl_seconds=settings.result_ttl_seconds
        )
        # Snapshots are binary: the market keeps (and closes) a bytes sibling of this client.
        market: MarketData = build_market_data(settings, redis=client)
        runner = StrategyRunner(store, market, strategies)
        queue = SaqJobQueue(saq_queue(settings.redis_url, settings.key_prefix))
    else:
        store = InMemoryScanStore(result_ttl_seconds=settings.result_ttl_seconds)
        market = build_market_data(settings)
        runner = StrategyRunner(store, market, strategies)
        queue = LocalJobQueue(runner, store, settings.worker_concurrency)
    service = ScanService(settings, store, queue, market, strategies)
    return Container(settings, store, market, strategies, runner, queue, service)
