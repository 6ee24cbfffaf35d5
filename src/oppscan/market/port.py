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
        """The snapshot for moment ``at`` (epoch seconds; default now), fetched once per bucket.

        Raises ``MarketDataUnavailable`` (its ``source`` names the source or exchange) when none
        can be had, and ``StoreUnavailable`` when the store shared across processes blips.
        """
        ...

    async def close(self) -> None: ...


class SnapshotBlobs(Protocol):
    """Where processes share encoded snapshots, so one of them fetches a bucket for everyone.

    Keys are the cache's own (``source:universe:bucket``); the adapter namespaces them. A lock is
    held by whoever wrote its ``token``: only that holder may extend or release it. An adapter
    whose store cannot serve raises ``StoreUnavailable``.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, data: bytes, ttl_ms: int) -> None: ...

    async def try_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        """Take the key's fetch lock if nobody holds it."""
        ...

    async def extend_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        """Keep holding the lock another ``ttl_ms``; False if it is no longer ours."""
        ...

    async def release_lock(self, key: str, token: str) -> None: ...

    async def close(self) -> None: ...
