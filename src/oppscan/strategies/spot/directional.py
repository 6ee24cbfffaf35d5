"""What the directional spot strategies share: one look at each symbol, and how a costed round
trip with a stop becomes an opportunity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import Execution, StrategyInfo, StrategyRequest, build_opportunity

SymbolLook = Callable[[MarketSnapshot, StrategyRequest, str], Opportunity | None]


def scan_symbols(
    market: MarketSnapshot, request: StrategyRequest, look: SymbolLook
) -> list[Opportunity]:
    """What ``look`` finds in each of the snapshot's symbols, in the snapshot's order."""
    return [opp for symbol in market.symbols if (opp := look(market, request, symbol)) is not None]


def _risk_from_stop(stop_distance_bps: float) -> RiskLevel:
    """The loss taken if the stop is hit sets the risk level of a directional trade."""
    if stop_distance_bps < 150:
        return RiskLevel.LOW
    if stop_distance_bps < 400:
        return RiskLevel.MEDIUM
    if stop_distance_bps < 1000:
        return RiskLevel.HIGH
    return RiskLevel.VERY_HIGH


def directional_opportunity(
    info: StrategyInfo,
    market: MarketSnapshot,
    trade: Execution,
    *,
    opportunity_type: str,
    symbol: str,
    side: str,
    exit_price: float,
    stop_loss: float,
    take_profit: float,
    net_bps: float,
    confidence: float,
    risk_bps: float,
    horizon_seconds: float,
    valid_for_ms: int,
    evidence: dict[str, Any],
) -> Opportunity:
    """``trade``'s whole size entered at its average fill; ``risk_bps`` (the loss at the stop)
    sets the risk level, and the trade's costs close the evidence."""
    return build_opportunity(
        info,
        market,
        opportunity_type=opportunity_type,
        symbol=symbol,
        exchange=trade.exchange,
        side=side,
        entry_price=trade.entry_price,
        exit_price=exit_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
        profit_potential_usd=trade.size_usd * net_bps / 1e4,
        required_capital_usd=trade.size_usd,
        confidence=confidence,
        risk_level=_risk_from_stop(risk_bps),
        horizon_seconds=horizon_seconds,
        valid_for_ms=valid_for_ms,
        capacity_usd=trade.capacity_usd,
        evidence={**evidence, **trade.evidence()},
    )
