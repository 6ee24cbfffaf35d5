"""The rules every store adapter shares, in Python: the in-process store's, and the Redis store's
where they are decided outside its scripts.

The Redis store's scripts carry the same rules in Lua (``final_status`` and ``check_completion``
in ``redis_scripts``); the contract tests run both adapters through the same cases, so the two
cannot drift apart unseen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from oppscan.domain.errors import InvalidCompletion
from oppscan.domain.models import ScanStatus, StrategyOutcome, StrategyStatus


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


def check_completion(outcome: StrategyOutcome) -> None:
    """Refuse, before anything is written, a completion the store could not hold whole.

    Raises ``InvalidCompletion`` naming the first result (from 1) whose score or number is not
    finite, as the Redis store's script does.
    """
    if not outcome.status.terminal:
        raise InvalidCompletion(
            f"invalid completion: status {outcome.status} is not a terminal strategy status"
        )
    for i, opp in enumerate(outcome.opportunities, start=1):
        if not math.isfinite(opp.rank_score):
            raise InvalidCompletion(
                f"invalid completion: result {i}: its score is not a finite number"
            )
        field = opp.non_finite_field()
        if field is not None:
            raise InvalidCompletion(
                f"invalid completion: result {i}: {field} is not a finite number"
            )


def window_of(now: float, window_seconds: int) -> int:
    """The number of the fixed rate-limit window ``now`` (epoch seconds) falls in."""
    return int(now // window_seconds)


def seconds_to_next_window(now: float, window_seconds: int) -> int:
    """What a refused start is told to wait: whole seconds until the window turns, at least 1."""
    return max(1, window_seconds - int(now) % window_seconds)
