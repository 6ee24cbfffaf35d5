"""The service's outbound port to the job engine: how a started scan's strategy jobs reach a
worker. The engine (SAQ, or the embedded queue) implements it; the service owns it."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    async def start(self) -> None:
        """Connect (SAQ), or start the overdue sweep (the embedded queue)."""
        ...

    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        """One job per strategy, keyed by (scan, strategy) so a repeat enqueues nothing."""
        ...

    async def abort(self, scan_id: str, strategy_ids: tuple[str, ...]) -> None:
        """Best effort: the store's ``cancelled`` state is what stops a job that still starts."""
        ...

    async def live_workers(self) -> int | None:
        """How many scan workers are alive now; None when jobs run in this process."""
        ...

    async def close(self) -> None: ...
