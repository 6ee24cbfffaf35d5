"""How a scan whose strategies are all terminal ends: the in-process store's rule.

The Redis store's scripts carry the same rule in Lua (``final_status`` in ``redis_scripts``); the
contract tests run both adapters through the same endings, so the two cannot drift apart unseen.
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
