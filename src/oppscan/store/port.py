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
        """Record a strategy's outcome once; finish the scan when it was the last."""
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

    async def recent_starts(self, user_id: str, window_seconds: int) -> int:
        """How many scans the user started in the current window (a rate limit)."""
        ...

    async def record_start(self, user_id: str, window_seconds: int) -> None: ...

    async def fail_scan(self, scan_id: str, error: str) -> Applied | None:
        """End a scan that cannot run (its jobs could not be queued) as ``failed``, saying why."""
        ...

    async def close(self) -> None: ...
