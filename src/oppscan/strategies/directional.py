"""What the directional spot strategies share: one look at each symbol, and the risk of a stop."""

from __future__ import annotations

from collections.abc import Callable

from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.base import StrategyRequest

SymbolLook = Callable[[MarketSnapshot, StrategyRequest, str], Opportunity | None]


def scan_symbols(
    market: MarketSnapshot, request: StrategyRequest, look: SymbolLook
) -> list[Opportunity]:
    """What ``look`` finds in each of the snapshot's symbols, in the snapshot's order."""
    return [opp for symbol in market.symbols if (opp := look(market, request, symbol)) is not None]


def risk_from_stop(stop_distance_bps: float) -> RiskLevel:
    """The loss taken if the stop is hit sets the risk level of a directional trade."""
    if stop_distance_bps < 150:
        return RiskLevel.LOW
    if stop_distance_bps < 400:
        return RiskLevel.MEDIUM
    if stop_distance_bps < 1000:
        return RiskLevel.HIGH
    return RiskLevel.VERY_HIGH
