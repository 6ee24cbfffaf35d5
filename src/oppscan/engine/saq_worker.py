"""``oppscan worker``: a SAQ worker that runs strategy jobs and finishes overdue scans."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from saq import Worker
from saq.types import PartialTimersDict

from oppscan.bootstrap import build_container
from oppscan.engine.overdue import finish_overdue_forever
from oppscan.engine.saq_queue import JOB_FUNCTION, saq_queue
from oppscan.logs import configure_logging, get_logger
from oppscan.service.runner import StrategyRunner
from oppscan.settings import Settings

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


def build_worker(settings: Settings, concurrency: int) -> Worker[Any]:
    assert settings.redis_url, "a worker needs OPPSCAN_REDIS_URL"
    container = build_container(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runner"] = container.runner
        ctx["sweeper"] = asyncio.create_task(finish_overdue_forever(container.store, SWEEP_SECONDS))
        log.info(
            "worker.start",
            outcome="ready",
            concurrency=concurrency,
            strategies=sorted(container.strategies),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        ctx["sweeper"].cancel()
        await container.close()
        await queue.disconnect()

    queue = saq_queue(settings.redis_url, settings.key_prefix)
    return Worker(
        queue,
        functions=[(JOB_FUNCTION, run_strategy)],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        # saq declares every key of PartialTimersDict required (it inherits a total TypedDict)
        timers=PartialTimersDict(sweep=SWEEP_SECONDS),  # type: ignore[typeddict-item]
    )


def run_worker(settings: Settings, concurrency: int) -> None:
    configure_logging(settings.log_level)
    worker = build_worker(settings, concurrency)
    try:
        import uvloop

        uvloop.run(worker.start())
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(worker.start())
