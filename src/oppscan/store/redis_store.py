"""The Redis store: the shared truth for any number of API and worker processes.

Keys (``P`` is the key prefix):
- ``P:scan:{scan_id}`` (hash: the record's fields, each strategy's ``<id>.s|n|ms|e|a`` fields, and
  ``top``, the best ten results as one JSON array) and ``P:scan:{scan_id}:res`` (sorted set of
  opportunity JSON by rank score): one scan, one cluster slot, changed by one script at a time,
  expiring together. A status poll is one ``HGETALL``.
- ``P:user:{user_id}:scans`` (sorted set of scan ids by creation time): the user's list.
- ``P:user:{user_id}:fp:<fingerprint>`` (string, SET NX): reuse of identical requests.
- ``P:user:{user_id}:starts:<window>`` (counter) and ``P:user:{user_id}:starting:<fingerprint>``
  (a request's mark while it starts that scan): the rate limit.
- ``P:active`` (sorted set of running scan ids by deadline): how workers find overdue scans.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import (
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from oppscan.domain.errors import InvalidCompletion, StoreUnavailable
from oppscan.domain.models import (
    ScanRecord,
    ScanStatus,
    ScanView,
    StrategyOutcome,
    StrategyStatus,
)
from oppscan.store import redis_scripts
from oppscan.store.lifecycle import seconds_to_next_window, window_of
from oppscan.store.port import Applied, StartQuota
from oppscan.store.redis_fields import read_record, read_strategies

# Redis cannot serve now (down, loading, read-only replica after a failover, out of memory, a
# cluster slot moving): the caller answers 503, never a 500 and never "not found".
_UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    TryAgainError,
    ClusterDownError,
    OSError,
)

# What FINISH_IF_OVERDUE answers (see redis_scripts).
OVERDUE_FINISHED_NOW, OVERDUE_RUNS_ON = 1, 0
# How long a request's mark on the fingerprint it is starting lives if the request dies.
STARTING_MARK_MS = 10_000


@asynccontextmanager
async def reachable() -> AsyncIterator[None]:
    """Redis failing to serve, as the domain names it: ``StoreUnavailable``, worth retrying."""
    try:
        yield
    except _UNAVAILABLE as exc:
        # The detail is for the log line (redis-py's repr of an error drops its message).
        raise StoreUnavailable(f"redis unavailable: {type(exc).__name__}: {exc}") from exc


def connect(url: str, *, decode_responses: bool = True) -> aioredis.Redis:
    """A client with the timeouts every oppscan connection uses; ``decode_responses=False`` for
    binary values (encoded market snapshots)."""
    return aioredis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=15,
    )


class RedisScanStore:
    def __init__(self, redis: aioredis.Redis, *, prefix: str, result_ttl_seconds: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = result_ttl_seconds
        self._finish_if_overdue = redis.register_script(redis_scripts.FINISH_IF_OVERDUE)
        self._start = redis.register_script(redis_scripts.START)
        self._complete = redis.register_script(redis_scripts.COMPLETE)
        self._end = redis.register_script(redis_scripts.END)
        self._replace_fp = redis.register_script(redis_scripts.REPLACE_FINGERPRINT)
        self._take_start = redis.register_script(redis_scripts.TAKE_START)
        self._settle_start = redis.register_script(redis_scripts.SETTLE_START)

    # -- keys -------------------------------------------------------------------------------

    def scan_keys(self, scan_id: str) -> list[str]:
        """The scan's hash and its results: every script takes both (KEYS[1], KEYS[2])."""
        scan = f"{self._prefix}:scan:{{{scan_id}}}"
        return [scan, f"{scan}:res"]

    def _user_key(self, user_id: str, *rest: str) -> str:
        return ":".join((f"{self._prefix}:user:{{{user_id}}}", *rest))

    @property
    def _active_key(self) -> str:
        return f"{self._prefix}:active"

    # -- basics -----------------------------------------------------------------------------

    async def ping(self) -> None:
        async with reachable():
            await self._redis.ping()  # type: ignore[misc]  # redis-py types sync|async as one

    async def now(self) -> float:
        async with reachable():
            seconds, micros = await self._redis.time()
        return float(seconds) + float(micros) / 1e6

    async def close(self) -> None:
        await self._redis.aclose()

    # -- create -----------------------------------------------------------------------------

    async def create_scan(self, record: ScanRecord) -> None:
        scan, _ = self.scan_keys(record.scan_id)
        ids = record.request.strategy_ids
        fields: dict[str, Any] = {
            "scan_id": record.scan_id,
            "user_id": record.user_id,
            "fingerprint": record.fingerprint,
            "request": record.request.model_dump_json(),
            "status": record.status.value,
            "strategies": ",".join(ids),
            "total": len(ids),
            "strategies_completed": 0,
            "opportunities_found": 0,
            "created_at": f"{record.created_at:.6f}",
            "updated_at": f"{record.updated_at:.6f}",
            "deadline_at": f"{record.deadline_at:.6f}",
            "version": 0,
            "top": "[]",
            **{f"{sid}.s": StrategyStatus.QUEUED.value for sid in ids},
        }
        expire_at = int(record.deadline_at + self._ttl) + 1
        async with reachable():
            async with self._redis.pipeline(transaction=True) as tx:
                tx.hset(scan, mapping=fields)
                tx.expireat(scan, expire_at)
                await tx.execute()
            # Indexes live in other slots; they follow the record, never precede it.
            scans = self._user_key(record.user_id, "scans")
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(scans, {record.scan_id: record.created_at})
                pipe.zremrangebyscore(scans, "-inf", record.created_at - self._ttl - 86_400)
                pipe.expireat(scans, expire_at)
                pipe.zadd(self._active_key, {record.scan_id: record.deadline_at})
                await pipe.execute()

    async def delete_scan(self, scan_id: str, user_id: str) -> None:
        async with reachable(), self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(*self.scan_keys(scan_id))
            pipe.zrem(self._user_key(user_id, "scans"), scan_id)
            pipe.zrem(self._active_key, scan_id)
            await pipe.execute()

    # -- fingerprints -----------------------------------------------------------------------

    async def claim_fingerprint(
        self, user_id: str, fingerprint: str, scan_id: str, ttl_seconds: int
    ) -> str | None:
        async with reachable():
            previous: str | None = await self._redis.set(
                self._user_key(user_id, "fp", fingerprint),
                scan_id,
                nx=True,
                get=True,
                ex=ttl_seconds,
            )
        return previous

    async def fingerprint_owner(self, user_id: str, fingerprint: str) -> str | None:
        async with reachable():
            owner: str | None = await self._redis.get(self._user_key(user_id, "fp", fingerprint))
        return owner

    async def replace_fingerprint(
        self, user_id: str, fingerprint: str, old_scan_id: str, new_scan_id: str, ttl_seconds: int
    ) -> bool:
        key = self._user_key(user_id, "fp", fingerprint)
        async with reachable():
            done = await self._replace_fp(keys=[key], args=[old_scan_id, new_scan_id, ttl_seconds])
        return bool(done)

    # -- reads ------------------------------------------------------------------------------

    async def get_view(self, scan_id: str, all_results: bool = False) -> ScanView | None:
        view = await self._read(scan_id, all_results)
        # This process's clock only decides whether to ask; the script decides by Redis's own
        # (a reader whose clock lags leaves it to the workers' overdue sweep, every 2 s).
        if view is None or view.record.status.terminal or time.time() < view.record.deadline_at:
            return view
        outcome = await self._finish_when_overdue(scan_id)
        return view if outcome == OVERDUE_RUNS_ON else await self._read(scan_id, all_results)

    async def _finish_when_overdue(self, scan_id: str) -> int:
        async with reachable():
            outcome: int = await self._finish_if_overdue(
                keys=self.scan_keys(scan_id), args=[self._ttl]
            )
        return outcome

    async def _read(self, scan_id: str, all_results: bool) -> ScanView | None:
        """The status poll's hot path: one ``HGETALL`` of the scan's hash, answered natively.

        The hash holds the record, every strategy's state and the best ten results, all changed
        together by the scripts, so one command reads one consistent moment. Every result (for
        ``/results``) comes from the sorted set in the same ``MULTI``.
        """
        scan, results = self.scan_keys(scan_id)
        async with reachable():
            if all_results:
                async with self._redis.pipeline(transaction=True) as tx:
                    tx.hgetall(scan)
                    tx.zrevrange(results, 0, -1)
                    fields, everything = await tx.execute()
                top = "[" + ",".join(everything) + "]"
            else:
                fields = await self._redis.hgetall(scan)  # type: ignore[misc]
                top = fields.get("top", "[]") if fields else "[]"
        if not fields:
            return None
        record = read_record(fields)
        return ScanView(
            record=record,
            strategies=read_strategies(record.request.strategy_ids, fields),
            top_json=top,
        )

    async def list_user_scans(
        self, user_id: str, limit: int, before: float | None
    ) -> list[ScanRecord]:
        upper = f"({before}" if before is not None else "+inf"
        scans_key = self._user_key(user_id, "scans")
        async with reachable():
            ids = await self._redis.zrevrangebyscore(scans_key, upper, "-inf", start=0, num=limit)
            if not ids:
                return []
            async with self._redis.pipeline(transaction=False) as pipe:
                for scan_id in ids:
                    pipe.hgetall(self.scan_keys(scan_id)[0])
                rows = await pipe.execute()
        records = [read_record(row) for row in rows if row]
        # Any reader finishes an overdue scan, a list as much as a poll.
        now = time.time()
        for i, record in enumerate(records):
            if not record.status.terminal and now >= record.deadline_at:
                view = await self.get_view(record.scan_id)
                if view is not None:
                    records[i] = view.record
        return records

    # -- changes ----------------------------------------------------------------------------

    async def start_strategy(self, scan_id: str, strategy_id: str) -> int | None:
        async with reachable():
            attempt = await self._start(keys=self.scan_keys(scan_id), args=[self._ttl, strategy_id])
        return int(attempt) if attempt else None

    async def complete_strategy(
        self, scan_id: str, strategy_id: str, outcome: StrategyOutcome
    ) -> Applied | None:
        args: list[Any] = [
            self._ttl,
            strategy_id,
            outcome.status.value,
            len(outcome.opportunities),
            outcome.duration_ms,
            outcome.error or "",
        ]
        for opp in outcome.opportunities:
            args += [opp.rank_score, opp.model_dump_json()]
        # The script checks every score and payload before its first write (no Python check
        # here: the script is what every process, of any version, goes through).
        try:
            async with reachable():
                raw = await self._complete(keys=self.scan_keys(scan_id), args=args)
        except ResponseError as exc:
            if str(exc).startswith("invalid completion: "):
                raise InvalidCompletion(str(exc)) from None
            raise
        return await self._applied(scan_id, raw)

    async def cancel_scan(self, scan_id: str) -> Applied | None:
        return await self._end_now(scan_id, StrategyStatus.CANCELLED, ScanStatus.CANCELLED, "")

    async def fail_scan(self, scan_id: str, error: str) -> Applied | None:
        return await self._end_now(scan_id, StrategyStatus.FAILED, ScanStatus.FAILED, error)

    async def _end_now(
        self, scan_id: str, unfinished: StrategyStatus, status: ScanStatus, error: str
    ) -> Applied | None:
        args = [self._ttl, unfinished.value, status.value, error]
        async with reachable():
            raw = await self._end(keys=self.scan_keys(scan_id), args=args)
        return await self._applied(scan_id, raw)

    async def _applied(self, scan_id: str, raw: Any) -> Applied | None:
        if not raw:
            return None
        applied = Applied(ScanStatus(raw[0]), bool(int(raw[1])), raw[2])
        if applied.status.terminal:
            async with reachable():
                await self._redis.zrem(self._active_key, scan_id)
        return applied

    async def finish_overdue(self, limit: int = 100) -> list[str]:
        now = await self.now()
        async with reachable():
            due = await self._redis.zrangebyscore(self._active_key, "-inf", now, start=0, num=limit)
        finished = []
        for scan_id in due:
            outcome = await self._finish_when_overdue(scan_id)
            if outcome != OVERDUE_RUNS_ON:  # finished now, before, or gone: no longer due
                async with reachable():
                    await self._redis.zrem(self._active_key, scan_id)
            if outcome == OVERDUE_FINISHED_NOW:
                finished.append(scan_id)
        return finished

    def _start_keys(self, user_id: str, window: int, fingerprint: str) -> list[str]:
        return [
            self._user_key(user_id, "starts", str(window)),
            self._user_key(user_id, "starting", fingerprint),
        ]

    async def take_start(
        self, user_id: str, fingerprint: str, limit: int, window_seconds: int
    ) -> StartQuota:
        now = await self.now()
        window = window_of(now, window_seconds)
        token = uuid.uuid4().hex
        args: list[int | str] = [limit, window_seconds * 2, STARTING_MARK_MS, token]
        async with reachable():
            raw = await self._take_start(
                keys=self._start_keys(user_id, window, fingerprint), args=args
            )
        allowed, count, pending = (int(x) for x in raw)
        return StartQuota(
            allowed=bool(allowed),
            count=count,
            retry_after=0 if allowed else seconds_to_next_window(now, window_seconds),
            window=window,
            fingerprint=fingerprint,
            token=token if allowed else "",
            identical_pending=bool(pending),
        )

    async def settle_start(self, user_id: str, quota: StartQuota, started: bool) -> None:
        if not quota.allowed:
            return
        keys = self._start_keys(user_id, quota.window, quota.fingerprint)
        async with reachable():
            await self._settle_start(keys=keys, args=[quota.token, int(started)])
