"""The market cache's shared blobs on Redis (the ``SnapshotBlobs`` port of ``market.port``).

Encoded snapshots are binary, so this adapter is given its own client that does not decode
responses (``connect(url, decode_responses=False)``); it closes that client with itself. Redis
failing to serve raises ``StoreUnavailable``, as the scan store's does: a blip a reader retries.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from oppscan.store.redis_store import reachable

# Compare-and-delete / compare-and-extend: only the holder's token may release or extend a lock.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class RedisSnapshotBlobs:
    def __init__(self, redis: aioredis.Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def data_key(self, key: str) -> str:
        return f"{self._prefix}:market:{key}"

    def lock_key(self, key: str) -> str:
        return f"{self._prefix}:market:{key}:lock"

    async def get(self, key: str) -> bytes | None:
        async with reachable():
            blob = await self._redis.get(self.data_key(key))
        return None if blob is None else bytes(blob)

    async def put(self, key: str, data: bytes, ttl_ms: int) -> None:
        async with reachable():
            await self._redis.set(self.data_key(key), data, px=ttl_ms)

    async def try_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        async with reachable():
            return bool(await self._redis.set(self.lock_key(key), token, nx=True, px=ttl_ms))

    async def extend_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        async with reachable():
            extended = await self._redis.eval(_EXTEND, 1, self.lock_key(key), token, ttl_ms)  # type: ignore[misc]
        return bool(extended)

    async def release_lock(self, key: str, token: str) -> None:
        async with reachable():
            await self._redis.eval(_RELEASE, 1, self.lock_key(key), token)  # type: ignore[misc]

    async def close(self) -> None:
        await self._redis.aclose()
