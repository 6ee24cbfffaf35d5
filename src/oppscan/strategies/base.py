"""The strategy port: a pure function of a market snapshot and a request.

No I/O, no clock, no store: the time is the snapshot's ``as_of_ms``. That makes a strategy
trivial to test, and safe to run in any worker, thread or process.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from oppscan.domain.errors import NonFiniteValue
from oppscan.domain.models import Leg, Opportunity, Portfolio, RiskLevel
from oppscan.market.snapshot import MarketSnapshot

# The kinds of market data a strategy can ask the snapshot for.
DataKind = Literal["ohlcv", "tickers", "order_books", "funding", "futures", "options", "fees"]


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    id: str
    name: str
    description: str
    needs: tuple[DataKind, ...]
    needs_portfolio: bool = False


@dataclass(frozen=True, slots=True)
class StrategyRequest:
    capital_usd: float = 10_000.0
    portfolio: Portfolio | None = None


class StrategySkipped(Exception):
    """Raised by a strategy that has nothing to do for this request; the reason is shown."""


class Strategy(Protocol):
    info: StrategyInfo

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]: ...


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def opportunity_id(strategy_id: str, *parts: object) -> str:
    """Deterministic: the same finding on the same snapshot has the same id (idempotent writes)."""
    digest = hashlib.blake2b(repr((strategy_id, *parts)).encode(), digest_size=8).hexdigest()
    return f"opp_{digest}"


def build_opportunity(
    info: StrategyInfo,
    market: MarketSnapshot,
    *,
    opportunity_type: str,
    symbol: str,
    exchange: str,
    side: str,
    entry_price: float,
    exit_price: float,
    profit_potential_usd: float,
    required_capital_usd: float,
    confidence: float,
    risk_level: RiskLevel,
    timeframe: str,
    net_edge_bps: float,
    valid_for_ms: int,
    evidence: dict[str, Any],
    stop_loss: float | None = None,
    take_profit: float | None = None,
    capacity_usd: float = 0.0,
    legs: list[Leg] | None = None,
    metadata: dict[str, Any] | None = None,
    key: object = None,
) -> Opportunity:
    """One way to make an opportunity: timestamps from the snapshot, confidence clamped to 0..1.

    Raises ``NonFiniteValue`` (naming the number and the symbol) if a number is inf or nan,
    checked before the clamp and the rounding could hide one.
    """
    numbers = {
        "entry_price": entry_price,
        "exit_price": exit_price,
        "stop_loss": stop_loss,
        "take_profit": take_profit,
        "profit_potential_usd": profit_potential_usd,
        "required_capital_usd": required_capital_usd,
        "confidence_score": confidence,
        "net_edge_bps": net_edge_bps,
        "capacity_usd": capacity_usd,
    }
    for field, value in numbers.items():
        if value is not None and not math.isfinite(value):
            raise NonFiniteValue(field, symbol)
    return Opportunity(
        opportunity_id=opportunity_id(info.id, exchange, symbol, side, key, market.as_of_ms),
        strategy_id=info.id,
        strategy_name=info.name,
        opportunity_type=opportunity_type,
        symbol=symbol,
        exchange=exchange,
        side=side,
        entry_price=float(entry_price),
        exit_price=float(exit_price),
        stop_loss=None if stop_loss is None else float(stop_loss),
        take_profit=None if take_profit is None else float(take_profit),
        profit_potential_usd=round(float(profit_potential_usd), 2),
        required_capital_usd=round(float(required_capital_usd), 2),
        confidence_score=round(min(1.0, max(0.0, float(confidence))), 4),
        risk_level=risk_level,
        estimated_timeframe=timeframe,
        net_edge_bps=round(float(net_edge_bps), 2),
        capacity_usd=round(float(capacity_usd), 2),
        legs=legs or [],
        evidence=evidence,
        data_as_of=iso_ms(market.as_of_ms),
        expires_at=iso_ms(market.as_of_ms + valid_for_ms),
        discovered_at=iso_ms(market.as_of_ms),
        metadata=metadata or {},
    )
