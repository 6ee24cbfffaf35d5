"""The use cases: start, status, results, cancel and list scans.

Every answer comes from the store alone; nothing about a scan is kept in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from oppscan.domain.errors import StoreUnavailable
from oppscan.domain.models import (
    Opportunity,
    RiskLevel,
    ScanRecord,
    ScanRequest,
    ScanStatus,
    ScanView,
)
from oppscan.logs import get_logger
from oppscan.market.port import MarketData
from oppscan.service.errors import InvalidRequest, RateLimited, ScanNotFound
from oppscan.service.ports import JobQueue
from oppscan.service.principal import Principal
from oppscan.service.public_text import QUEUE_UNREACHABLE
from oppscan.service.requests import DiscoverInput, fingerprint, normalise, normalise_symbol
from oppscan.settings import Settings
from oppscan.store.port import ScanStore, StartQuota
from oppscan.strategies.base import Strategy, StrategyInfo

log = get_logger("oppscan.scans")

RATE_WINDOW_SECONDS = 60
NO_WORKER = (
    "no scan worker is running: the scan waits in the queue until one starts (`oppscan worker`), "
    "and ends partial at its deadline if none does"
)
FINGERPRINT_ATTEMPTS = 3
# A request refused while an identical one holds a start waits this long for that scan to exist.
IDENTICAL_POLLS, IDENTICAL_POLL_SECONDS = 80, 0.025
SortKey = Literal["score", "profit", "confidence"]


@dataclass(frozen=True, slots=True)
class Started:
    record: ScanRecord
    reused: bool


@dataclass(frozen=True, slots=True)
class ResultsQuery:
    strategy: str | None = None
    symbol: str | None = None
    risk_level: RiskLevel | None = None
    min_confidence: float | None = None
    min_profit_usd: float | None = None
    sort: SortKey = "score"
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StrategyPerformance:
    count: int
    total_potential: float
    avg_confidence: float


@dataclass(frozen=True, slots=True)
class ResultsPage:
    view: ScanView
    opportunities: list[Opportunity]
    total: int  # after the query's filters, before paging
    performance: dict[str, StrategyPerformance] = field(default_factory=dict)


class ScanService:
    def __init__(
        self,
        settings: Settings,
        store: ScanStore,
        queue: JobQueue,
        market: MarketData,
        strategies: dict[str, Strategy],
    ) -> None:
        self._settings = settings
        self._store = store
        self._queue = queue
        self._market = market
        self._strategies = strategies

    # -- catalog --------------------------------------------------------------------------

    def catalog(self) -> list[StrategyInfo]:
        return [s.info for s in self._strategies.values()]

    def universe(self) -> tuple[str, ...]:
        return self._market.universe()

    async def ping(self) -> None:
        """Readiness: the store answers (``StoreUnavailable`` otherwise)."""
        await self._store.ping()

    # -- start ----------------------------------------------------------------------------

    async def start(self, who: Principal, body: DiscoverInput) -> Started:
        request = normalise(
            body,
            catalog=list(self._strategies),
            allowed_strategies=who.allowed_strategies,
            universe=self._market.universe(),
        )
        fp = fingerprint(request)
        reusable = await self._reusable(who.user_id, fp, request.force_refresh)
        if reusable is not None:
            return Started(reusable, reused=True)
        # The limit is checked and counted in one atomic step. Reuse costs no quota: a request
        # that ends up reusing a concurrent identical scan, or whose jobs cannot be queued, gives
        # its start back.
        quota = await self._take_start(who, fp, request.force_refresh)
        if isinstance(quota, ScanRecord):
            return Started(quota, reused=True)
        started: Started | None = None
        try:
            started = await self._create_and_queue(who, request, fp)
            return started
        finally:
            await self._settle_start(who, quota, started is not None and not started.reused)

    async def _create_and_queue(self, who: Principal, request: ScanRequest, fp: str) -> Started:
        now = await self._store.now()
        record = ScanRecord(
            scan_id=f"scan_{secrets.token_hex(16)}",
            user_id=who.user_id,
            status=ScanStatus.QUEUED,
            request=request,
            fingerprint=fp,
            created_at=now,
            updated_at=now,
            deadline_at=now + self._settings.scan_deadline_seconds,
        )
        # The record exists before anyone can learn its id: claiming the fingerprint comes after.
        await self._store.create_scan(record)
        winner = await self._own_fingerprint(who.user_id, fp, record)
        if winner is not None:
            await self._store.delete_scan(record.scan_id, who.user_id)
            log.info(
                "scan.start",
                scan_id=winner.scan_id,
                user_id=who.user_id,
                outcome="reused",
                reason="identical request started concurrently",
            )
            return Started(winner, reused=True)
        try:
            await self._queue.enqueue_strategies(
                record.scan_id, request.strategy_ids, record.deadline_at
            )
        except Exception as exc:
            # A scan whose jobs never reached the queue must say so, not look like it runs; the
            # user reads what failed, the log line also where.
            reason = f"its strategy jobs could not be queued: {exc!r}"
            with contextlib.suppress(Exception):
                await self._store.fail_scan(
                    record.scan_id, f"its strategy jobs could not be queued: {QUEUE_UNREACHABLE}"
                )
            log.error(
                "scan.start",
                scan_id=record.scan_id,
                user_id=who.user_id,
                outcome="enqueue_failed",
                reason=reason,
            )
            raise StoreUnavailable(reason) from exc
        log.info(
            "scan.start",
            scan_id=record.scan_id,
            user_id=who.user_id,
            outcome="started",
            strategies=list(request.strategy_ids),
            fingerprint=fp,
        )
        return Started(record, reused=False)

    async def _reusable(self, user_id: str, fp: str, force_refresh: bool) -> ScanRecord | None:
        owner = await self._store.fingerprint_owner(user_id, fp)
        if owner is None:
            return None
        view = await self._store.get_view(owner)
        if view is None or not self._may_reuse(view.record, force_refresh, await self._store.now()):
            return None
        log.info(
            "scan.start",
            scan_id=owner,
            user_id=user_id,
            outcome="reused",
            reason=f"same request, scan is {view.record.status}",
        )
        return view.record

    def _may_reuse(self, record: ScanRecord, force_refresh: bool, now: float) -> bool:
        if not record.status.terminal:
            return True
        fresh = (
            record.status is ScanStatus.COMPLETE
            and record.finished_at is not None
            and now - record.finished_at < self._settings.fresh_seconds
        )
        return fresh and not force_refresh

    async def _own_fingerprint(self, user_id: str, fp: str, mine: ScanRecord) -> ScanRecord | None:
        """Make ``mine`` the fingerprint's scan (None), or return the scan to reuse instead.

        The fingerprint may be free (claim it), held by a scan to reuse (reuse it), or held by a
        stale one (take it over by compare-and-set); each step can lose a race, so try again.
        """
        for _ in range(FINGERPRINT_ATTEMPTS):
            owner = await self._store.claim_fingerprint(user_id, fp, mine.scan_id, self._fp_ttl)
            if owner is None:
                return None
            view = await self._store.get_view(owner)
            now = await self._store.now()
            if view is not None and self._may_reuse(view.record, mine.request.force_refresh, now):
                return view.record
            if await self._store.replace_fingerprint(
                user_id, fp, owner, mine.scan_id, self._fp_ttl
            ):
                return None
        # Still contended: run unowned rather than fail the user (a later duplicate may not reuse).
        log.warning(
            "scan.start",
            scan_id=mine.scan_id,
            user_id=user_id,
            outcome="unowned",
            reason="fingerprint still contended after retries",
        )
        return None

    async def _take_start(
        self, who: Principal, fp: str, force_refresh: bool
    ) -> StartQuota | ScanRecord:
        """A start counted against the user's limit, the scan to reuse, or ``RateLimited``."""
        limits = self._settings.scans_per_minute
        limit = limits.get(who.tier, limits.get("basic", 10))
        quota = await self._store.take_start(who.user_id, fp, limit, RATE_WINDOW_SECONDS)
        if quota.allowed:
            return quota
        if quota.identical_pending:
            # An identical request holds a start: its scan is about to exist, reuse it.
            for _ in range(IDENTICAL_POLLS):
                await asyncio.sleep(IDENTICAL_POLL_SECONDS)
                reusable = await self._reusable(who.user_id, fp, force_refresh)
                if reusable is not None:
                    return reusable
        log.info(
            "scan.start",
            user_id=who.user_id,
            outcome="rate_limited",
            reason=f"{quota.count} starts in the window, limit {limit}",
        )
        raise RateLimited(quota.retry_after, limit)

    async def _settle_start(self, who: Principal, quota: StartQuota, started: bool) -> None:
        try:
            await self._store.settle_start(who.user_id, quota, started)
        except StoreUnavailable as exc:
            # The start stays counted until its window ends: never more starts than the limit.
            log.warning(
                "scan.start", user_id=who.user_id, outcome="start_not_settled", reason=str(exc)
            )

    @property
    def _fp_ttl(self) -> int:
        return int(self._settings.scan_deadline_seconds + self._settings.fresh_seconds) + 1

    # -- read -----------------------------------------------------------------------------

    async def status(self, who: Principal, scan_id: str) -> ScanView:
        view = await self._owned_view(who, scan_id, op="status")
        if view.record.status is ScanStatus.QUEUED and await self.live_workers() == 0:
            # Only a queued scan asks (one more store read): it is the one that waits for them.
            return replace(view, notice=NO_WORKER)
        return view

    async def live_workers(self) -> int | None:
        """Scan workers alive now; None when jobs run in this process, or if nobody can tell."""
        try:
            return await self._queue.live_workers()
        except Exception as exc:  # an answer about workers must never fail a status poll
            log.warning("queue.workers", outcome="unknown", reason=type(exc).__name__)
            return None

    async def _owned_view(
        self, who: Principal, scan_id: str, op: str, all_results: bool = False
    ) -> ScanView:
        view = await self._store.get_view(scan_id, all_results=all_results)
        if view is None or view.record.user_id != who.user_id:
            # Another user's scan answers exactly like an unknown one.
            reason = "no such scan" if view is None else "owned by another user"
            log.info(
                f"scan.{op}",
                scan_id=scan_id,
                user_id=who.user_id,
                outcome="not_found",
                reason=reason,
            )
            raise ScanNotFound(scan_id)
        log.debug(
            f"scan.{op}",
            scan_id=scan_id,
            user_id=who.user_id,
            outcome="found",
            status=view.record.status.value,
            version=view.record.version,
        )
        return view

    async def results(self, who: Principal, scan_id: str, query: ResultsQuery) -> ResultsPage:
        view = await self._owned_view(who, scan_id, op="results", all_results=True)
        everything = view.top
        performance = _performance(everything)
        chosen = [o for o in everything if _matches(o, query)]
        chosen.sort(key=_SORTS[query.sort], reverse=True)
        page = chosen[query.offset : query.offset + query.limit]
        return ResultsPage(
            view=view, opportunities=page, total=len(chosen), performance=performance
        )

    async def cancel(self, who: Principal, scan_id: str) -> ScanView:
        await self._owned_view(who, scan_id, op="cancel")
        applied = await self._store.cancel_scan(scan_id)
        view = await self._owned_view(who, scan_id, op="cancel")
        if applied is not None and applied.changed:
            await self._queue.abort(scan_id, view.record.request.strategy_ids)
        log.info(
            "scan.cancel",
            scan_id=scan_id,
            user_id=who.user_id,
            outcome=view.record.status.value,
            reason=applied.reason if applied else "gone",
        )
        return view

    async def list_scans(
        self, who: Principal, limit: int, cursor: str | None
    ) -> tuple[list[ScanRecord], str | None]:
        before: float | None = None
        if cursor:
            try:
                before = float(cursor)
            except ValueError:
                before = math.nan
            if not math.isfinite(before):
                raise InvalidRequest("cursor", "not a cursor this API returned", None)
        records = await self._store.list_user_scans(who.user_id, limit + 1, before)
        more = len(records) > limit
        records = records[:limit]
        next_cursor = repr(records[-1].created_at) if more and records else None
        return records, next_cursor


_SORTS = {
    "score": lambda o: o.rank_score,
    "profit": lambda o: o.profit_potential_usd,
    "confidence": lambda o: o.confidence_score,
}


def _matches(o: Opportunity, q: ResultsQuery) -> bool:
    if q.strategy and o.strategy_id != q.strategy:
        return False
    if q.symbol and o.symbol != normalise_symbol(q.symbol):
        return False
    if q.risk_level and o.risk_level is not q.risk_level:
        return False
    if q.min_confidence is not None and o.confidence_score < q.min_confidence:
        return False
    return q.min_profit_usd is None or o.profit_potential_usd >= q.min_profit_usd


def _performance(opps: Sequence[Opportunity]) -> dict[str, StrategyPerformance]:
    grouped: dict[str, list[Opportunity]] = {}
    for o in opps:
        grouped.setdefault(o.strategy_id, []).append(o)
    return {
        sid: StrategyPerformance(
            count=len(group),
            total_potential=round(sum(o.profit_potential_usd for o in group), 2),
            avg_confidence=round(sum(o.confidence_score for o in group) / len(group), 4),
        )
        for sid, group in grouped.items()
    }
