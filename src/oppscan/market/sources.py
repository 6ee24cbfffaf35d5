"""Builds the configured market source (and the shared market data over it) from settings."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from oppscan.market.port import MarketSource
from oppscan.market.replay import ReplaySource
from oppscan.market.shared import SharedMarketData
from oppscan.market.synthetic import SyntheticSource
from oppscan.settings import Settings


def build_source(settings: Settings) -> MarketSource:
    """``synthetic`` | ``ccxt`` | a path to a recorded snapshot (``OPPSCAN_MARKET_SOURCE``)."""
    choice = settings.market_source.strip()
    if choice == "synthetic":
        return SyntheticSource(
            seed=settings.synthetic_seed,
            exchanges=tuple(settings.exchanges),
            latency_ms=settings.synthetic_latency_ms,
        )
    if choice == "ccxt":
        from oppscan.market.ccxt_source import CcxtSource  # ccxt is an optional extra

        return CcxtSource(exchanges=tuple(settings.exchanges))
    path = Path(choice).expanduser()
    if path.is_file():
        return ReplaySource(path)
    raise ValueError(
        f"OPPSCAN_MARKET_SOURCE={choice!r}: expected 'synthetic', 'ccxt' or the path of a "
        "recorded snapshot file (no such file)"
    )


def build_market_data(
    settings: Settings, redis: aioredis.Redis | None = None, source: MarketSource | None = None
) -> SharedMarketData:
    """The shared market data every scan reads, over ``source`` (default: the configured one)."""
    return SharedMarketData(
        source if source is not None else build_source(settings),
        bucket_seconds=settings.market_bucket_seconds,
        redis=redis,
        key_prefix=settings.key_prefix,
    )
