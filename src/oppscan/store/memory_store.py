"""The in-process store of the embedded default: one process holds every scan.

Same semantics as the Redis store (the contract tests prove it); the clock is this process's.
Every change runs without awaiting anything in its middle, so it is atomic on the event loop.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from oppscan.domain.models import (
    ScanRecord,
    ScanStatus,
    ScanView,
    StrategyOutcome,
    StrategyState,
    StrategyStatus,
)
from oppscan.store.lifecycle import (
    check_completion,
    final_status,
    seconds_to_next_window,
    window_of,
)
from oppscan.store.port import Applied, StartQuota

TOP = 10  # the best results a view carries unless it asks for all
STARTING_MARK_SECONDS = 10.0  # a request's mark on the fingerprint it starts, if it never settles


@dataclass
class _Scan:
    record: ScanRecord
    strategies: dict[str, StrategyState]
    # opportunity id -> (rank score, JSON): stored as the Redis store stores them
    results: dict[str, tuple[float, str]] = field(default_factory=dict)
    expires_at: float = float("inf")


class InMemoryScanStore:
    def __init__(self, result_ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._ttl = result_ttl_seconds
        self._clock = clock
        self._scans: dict[str, _Scan] = {}
        self._by_user: dict[str, dict[str, float]] = {}
        self._fingerprints: dict[tuple[str, str], tuple[str, float]] = {}
        self._starts: dict[str, tuple[int, int]] = {}  # user -> (window, starts counted in it)
        self._starting: dict[tuple[str, str], tuple[str, float]] = {}  # (user, fp) -> token, until

    async def ping(self) -> None:
        return None

    async def now(self) -> float:
        return self._clock()

    async def close(self) -> None:
        return None

    def _current(self, scan_id: str) -> tuple[_Scan | None, float]:
        """The scan as every change and read starts from: expired ones gone, overdue ones
        finished."""
        now = self._clock()
        scan = self._live(scan_id)
        if scan is not None:
            self._finish_if_overdue(scan, now)
        return scan, now

    def _live(self, scan_id: str) -> _Scan | None:
        scan = self._scans.get(scan_id)
        if scan is not None and scan.expires_at <= self._clock():
            del self._scans[scan_id]
            self._by_user.get(scan.record.user_id, {}).pop(scan_id, None)
            return None
        return scan

    async def create_scan(self, record: ScanRecord) -> None:
        self._scans[record.scan_id] = _Scan(
            record=record.model_copy(),
            strategies={sid: StrategyState() for sid in record.request.strategy_ids},
            expires_at=record.deadline_at + self._ttl,
        )
        self._by_user.setdefault(record.user_id, {})[record.scan_id] = record.created_at

    async def delete_scan(self, scan_id: str, user_id: str) -> None:
        self._scans.pop(scan_id, None)
        self._by_user.get(user_id, {}).pop(scan_id, None)

    async def claim_fingerprint(
        self, user_id: str, fingerprint: str, scan_id: str, ttl_seconds: int
    ) -> str | None:
        owner = self._owner(user_id, fingerprint)
        if owner is not None:
            return owner
        self._fingerprints[(user_id, fingerprint)] = (scan_id, self._clock() + ttl_seconds)
        return None

    async def fingerprint_owner(self, user_id: str, fingerprint: str) -> str | None:
        return self._owner(user_id, fingerprint)

    def _owner(self, user_id: str, fingerprint: str) -> str | None:
        entry = self._fingerprints.get((user_id, fingerprint))
        if entry is None or entry[1] <= self._clock():
            self._fingerprints.pop((user_id, fingerprint), None)
            return None
        return entry[0]

    async def replace_fingerprint(
        self, user_id: str, fingerprint: str, old_scan_id: str, new_scan_id: str, ttl_seconds: int
    ) -> bool:
        if self._owner(user_id, fingerprint) != old_scan_id:
            return False
        self._fingerprints[(user_id, fingerprint)] = (new_scan_id, self._clock() + ttl_seconds)
        return True

    async def get_view(self, scan_id: str, all_results: bool = False) -> ScanView | None:
        scan, _ = self._current(scan_id)
        if scan is None:
            return None
        ranked = sorted(scan.results.values(), key=lambda r: r[0], reverse=True)
        top = ranked if all_results else ranked[:TOP]
        return ScanView(
            record=scan.record.model_copy(),
            strategies={k: replace(v) for k, v in scan.strategies.items()},
            top_json="[" + ",".join(raw for _, raw in top) + "]",
        )

    async def start_strategy(self, scan_id: str, strategy_id: str) -> int | None:
        scan, now = self._current(scan_id)
        if scan is None:
            return None
        state = scan.strategies.get(strategy_id)
        if scan.record.status.terminal or state is None or state.status.terminal:
            return None
        state.status = StrategyStatus.RUNNING
        state.attempts += 1
        if scan.record.status is ScanStatus.QUEUED:
            scan.record.status = ScanStatus.SCANNING
        self._touch(scan, now)
        return state.attempts

    async def complete_strategy(
        self, scan_id: str, strategy_id: str, outcome: StrategyOutcome
    ) -> Applied | None:
        check_completion(outcome)  # all or nothing: refused before anything changes
        scan, now = self._current(scan_id)
        if scan is None:
            return None
        record = scan.record
        state = scan.strategies.get(strategy_id)
        if record.status.terminal:
            return Applied(record.status, False, "scan already terminal")
        if state is None or state.status.terminal:
            return Applied(record.status, False, "strategy already terminal")
        state.status = outcome.status
        state.opportunities = len(outcome.opportunities)
        state.duration_ms = outcome.duration_ms
        state.error = outcome.error
        for opp in outcome.opportunities:
            scan.results[opp.opportunity_id] = (opp.rank_score, opp.model_dump_json())
        record.strategies_completed += 1
        record.opportunities_found = len(scan.results)
        if record.status is ScanStatus.QUEUED:
            record.status = ScanStatus.SCANNING
        if record.strategies_completed >= record.total_strategies:
            self._finish(scan, final_status(s.status for s in scan.strategies.values()), now)
        self._touch(scan, now)
        return Applied(record.status, True, "applied")

    async def cancel_scan(self, scan_id: str) -> Applied | None:
        return self._end_now(scan_id, StrategyStatus.CANCELLED, ScanStatus.CANCELLED, None)

    async def fail_scan(self, scan_id: str, error: str) -> Applied | None:
        return self._end_now(scan_id, StrategyStatus.FAILED, ScanStatus.FAILED, error)

    def _end_now(
        self, scan_id: str, unfinished: StrategyStatus, status: ScanStatus, error: str | None
    ) -> Applied | None:
        scan, now = self._current(scan_id)
        if scan is None:
            return None
        if scan.record.status.terminal:
            return Applied(scan.record.status, False, "scan already terminal")
        if error:
            scan.record.error = error
        self._close_open(scan, unfinished, status, now)
        return Applied(status, True, status.value)

    async def finish_overdue(self, limit: int = 100) -> list[str]:
        now = self._clock()
        done = []
        for scan_id in list(self._scans):
            scan = self._live(scan_id)
            if scan is not None and self._finish_if_overdue(scan, now):
                done.append(scan_id)
                if len(done) >= limit:
                    break
        return done

    async def list_user_scans(
        self, user_id: str, limit: int, before: float | None
    ) -> list[ScanRecord]:
        ids = sorted(self._by_user.get(user_id, {}).items(), key=lambda kv: kv[1], reverse=True)
        out: list[ScanRecord] = []
        for scan_id, created in ids:
            if before is not None and created >= before:
                continue
            view = await self.get_view(scan_id)
            if view is not None:
                out.append(view.record)
            if len(out) >= limit:
                break
        return out

    async def take_start(
        self, user_id: str, fingerprint: str, limit: int, window_seconds: int
    ) -> StartQuota:
        # No await from here to the return: the check and the count are one step.
        now = self._clock()
        window = window_of(now, window_seconds)
        counted_in, count = self._starts.get(user_id, (window, 0))
        count = count if counted_in == window else 0
        if count >= limit:
            mark = self._starting.get((user_id, fingerprint))
            return StartQuota(
                allowed=False,
                count=count,
                retry_after=seconds_to_next_window(now, window_seconds),
                window=window,
                fingerprint=fingerprint,
                identical_pending=mark is not None and mark[1] > now,
            )
        self._starts[user_id] = (window, count + 1)
        token = uuid.uuid4().hex
        self._starting[(user_id, fingerprint)] = (token, now + STARTING_MARK_SECONDS)
        return StartQuota(True, count + 1, 0, window, fingerprint, token)

    async def settle_start(self, user_id: str, quota: StartQuota, started: bool) -> None:
        if not quota.allowed:
            return
        mark = self._starting.get((user_id, quota.fingerprint))
        if mark is not None and mark[0] == quota.token:
            del self._starting[(user_id, quota.fingerprint)]
        counted_in, count = self._starts.get(user_id, (quota.window, 0))
        if not started and counted_in == quota.window and count > 0:
            self._starts[user_id] = (counted_in, count - 1)

    # -- the shared transitions ---------------------------------------------------------------

    def _finish_if_overdue(self, scan: _Scan, now: float) -> bool:
        if scan.record.status.terminal or now < scan.record.deadline_at:
            return False
        self._close_open(scan, StrategyStatus.TIMED_OUT, ScanStatus.PARTIAL, now)
        scan.record.error = "deadline passed before every strategy finished"
        return True

    def _close_open(self, scan: _Scan, to: StrategyStatus, status: ScanStatus, now: float) -> None:
        for state in scan.strategies.values():
            if not state.status.terminal:
                state.status = to
        scan.record.strategies_completed = len(scan.strategies)
        self._finish(scan, status, now)
        self._touch(scan, now)

    def _finish(self, scan: _Scan, status: ScanStatus, now: float) -> None:
        scan.record.status = status
        scan.record.finished_at = now
        scan.expires_at = now + self._ttl

    @staticmethod
    def _touch(scan: _Scan, now: float) -> None:
        scan.record.updated_at = now
        scan.record.version += 1
