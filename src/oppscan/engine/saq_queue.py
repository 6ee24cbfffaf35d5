"""Strategy jobs on SAQ over Redis: one job per (scan, strategy), keyed so a repeat is a no-op."""

from __future__ import annotations

import asyncio
import time

from saq import Queue

from oppscan.logs import get_logger

log = get_logger("oppscan.engine.saq")

JOB_FUNCTION = "run_strategy"
# A job whose worker stops touching it for this long is swept and retried on another worker.
HEARTBEAT_SECONDS = 4
RETRIES = 3


def job_key(scan_id: str, strategy_id: str) -> str:
    return f"{scan_id}:{strategy_id}"


def saq_queue(redis_url: str, key_prefix: str) -> Queue:
    return Queue.from_url(redis_url, name=key_prefix)


class SaqJobQueue:
    def __init__(self, queue: Queue) -> None:
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

    async def close(self) -> None:
        await self._queue.disconnect()
