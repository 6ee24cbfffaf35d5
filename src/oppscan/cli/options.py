"""The options that choose and order the printed results (``--sort --risk --min-profit
--limit``), shared by ``scan`` and ``results``; light enough to import when the CLI starts.

The rows are chosen and ordered by the service (``ResultsQuery`` here, ``GET /results`` on a
server). Only several ``--risk`` levels take one query per level, merged by ``merge``: the API
filters on one ``risk_level`` per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from oppscan.domain.models import Opportunity

T = TypeVar("T")

MAX_LIMIT = 1000  # the most `GET /results` answers at once


class Sort(StrEnum):
    """The orders of ``GET /results?sort=``: each is a number, largest first."""

    SCORE = "score"
    PROFIT = "profit"
    CONFIDENCE = "confidence"


# The number each order ranks by, as the service's: "score" is ``Opportunity.rank_score``.
SORT_KEYS: Mapping[Sort, Callable[[Opportunity], float]] = {
    Sort.SCORE: lambda o: o.rank_score,
    Sort.PROFIT: lambda o: o.profit_potential_usd,
    Sort.CONFIDENCE: lambda o: o.confidence_score,
}
SORT_LABELS = {Sort.SCORE: "score", Sort.PROFIT: "profit USD", Sort.CONFIDENCE: "confidence"}


def parse_risks(values: list[str] | None) -> list[str]:
    """``--risk low --risk high`` or ``--risk low,high``: the levels, checked, without repeats."""
    if not values:
        return []
    from oppscan.domain.models import RiskLevel

    allowed = [level.value for level in RiskLevel]
    chosen: list[str] = []
    for value in values:
        for part in value.split(","):
            level = part.strip().lower()
            if level and level not in allowed:
                raise typer.BadParameter(
                    f"{level!r} is not a risk level (allowed: {', '.join(allowed)})"
                )
            if level and level not in chosen:
                chosen.append(level)
    return chosen


@dataclass(frozen=True)
class Selection:
    """Which results to print, in which order, as ``GET /results`` takes them."""

    sort: Sort = Sort.SCORE
    risks: tuple[str, ...] = ()
    min_profit: float | None = None
    limit: int = MAX_LIMIT

    def risk_per_query(self) -> list[str | None]:
        """The ``risk_level`` of each query to make: one per level, or one query without."""
        return list(self.risks) or [None]


def merge(
    pages: Sequence[tuple[Sequence[T], int]], key: Callable[[T], float], limit: int
) -> tuple[list[T], int]:
    """Pages of disjoint filters (one per risk level), each in order already: the best ``limit``
    of them all in the same order, and how many matched in all."""
    if len(pages) == 1:
        return list(pages[0][0]), pages[0][1]
    rows = [row for page, _ in pages for row in page]
    rows.sort(key=key, reverse=True)
    return rows[:limit], sum(total for _, total in pages)
