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

import numpy as np

from oppscan.domain.errors import NonFiniteValue
from oppscan.domain.models import (
    Leg,
    Opportunity,
    Portfolio,
    RiskLevel,
    timeframe_of,
)
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.calibration import CALIBRATION

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


YEAR_SECONDS = 365 * 86_400


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made Python numbers and lists, so that the
    evidence always serialises (a numpy bool in it once failed a whole strategy's results)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic | np.ndarray):
        return _plain(value.tolist()) if isinstance(value, np.ndarray) else value.item()
    return value


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
    horizon_seconds: float,
    valid_for_ms: int,
    evidence: dict[str, Any],
    risk_reduction_usd: float = 0.0,
    stop_loss: float | None = None,
    take_profit: float | None = None,
    capacity_usd: float = 0.0,
    legs: list[Leg] | None = None,
    metadata: dict[str, Any] | None = None,
    key: object = None,
) -> Opportunity:
    """One way to make an opportunity: timestamps from the snapshot, confidence clamped to 0..1,
    and the edge fields derived here, so that every strategy states them on one basis.

    ``profit_potential_usd`` is the trade's expected profit after every cost over
    ``horizon_seconds``, at its stated size, on ``required_capital_usd`` (which must be > 0):
    ``net_edge_bps`` and ``annualized_return_pct`` are that return, never a strategy's own figure.
    A suggestion that reduces risk states the tail loss it removes in ``risk_reduction_usd``,
    never in the profit.

    ``confidence`` is the strategy's model score (0..1, from its evidence); the opportunity's
    ``confidence_score`` is that score calibrated to a probability (``calibration``), and the
    score itself stays in the evidence as ``model_score``.

    Raises ``NonFiniteValue`` (naming the number and the symbol) if a number is inf or nan,
    checked before the clamp and the rounding could hide one.
    """
    if not required_capital_usd > 0:
        raise ValueError(f"{info.id}: required_capital_usd must be > 0 ({symbol})")
    if not horizon_seconds >= 1:
        raise ValueError(f"{info.id}: horizon_seconds must be >= 1 ({symbol})")
    net_return = profit_potential_usd / required_capital_usd
    score = min(1.0, max(0.0, float(confidence)))
    numbers = {
        "entry_price": entry_price,
        "exit_price": exit_price,
        "stop_loss": stop_loss,
        "take_profit": take_profit,
        "profit_potential_usd": profit_potential_usd,
        "required_capital_usd": required_capital_usd,
        "confidence_score": confidence,
        "net_edge_bps": net_return * 1e4,
        "risk_reduction_usd": risk_reduction_usd,
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
        confidence_score=round(CALIBRATION.probability(info.id, score), 4),
        risk_level=risk_level,
        horizon_seconds=round(horizon_seconds),
        estimated_timeframe=timeframe_of(horizon_seconds),
        net_edge_bps=round(float(net_return * 1e4), 2),
        annualized_return_pct=round(float(net_return * YEAR_SECONDS / horizon_seconds * 100), 2),
        risk_reduction_usd=round(float(risk_reduction_usd), 2),
        capacity_usd=round(float(capacity_usd), 2),
        legs=legs or [],
        evidence={**_plain(evidence), "model_score": round(score, 4)},
        data_as_of=iso_ms(market.as_of_ms),
        expires_at=iso_ms(market.as_of_ms + valid_for_ms),
        discovered_at=iso_ms(market.as_of_ms),
        metadata=metadata or {},
    )
