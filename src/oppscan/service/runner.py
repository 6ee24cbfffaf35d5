"""Running one strategy of one scan: the body of every strategy job, on any worker.

A job carries only ids; it reloads the scan from the store, so a redelivered or retried job sees
the truth, and the store's idempotent start and completion make running twice harmless.

A blip of the store or of the market cache's shared store (``StoreUnavailable``) is not the
strategy's failure: the call is made again, with backoff, while the scan's deadline allows (and,
before the deadline is known, for ``patience_seconds``). A store that stays unreachable ends the
job without recording anything: the deadline then ends the scan ``partial`` with this strategy
``timed_out``, which is the truth. A result with a number that is not finite fails its strategy
and is never stored. What a user reads of a failure names no host, port, URL or file: the detail
is in the log line.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import ValidationError

from oppscan.domain.errors import (
    InvalidCompletion,
    MarketDataUnavailable,
    NonFiniteValue,
    StoreUnavailable,
)
from oppscan.domain.models import Opportunity, ScanRecord, StrategyOutcome, StrategyStatus
from oppscan.logs import get_logger
from oppscan.market.port import MarketData
from oppscan.market.snapshot import MarketSnapshot
from oppscan.service.public_text import STORE_UNREACHABLE, market_unavailable, public
from oppscan.store.port import Applied, ScanStore
from oppscan.strategies.base import Strategy, StrategyRequest, StrategySkipped

log = get_logger("oppscan.runner")

T = TypeVar("T")


class _GaveUp(Exception):
    """The store stayed unreachable for as long as the job could wait."""

    def __init__(self, step: str, cause: StoreUnavailable) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


class _NoMarket(Exception):
    """No snapshot: ``public`` is what the user reads, ``detail`` what the log keeps."""

    def __init__(self, public: str, detail: str) -> None:
        super().__init__(public)
        self.public = public
        self.detail = detail


class StrategyRunner:
    def __init__(
        self,
        store: ScanStore,
        market: MarketData,
        strategies: dict[str, Strategy],
        *,
        patience_seconds: float = 120.0,
        first_retry_seconds: float = 0.05,
        max_retry_seconds: float = 2.0,
    ) -> None:
        self._store = store
        self._market = market
        self._strategies = strategies
        self._patience = patience_seconds
        self._first_retry = first_retry_seconds
        self._max_retry = max_retry_seconds

    @property
    def strategy_ids(self) -> tuple[str, ...]:
        return tuple(self._strategies)

    async def run(self, scan_id: str, strategy_id: str) -> Applied | None:
        try:
            return await self._run(scan_id, strategy_id)
        except _GaveUp as gave_up:
            # Not a failure of the strategy, and no retry of the job helps: past the deadline,
            # or with no store, there is nothing to record it in. The deadline ends the scan.
            log.warning(
                "strategy.complete",
                scan_id=scan_id,
                strategy_id=strategy_id,
                outcome="not_recorded",
                reason=STORE_UNREACHABLE,
                step=gave_up.step,
                detail=str(gave_up.cause),
            )
            return None

    async def _run(self, scan_id: str, strategy_id: str) -> Applied | None:
        store = self._store
        until = time.monotonic() + self._patience
        attempt = await self._retried(
            "start", until, lambda: store.start_strategy(scan_id, strategy_id)
        )
        if attempt is None:
            log.info(
                "strategy.start",
                scan_id=scan_id,
                strategy_id=strategy_id,
                outcome="not_run",
                reason="scan or strategy already terminal, or gone",
            )
            return None
        view = await self._retried("read", until, lambda: store.get_view(scan_id))
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
        budget = view.record.deadline_at - await self._retried("read the clock", until, store.now)
        until = time.monotonic() + budget  # from now on, the scan's deadline bounds every wait
        outcome = await self._outcome(strategy_id, view.record, budget)
        applied = await self._complete(scan_id, strategy_id, outcome, until)
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

    async def _complete(
        self, scan_id: str, strategy_id: str, outcome: StrategyOutcome, until: float
    ) -> Applied | None:
        store = self._store
        try:
            return await self._retried(
                "complete", until, lambda: store.complete_strategy(scan_id, strategy_id, outcome)
            )
        except InvalidCompletion as refused:
            # The checks in _outcome should leave the store nothing to refuse; if it still does,
            # the strategy fails saying so rather than stay running until the deadline.
            log.error("strategy.complete", scan_id=scan_id, outcome="refused", reason=str(refused))
            failed = StrategyOutcome(
                status=StrategyStatus.FAILED,
                duration_ms=outcome.duration_ms,
                error=f"its results could not be stored: {refused}",
            )
            return await self._retried(
                "complete", until, lambda: store.complete_strategy(scan_id, strategy_id, failed)
            )

    async def _retried(self, step: str, until: float, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, made again with backoff (and jitter) while the store is unavailable and
        ``until`` (monotonic) is not reached; then ``_GaveUp``."""
        delay = self._first_retry
        while True:
            try:
                return await call()
            except StoreUnavailable as exc:
                left = until - time.monotonic()
                if left <= 0:
                    raise _GaveUp(step, exc) from exc
                wait = min(left, random.uniform(delay / 2, delay))
                log.warning(
                    "store.retry",
                    step=step,
                    reason=STORE_UNREACHABLE,
                    detail=str(exc),
                    retry_in_ms=round(wait * 1000),
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self._max_retry)

    async def _snapshot(self, force_refresh: bool, at: float) -> MarketSnapshot:
        """The scan's snapshot; blips are retried until the caller's deadline cancels this."""

        async def read() -> MarketSnapshot:
            try:
                return await self._market.snapshot(force_refresh=force_refresh, at=at)
            except StoreUnavailable:
                raise  # a blip: read again
            except MarketDataUnavailable as exc:
                raise _NoMarket(market_unavailable(exc.source), str(exc)) from exc
            except Exception as exc:  # TimeoutError included: the deadline's is raised outside
                raise _NoMarket(market_unavailable(""), f"{type(exc).__name__}: {exc}") from exc

        return await self._retried("market data", math.inf, read)

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
                snapshot = await self._snapshot(request.force_refresh, created_at)
                market = snapshot.restricted_to(request.symbols)
                args = StrategyRequest(capital_usd=request.capital_usd, portfolio=request.portfolio)
                # CPU-bound work off the event loop, which keeps answering polls and heartbeats.
                found = await asyncio.to_thread(strategy.scan, market, args)
        except StrategySkipped as skipped:
            return finished(StrategyStatus.SKIPPED, str(skipped))
        except TimeoutError:
            return finished(StrategyStatus.TIMED_OUT, "did not finish before the scan's deadline")
        except _NoMarket as no_market:
            log.warning(
                "strategy.error",
                scan_id=record.scan_id,
                strategy_id=strategy_id,
                reason=no_market.public,
                detail=no_market.detail,
            )
            return finished(StrategyStatus.FAILED, no_market.public)
        except NonFiniteValue as exc:
            return finished(StrategyStatus.FAILED, str(exc))
        except Exception as exc:
            log.exception("strategy.error", scan_id=record.scan_id, strategy_id=strategy_id)
            return finished(StrategyStatus.FAILED, _failure(exc))
        for opp in found:
            field = opp.non_finite_field()
            if field is not None:
                return finished(StrategyStatus.FAILED, str(NonFiniteValue(field, opp.symbol)))
        kept = [o for o in found if request.filters.accepts(o)]
        return finished(StrategyStatus.DONE, None, kept)


def _failure(exc: Exception) -> str:
    """What a user reads of a strategy's exception: its type and words, without addresses."""
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            if error["type"] == "finite_number":
                where = ".".join(str(part) for part in error["loc"])
                return f"strategy produced a non-finite {where} ({exc.title})"
    return f"{type(exc).__name__}: {public(str(exc))}"
