"""The engine in this process: an API-side container plus SAQ workers, and a pinned market clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import oppscan.market.sources
from oppscan.bootstrap import Container, build_container
from oppscan.engine.worker import build_worker
from oppscan.market.shared import SharedMarketData
from oppscan.market.snapshot import MarketSnapshot
from oppscan.settings import Settings
from tests.integration.processes import purge


@contextlib.asynccontextmanager
async def running(
    settings: Settings, workers: int = 1, concurrency: int = 2
) -> AsyncIterator[Container]:
    """A started container; with Redis, ``workers`` SAQ workers beside it (each with its own
    container, as separate processes would have). Redis keys of the prefix are purged after."""
    container = build_container(settings)
    await container.start()
    saq_workers = (
        [build_worker(settings, concurrency=concurrency) for _ in range(workers)]
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


def pin_market_clock(monkeypatch: pytest.MonkeyPatch, at_seconds: float) -> list[SharedMarketData]:
    """Every market built from settings from now on serves the moment ``at_seconds``.

    The synthetic market is a function of the minute, so a pinned moment makes a test's market
    (and its planted ground truth) one known market, whatever moment a scan asks for. Returns the
    markets as they are built.
    """
    built: list[SharedMarketData] = []

    class PinnedMarket(SharedMarketData):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, clock=lambda: at_seconds, **kwargs)
            built.append(self)

        async def snapshot(
            self, force_refresh: bool = False, at: float | None = None
        ) -> MarketSnapshot:
            return await super().snapshot(force_refresh, at=at_seconds)

    monkeypatch.setattr(oppscan.market.sources, "SharedMarketData", PinnedMarket)
    return built
