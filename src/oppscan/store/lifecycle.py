"""The rules of a scan's life, shared by every store adapter (the Redis one mirrors them in Lua).

Kept in one place so the in-process store and the contract tests agree on what "finished" means.
"""

from __future__ import annotations

from collections.abc import Iterable

from oppscan.domain.models import ScanStatus, StrategyStatus


def final_status(states: Iterable[StrategyStatus]) -> ScanStatus:
    """The status of a scan whose strategies are all terminal.

    Any cancelled: ``cancelled``. Every one failed: ``failed``. Some failed or timed out:
    ``partial``. Otherwise ``complete``.
    """
    states = list(states)
    if any(s is StrategyStatus.CANCELLED for s in states):
        return ScanStatus.CANCELLED
    bad = [s for s in states if s in (StrategyStatus.FAILED, StrategyStatus.TIMED_OUT)]
    if not bad:
        return ScanStatus.COMPLETE
    if len(bad) == len(states) and all(s is StrategyStatus.FAILED for s in bad):
        return ScanStatus.FAILED
    return ScanStatus.PARTIAL
