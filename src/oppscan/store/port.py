"""The store port: the only truth about scans. Every process answers every request from it.

A scan's record, per-strategy states and results live under keys derived from its id and are
written and expired together. Every change is atomic and idempotent: completing a strategy that
is already terminal changes nothing, so a redelivered job never counts twice. Any reader of a scan
past its deadline finishes it (unfinished strategies become ``timed_out``, the scan ``partial``).

An adapter is built with the result lifetime (``OPPSCAN_RESULT_TTL_SECONDS``): while a scan runs its
keys live until its deadline plus that lifetime; once it finishes, for that lifetime from then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from oppscan.domain.models import (
    ScanRecord,
    ScanStatus,
    ScanView,
    StrategyOutcome,
)


@dataclass(frozen=True, slots=True)
class Applied:
    """What a state change did: ``changed`` is False for a duplicate or late write."""

    status: ScanStatus
    changed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class StartQuota:
    """What ``take_start`` decided for one request to start a scan.

    ``allowed``: a start was counted in ``window`` (``count`` with it); ``settle_start`` must
    follow, to give it back if no scan started. Refused: ``count`` starts already fill the window,
    ``retry_after`` seconds until it turns, and ``identical_pending`` says whether a request with
    the same fingerprint holds a start right now (its scan is about to exist: wait and reuse it).
    """

    allowed: bool
    count: int
    retry_after: int
    window: int
    fingerprint: str
    token: str = ""  # the allowed request's own mark on its fingerprint
    identical_pending: bool = False


class ScanStore(Protocol):
    async def ping(self) -> None: ...

    async def now(self) -> float:
        """The store's clock (epoch seconds): one clock for every machine."""
        ...

    async def create_scan(self, record: ScanRecord) -> None:
        """Write the record with every strategy ``queued`` and index it for its user."""
        ...

    async def delete_scan(self, scan_id: str, user_id: str) -> None:
        """Remove a record that was never announced (it lost a reuse race)."""
        ...

    async def claim_fingerprint(
        self, user_id: str, fingerprint: str, scan_id: str, ttl_seconds: int
    ) -> str | None:
        """SET NX: None if ``scan_id`` now owns the fingerprint, else the owner's scan id."""
        ...

    async def fingerprint_owner(self, user_id: str, fingerprint: str) -> str | None: ...

    async def replace_fingerprint(
        self, user_id: str, fingerprint: str, old_scan_id: str, new_scan_id: str, ttl_seconds: int
    ) -> bool:
        """Compare-and-set: hand a stale fingerprint over to a new scan."""
        ...

    async def get_view(self, scan_id: str, all_results: bool = False) -> ScanView | None:
        """Record, strategy states and the best ten results (or all of them) in one round trip.

        Finishes the scan first if it is past its deadline.
        """
        ...

    async def start_strategy(self, scan_id: str, strategy_id: str) -> int | None:
        """Mark a strategy running; its attempt number, or None if it must not run."""
        ...

    async def complete_strategy(
        self, scan_id: str, strategy_id: str, outcome: StrategyOutcome
    ) -> Applied | None:
        """Record a strategy's outcome once; finish the scan when it was the last.

        All or nothing: an outcome the store could not hold whole (a result whose score or number
        is not finite, a malformed payload) raises ``InvalidCompletion`` and writes nothing.
        """
        ...

    async def cancel_scan(self, scan_id: str) -> Applied | None: ...

    async def finish_overdue(self, limit: int = 100) -> list[str]:
        """Finish every scan past its deadline; the ids finished now."""
        ...

    async def list_user_scans(
        self, user_id: str, limit: int, before: float | None
    ) -> list[ScanRecord]:
        """The user's scans, newest first, created strictly before ``before``."""
        ...

    async def take_start(
        self, user_id: str, fingerprint: str, limit: int, window_seconds: int
    ) -> StartQuota:
        """The rate limit, checked and counted in one atomic step: with fewer than ``limit``
        starts counted in the user's current fixed window, count one more and mark
        ``fingerprint`` as being started (allowed); otherwise count nothing (refused)."""
        ...

    async def settle_start(self, user_id: str, quota: StartQuota, started: bool) -> None:
        """End an allowed ``take_start``: clear its fingerprint mark and, when no scan started
        (the request reused one, or its jobs could not be queued), uncount its start."""
        ...

    async def fail_scan(self, scan_id: str, error: str) -> Applied | None:
        """End a scan that cannot run (its jobs could not be queued) as ``failed``, saying why."""
        ...

    async def close(self) -> None: ...
