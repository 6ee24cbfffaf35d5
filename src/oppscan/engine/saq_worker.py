"""The SAQ worker: runs strategy jobs from the Redis queue and finishes overdue scans.

It is given its parts (the runner, the store); ``oppscan.bootstrap.build_worker`` builds them
from settings and ``oppscan worker`` runs the result.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from saq import Queue, Worker
from saq.types import PartialTimersDict

from oppscan.engine.overdue import finish_overdue_forever
from oppscan.engine.saq_queue import JOB_FUNCTION, WORKER_INFO_SECONDS
from oppscan.logs import get_logger
from oppscan.service.runner import StrategyRunner
from oppscan.store.port import ScanStore

log = get_logger("oppscan.worker")

SWEEP_SECONDS = 2  # SAQ's stuck-job sweep and our overdue-scan sweep


async def run_strategy(ctx: dict[str, Any], *, scan_id: str, strategy_id: str) -> str:
    runner: StrategyRunner = ctx["runner"]
    beat = asyncio.create_task(_heartbeat(ctx["job"]))
    try:
        applied = await runner.run(scan_id, strategy_id)
    finally:
        beat.cancel()
        with contextlib.suppress(BaseException):
            await beat
    return applied.reason if applied else "not run"


async def _heartbeat(job: Any) -> None:
    while True:
        await asyncio.sleep(1.0)
        try:
            await job.update()
        except Exception as exc:
            # One missed beat is not a dead worker; the sweep acts only after several.
            log.warning("job.heartbeat", outcome="missed", reason=repr(exc))


def saq_worker(
    queue: Queue,
    runner: StrategyRunner,
    store: ScanStore,
    *,
    concurrency: int,
    on_shutdown: Callable[[], Awaitable[None]],
) -> Worker[Any]:
    """A worker on ``queue``; ``on_shutdown`` closes what the caller built for it."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runner"] = runner
        ctx["sweeper"] = asyncio.create_task(finish_overdue_forever(store, SWEEP_SECONDS))
        log.info(
            "worker.start",
            outcome="ready",
            concurrency=concurrency,
            strategies=sorted(runner.strategy_ids),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        ctx["sweeper"].cancel()
        await on_shutdown()
        await queue.disconnect()

    return Worker(
        queue,
        functions=[(JOB_FUNCTION, run_strategy)],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        # saq declares every key of PartialTimersDict required (it inherits a total TypedDict)
        timers=PartialTimersDict(  # type: ignore[typeddict-item]
            sweep=SWEEP_SECONDS, worker_info=WORKER_INFO_SECONDS
        ),
    )
