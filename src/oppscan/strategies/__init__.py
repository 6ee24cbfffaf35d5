"""What a strategy author needs: the strategy port and the costing helpers.

A strategy is an object with ``info: StrategyInfo`` and a pure ``scan(market, request)``; it makes
opportunities with ``build_opportunity`` and costs them against the real book with ``walk_book``,
``round_trip`` or ``cheapest_round_trip`` (``book_mid``, ``depth_usd``, ``capacity_usd`` and
``taker_cost`` read a book's price, depth and a fee). The strategies themselves live in one
subpackage per family (``spot``, ``relative_value``, ``derivatives``, ``portfolio``) and the
catalog in ``registry``; neither is imported here, so importing this package stays cheap.
"""

from oppscan.strategies.base import (
    YEAR_SECONDS,
    DataKind,
    Strategy,
    StrategyInfo,
    StrategyRequest,
    StrategySkipped,
    build_opportunity,
)
from oppscan.strategies.costs import (
    Execution,
    LiquidityGates,
    book_mid,
    capacity_usd,
    cheapest_round_trip,
    depth_usd,
    round_trip,
    taker_cost,
    walk_book,
)

__all__ = [
    "YEAR_SECONDS",
    "DataKind",
    "Execution",
    "LiquidityGates",
    "Strategy",
    "StrategyInfo",
    "StrategyRequest",
    "StrategySkipped",
    "book_mid",
    "build_opportunity",
    "capacity_usd",
    "cheapest_round_trip",
    "depth_usd",
    "round_trip",
    "taker_cost",
    "walk_book",
]
