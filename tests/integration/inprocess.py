"""The engine in this process: an API-side container plus SAQ workers, and a pinned market.

Every container is built by ``bootstrap`` with the test's parts passed in; nothing here replaces
a module global.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from prometheus_client import CollectorRegistry

from oppscan.bootstrap import Container, bootstrap, build_market, build_worker
from oppscan.market.port import MarketData, MarketSource
from oppscan.market.shared import SharedMarketData
from oppscan.market.snapshot import MarketSnapshot
from oppscan.settings import Settings
from tests.integration.processes import purge

Build = Callable[[], Container]


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    workers: int = 1,
    concurrency: int = 2,
    build: Build | None = None,
) -> AsyncIterator[Container]:
    """A started container; with Redis, ``workers`` SAQ workers beside it, each with a container
    of its own, as separate processes would have. ``build`` makes each container (default:
    ``bootstrap(settings)``). Redis keys of the prefix are purged after."""
    make = build or (lambda: bootstrap(settings))
    container = make()
    await container.start()
    saq_workers = (
        [build_worker(make(), concurrency=concurrency) for _ in range(workers)]
        if settings.redis_url
        else []
    )
    tasks = [asyncio.create_task(w.start()) for w in saq_workers]
    try:
        yield container
    finally:
        for w in saq_workers:
            await w.stop()
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await container.close()
        if settings.redis_url:
            purge(settings.redis_url, settings.key_prefix)


class PinnedMarket:
    """A ``MarketData`` that serves one moment, whatever moment a scan asks for.

    The synthetic market is a function of the minute, so a pinned moment makes a test's market
    (and its planted ground truth) one known market. ``shared`` is the real cache underneath.
    """

    def __init__(self, shared: SharedMarketData, at_seconds: float) -> None:
        self.shared = shared
        self._at = at_seconds

    def universe(self) -> tuple[str, ...]:
        return self.shared.universe()

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        return await self.shared.snapshot(force_refresh, at=self._at)

    async def close(self) -> None:
        await self.shared.close()


def pinned(
    settings: Settings,
    at_seconds: float,
    source: Callable[[], MarketSource] | None = None,
    built: list[Container] | None = None,
) -> Build:
    """Builds containers whose market is pinned to ``at_seconds`` (over a new ``source()`` each
    when given, else the configured source), appending each container to ``built``."""

    def make() -> Container:
        registry = CollectorRegistry(auto_describe=True)
        shared = build_market(settings, source=source() if source else None, registry=registry)
        market: MarketData = PinnedMarket(shared, at_seconds)
        container = bootstrap(settings, market=market, registry=registry)
        if built is not None:
            built.append(container)
        return container

    return make
