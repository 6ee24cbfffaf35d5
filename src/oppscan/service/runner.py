"""Running one strategy of one scan: the body of every strategy job, on any worker.

A job carries only ids; it reloads the scan from the store, so a redelivered or retried job sees
the truth, and the store's idempotent completion makes running twice harmless.
"""

from __future__ import annotations

import asyncio
import time

from oppscan.domain.models import Opportunity, ScanRecord, StrategyOutcome, StrategyStatus
from oppscan.logs import get_logger
from oppscan.market.port import MarketData
from oppscan.store.port import Applied, ScanStore
from oppscan.strategies.base import Strategy, StrategyRequest, StrategySkipped

log = get_logger("oppscan.runner")


class StrategyRunner:
    def __init__(
        self, store: ScanStore, market: MarketData, strategies: dict[str, Strategy]
    ) -> None:
        self._store = store
        self._market = market
        self._strategies = strategies

    @property
    def strategy_ids(self) -> tuple[str, ...]:
        return tuple(self._strategies)

    async def run(self, scan_id: str, strategy_id: str) -> Applied | None:
        attempt = await self._store.start_strategy(scan_id, strategy_id)
        if attempt is None:
            log.info(
                "strategy.start",
                scan_id=scan_id,
                strategy_id=strategy_id,
                outcome="not_run",
                reason="scan or strategy already terminal, or gone",
            )
            return None
        view = await self._store.get_view(scan_id)
        if view is None:
            return None
        log.info(
            "strategy.start",
            scan_id=scan_id,
            user_id=view.record.user_id,
            strategy_id=strategy_id,
            outcome="running",
            attempt=attempt,
        )
        budget = view.record.deadline_at - await self._store.now()
        outcome = await self._outcome(strategy_id, view.record, budget)
        applied = await self._store.complete_strategy(scan_id, strategy_id, outcome)
        log.info(
            "strategy.complete",
            scan_id=scan_id,
            user_id=view.record.user_id,
            strategy_id=strategy_id,
            outcome=outcome.status.value,
            reason=outcome.error or f"{len(outcome.opportunities)} opportunities",
            duration_ms=outcome.duration_ms,
            applied=applied.reason if applied else "scan gone",
            scan_status=applied.status.value if applied else None,
        )
        return applied

    async def _outcome(
        self, strategy_id: str, record: ScanRecord, budget_s: float
    ) -> StrategyOutcome:
        started = time.perf_counter()
        request, created_at = record.request, record.created_at

        def finished(
            status: StrategyStatus, error: str | None = None, opps: list[Opportunity] | None = None
        ) -> StrategyOutcome:
            ms = int((time.perf_counter() - started) * 1000)
            return StrategyOutcome(
                status=status, opportunities=opps or [], duration_ms=ms, error=error
            )

        strategy = self._strategies.get(strategy_id)
        if strategy is None:
            return finished(
                StrategyStatus.FAILED, f"strategy {strategy_id!r} is not installed here"
            )
        if budget_s <= 0:
            return finished(StrategyStatus.TIMED_OUT, "the scan's deadline had passed")
        try:
            async with asyncio.timeout(budget_s):
                # Every strategy of a scan, on any worker, retried or late, reads the snapshot of
                # the moment the scan was created (the store's clock), never a newer bucket.
                snapshot = await self._market.snapshot(
                    force_refresh=request.force_refresh, at=created_at
                )
                market = snapshot.restricted_to(request.symbols)
                args = StrategyRequest(capital_usd=request.capital_usd, portfolio=request.portfolio)
                # CPU-bound work off the event loop, which keeps answering polls and heartbeats.
                found = await asyncio.to_thread(strategy.scan, market, args)
        except StrategySkipped as skipped:
            return finished(StrategyStatus.SKIPPED, str(skipped))
        except TimeoutError:
            return finished(StrategyStatus.TIMED_OUT, "did not finish before the scan's deadline")
        except Exception as exc:
            log.exception("strategy.error", strategy_id=strategy_id)
            return finished(StrategyStatus.FAILED, f"{type(exc).__name__}: {exc}")
        kept = [o for o in found if request.filters.accepts(o)]
        return finished(StrategyStatus.DONE, None, kept)
