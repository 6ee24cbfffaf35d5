"""Strategy jobs on SAQ over Redis: one job per (scan, strategy), keyed so a repeat is a no-op."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Job
from saq.queue.redis import RedisQueue

from oppscan.logs import get_logger

log = get_logger("oppscan.engine.saq")

JOB_FUNCTION = "run_strategy"
# A job whose worker stops touching it for this long is swept and retried on another worker.
HEARTBEAT_SECONDS = 4
RETRIES = 3
# How often a worker says it is alive (SAQ's worker info, kept one second longer than this).
WORKER_INFO_SECONDS = 2


def job_key(scan_id: str, strategy_id: str) -> str:
    return f"{scan_id}:{strategy_id}"


# How long a sweep waits for a stuck job's worker to acknowledge its abort before retrying it.
SWEEP_ABORT_WAIT_SECONDS = 0.2
# While Redis cannot be reached, a worker's dequeue loop waits this long between attempts,
# doubling from the first to the last: SAQ itself retries at once, about 2,000 times a second.
DEQUEUE_BACKOFF_SECONDS = (0.1, 2.0)


class PatientRedisQueue(RedisQueue):
    """SAQ's Redis queue, whose dequeue backs off while Redis cannot be reached.

    SAQ's worker calls ``dequeue`` in a loop and logs and retries every failure immediately, so
    a Redis outage turned each worker into a busy loop of failed connects. Here a failed dequeue
    waits (exponential backoff, reset by the next success) and answers "no job".
    """

    _backoff = 0.0

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 - SAQ's signature, overridden
        poll_interval: float = 0.0,
    ) -> Job | None:
        try:
            job = await super().dequeue(timeout=timeout, poll_interval=poll_interval)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            first, last = DEQUEUE_BACKOFF_SECONDS
            self._backoff = min(last, max(first, self._backoff * 2))
            log.warning(
                "queue.dequeue",
                outcome="store_unavailable",
                retry_in_s=self._backoff,
                reason=type(exc).__name__,
            )
            await asyncio.sleep(self._backoff)
            return None
        self._backoff = 0.0
        return job

    async def sweep(self, lock: int = 60, abort: float = SWEEP_ABORT_WAIT_SECONDS) -> list[str]:
        # SAQ waits up to ``abort`` seconds (5 by default) for each stuck job's worker to
        # acknowledge an abort, one job after another: a dead worker's N jobs came back one per
        # 5 s. A dead worker never acknowledges, and a job that runs twice is harmless here (the
        # store's start and completion are idempotent), so the wait is short.
        return await super().sweep(lock=lock, abort=abort)

    async def live_workers(self) -> int:
        """Workers whose info has not expired: one ZCOUNT of SAQ's stats set (each worker
        rewrites its entry every WORKER_INFO_SECONDS, valid a second longer). ``info()`` would
        read every worker's record and count three job lists besides."""
        return int(
            await self.redis.zcount(self.namespace("stats"), int(time.time() * 1000), "+inf")
        )


def saq_queue(redis_url: str, key_prefix: str) -> PatientRedisQueue:
    return PatientRedisQueue(aioredis.from_url(redis_url), name=key_prefix)  # as from_url does


class SaqJobQueue:
    def __init__(self, queue: PatientRedisQueue) -> None:
        self._queue = queue

    async def start(self) -> None:
        await self._queue.connect()

    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        timeout = max(1, int(deadline_at - time.time()) + 5)
        jobs = await asyncio.gather(
            *(
                self._queue.enqueue(
                    JOB_FUNCTION,
                    key=job_key(scan_id, sid),
                    scan_id=scan_id,
                    strategy_id=sid,
                    timeout=timeout,
                    heartbeat=HEARTBEAT_SECONDS,
                    retries=RETRIES,
                )
                for sid in strategy_ids
            )
        )
        log.info(
            "jobs.enqueue",
            scan_id=scan_id,
            outcome="enqueued",
            new=sum(1 for j in jobs if j is not None),
            duplicates=jobs.count(None),
        )

    async def abort(self, scan_id: str, strategy_ids: tuple[str, ...]) -> None:
        for sid in strategy_ids:
            job = await self._queue.job(job_key(scan_id, sid))
            if job is not None and job.status not in ("complete", "failed", "aborted"):
                await self._queue.abort(job, error="scan cancelled")

    async def live_workers(self) -> int | None:
        return await self._queue.live_workers()

    async def close(self) -> None:
        await self._queue.disconnect()
