"""The market-data port: where snapshots come from, and how scans get one."""

from __future__ import annotations

from typing import Protocol

from oppscan.market.snapshot import MarketSnapshot


class MarketSource(Protocol):
    """Builds a whole snapshot of its universe (synthetic, ccxt or a recorded replay)."""

    name: str

    def universe(self) -> tuple[str, ...]:
        """The symbols this source offers ("BTC/USDT", ...), known without fetching."""
        ...

    async def fetch(self, as_of_ms: int) -> MarketSnapshot: ...

    async def close(self) -> None: ...


class MarketData(Protocol):
    """What scans use: the current snapshot, fetched once per time bucket for everyone."""

    def universe(self) -> tuple[str, ...]: ...

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        """The snapshot for moment ``at`` (epoch seconds; default now), fetched once per bucket."""
        ...

    async def close(self) -> None: ...
