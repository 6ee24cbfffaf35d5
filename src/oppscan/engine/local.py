"""The embedded engine: strategy jobs as tasks in this one process (no Redis).

It keeps handles on its running tasks only to cancel them; what a scan is, and whether it is
done, is still the store's word alone.
"""

from __future__ import annotations

import asyncio
import contextlib

from oppscan.engine.overdue import finish_overdue_forever
from oppscan.logs import get_logger
from oppscan.service.runner import StrategyRunner
from oppscan.store.port import ScanStore

log = get_logger("oppscan.engine.local")

SWEEP_SECONDS = 1.0


class LocalJobQueue:
    def __init__(self, runner: StrategyRunner, store: ScanStore, concurrency: int) -> None:
        self._runner = runner
        self._store = store
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(
            finish_overdue_forever(self._store, SWEEP_SECONDS), name="oppscan-overdue-sweeper"
        )

    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        for strategy_id in strategy_ids:
            key = (scan_id, strategy_id)
            if key not in self._tasks:
                task = asyncio.create_task(self._run(scan_id, strategy_id))
                self._tasks[key] = task
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for key, known in list(self._tasks.items()):
            if known is task:
                del self._tasks[key]

    async def _run(self, scan_id: str, strategy_id: str) -> None:
        async with self._slots:
            try:
                await self._runner.run(scan_id, strategy_id)
            except Exception:
                # The deadline finishes the scan; this line says why it had to.
                log.exception("job.error", scan_id=scan_id, strategy_id=strategy_id)

    async def abort(self, scan_id: str, strategy_ids: tuple[str, ...]) -> None:
        for strategy_id in strategy_ids:
            task = self._tasks.get((scan_id, strategy_id))
            if task is not None:
                task.cancel()

    async def live_workers(self) -> int | None:
        return None  # the jobs run in this process, which is alive if it answers

    async def close(self) -> None:
        tasks = [*self._tasks.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
