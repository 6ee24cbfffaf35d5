"""One fetch for everyone: a snapshot per (source, universe, time bucket), shared by every scan.

In one process, snapshots are cached by key (they are immutable) and concurrent callers share one
in-flight fetch. Across processes (``blobs`` given: the ``SnapshotBlobs`` port, on Redis in
production), the first to take the key's lock fetches, encodes and stores the snapshot; the
others poll for the bytes and decode them. The lock has a TTL the holder keeps extending while it
fetches, so a holder that dies is replaced within ``lock_ttl_seconds``.

``force_refresh`` fetches a new snapshot now under a new key suffix (one per second, so
concurrent refreshes still share one fetch) and makes it the bucket's current snapshot: later
calls in this bucket, in any process, get it (the blobs keep a pointer to it).

A source that fails raises ``MarketDataUnavailable`` naming it (or the exchange that failed); the
blobs' store failing to serve raises their ``StoreUnavailable`` as it is, a blip to retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from oppscan.domain.errors import MarketDataUnavailable
from oppscan.logs import get_logger
from oppscan.market.buckets import bucket_number, bucket_start_ms
from oppscan.market.codec import decode_snapshot, encode_snapshot
from oppscan.market.port import MarketSource, SnapshotBlobs
from oppscan.market.snapshot import MarketSnapshot

log = get_logger(__name__)


class MarketMetrics:
    """The market cache's counters, registered in the registry ``/metrics`` serves."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.fetches = Counter(
            "oppscan_market_fetches_total",
            "Snapshots fetched from a market source",
            ["source"],
            registry=registry,
        )
        self.lookups = Counter(
            "oppscan_market_snapshot_lookups_total",
            "Snapshot requests, by where the snapshot came from",
            ["outcome"],  # memory | shared | fetched
            registry=registry,
        )


class SharedMarketData:
    """``MarketData`` over a ``MarketSource``, fetched once per time bucket for everyone.

    Without ``blobs`` the sharing stops at this process (the embedded mode). Without
    ``metrics`` the counters go to a registry of this object's own.
    """

    def __init__(
        self,
        source: MarketSource,
        *,
        bucket_seconds: float,
        blobs: SnapshotBlobs | None = None,
        metrics: MarketMetrics | None = None,
        lock_ttl_seconds: float = 10.0,
        wait_timeout_seconds: float = 120.0,
        poll_seconds: float = 0.05,
        memory_slots: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if bucket_seconds <= 0:
            raise ValueError("bucket_seconds must be positive")
        self._source = source
        self._bucket_seconds = bucket_seconds
        self._blobs = blobs
        self._metrics = metrics or MarketMetrics(CollectorRegistry(auto_describe=True))
        self._lock_ttl_ms = int(lock_ttl_seconds * 1000)
        self._wait_timeout = wait_timeout_seconds
        self._poll = poll_seconds
        self._memory_slots = memory_slots
        self._clock = clock
        self._cache: OrderedDict[str, MarketSnapshot] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[MarketSnapshot]] = {}
        self._current: dict[str, str] = {}  # bucket key -> the refreshed key that replaced it
        universe = "\n".join(source.universe()).encode()
        self._universe_hash = hashlib.blake2b(universe, digest_size=6).hexdigest()
        self.fetches = 0

    def universe(self) -> tuple[str, ...]:
        return self._source.universe()

    def bucket_key(self, now: float | None = None) -> str:
        """The cache key of the bucket ``now`` falls in: source, universe hash, bucket number."""
        moment = self._clock() if now is None else now
        bucket = bucket_number(moment, self._bucket_seconds)
        return f"{self._source.name}:{self._universe_hash}:{bucket}"

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        """The snapshot of the bucket ``at`` (default: now) falls in; ``force_refresh`` fetches a
        new one for that moment, shared by every caller that asks for the same moment."""
        now = self._clock() if at is None else at
        bucket_key = self.bucket_key(now)
        if force_refresh:
            key = f"{bucket_key}:r{int(now)}"
            snapshot = await self._get(key, int(now * 1000))
            await self._make_current(bucket_key, key)
            return snapshot
        key = await self._resolve(bucket_key)
        return await self._get(key, bucket_start_ms(now, self._bucket_seconds))

    async def close(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        if self._blobs is not None:
            await self._blobs.close()
        await self._source.close()

    async def _resolve(self, bucket_key: str) -> str:
        """The key of the bucket's current snapshot: a refreshed one if anyone refreshed it."""
        if self._blobs is not None:
            pointer = await self._blobs.get(_pointer(bucket_key))
            if pointer is not None:
                return pointer.decode()
        return self._current.get(bucket_key, bucket_key)

    async def _make_current(self, bucket_key: str, key: str) -> None:
        # Only the present bucket can still be asked for: forget the pointers of older ones.
        self._current = {bucket_key: key}
        if self._blobs is not None:
            await self._blobs.put(_pointer(bucket_key), key.encode(), self._data_ttl_ms())

    async def _get(self, key: str, as_of_ms: int) -> MarketSnapshot:
        cached = self._cache.get(key)
        if cached is not None:
            self._metrics.lookups.labels(outcome="memory").inc()
            return cached
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._load(key, as_of_ms))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # shield: one caller being cancelled must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def _settle(self, key: str, task: asyncio.Task[MarketSnapshot]) -> None:
        self._inflight.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return  # exception() marks it retrieved; the waiters get it through the shield
        self._cache[key] = task.result()
        self._cache.move_to_end(key)
        while len(self._cache) > self._memory_slots:
            self._cache.popitem(last=False)

    async def _load(self, key: str, as_of_ms: int) -> MarketSnapshot:
        if self._blobs is None:
            return await self._fetch(key, as_of_ms)
        blobs = self._blobs
        deadline = time.monotonic() + self._wait_timeout
        while True:
            blob = await blobs.get(key)
            if blob is not None:
                self._metrics.lookups.labels(outcome="shared").inc()
                return await asyncio.to_thread(decode_snapshot, blob)
            token = uuid.uuid4().hex
            if await blobs.try_lock(key, token, self._lock_ttl_ms):
                keeper = asyncio.create_task(self._keep_lock(key, token))
                try:
                    # A hung source must not hold the lock (extended by the keeper) forever.
                    async with asyncio.timeout(self._wait_timeout):
                        snapshot = await self._fetch(key, as_of_ms)
                    data = await asyncio.to_thread(encode_snapshot, snapshot)
                    await blobs.put(key, data, self._data_ttl_ms())
                    log.info("market_snapshot_stored", key=key, bytes=len(data))
                    return snapshot
                finally:
                    keeper.cancel()
                    await blobs.release_lock(key, token)
            if time.monotonic() > deadline:
                raise MarketDataUnavailable(
                    f"no market snapshot for {key} within {self._wait_timeout:.0f}s "
                    "(another process holds the fetch lock)",
                    source=self._source.name,
                )
            await asyncio.sleep(self._poll)

    async def _fetch(self, key: str, as_of_ms: int) -> MarketSnapshot:
        started = time.perf_counter()
        try:
            snapshot = await self._source.fetch(as_of_ms)
        except MarketDataUnavailable:
            raise
        except Exception as exc:
            name = self._source.name
            raise MarketDataUnavailable(
                f"{name}: {type(exc).__name__}: {exc}", source=name
            ) from exc
        self.fetches += 1
        self._metrics.fetches.labels(source=self._source.name).inc()
        self._metrics.lookups.labels(outcome="fetched").inc()
        log.info(
            "market_snapshot_fetched",
            key=key,
            source=self._source.name,
            symbols=len(snapshot.symbols),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return snapshot

    async def _keep_lock(self, key: str, token: str) -> None:
        assert self._blobs is not None
        while True:
            await asyncio.sleep(self._lock_ttl_ms / 3000)
            try:
                await self._blobs.extend_lock(key, token, self._lock_ttl_ms)
            except Exception as exc:
                # Keep trying: a keeper that died on one blip would let another process fetch
                # the same bucket again once the lock lapsed.
                log.warning("market_lock_extend", key=key, outcome="failed", reason=repr(exc))

    def _data_ttl_ms(self) -> int:
        # A few buckets: late readers of a bucket still find it, and old buckets go away.
        return int(max(3 * self._bucket_seconds, 30.0) * 1000)


def _pointer(bucket_key: str) -> str:
    """Where the key of a bucket's refreshed snapshot is kept."""
    return f"{bucket_key}:current"
