"""The product's nouns: a scan, its strategies' states and the opportunities it finds.

These are the shapes every layer exchanges and the JSON the API renders; the store keeps them
as they are, so a record read on any process is the record written on any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class ScanStatus(StrEnum):
    QUEUED = "queued"
    SCANNING = "scanning"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_SCAN_STATUSES


TERMINAL_SCAN_STATUSES = frozenset(
    {ScanStatus.COMPLETE, ScanStatus.PARTIAL, ScanStatus.FAILED, ScanStatus.CANCELLED}
)


class StrategyStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self not in (StrategyStatus.QUEUED, StrategyStatus.RUNNING)


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


RISK_ORDER = {level: i for i, level in enumerate(RiskLevel)}


class Leg(BaseModel):
    """One order of a multi-leg trade."""

    model_config = ConfigDict(frozen=True)

    exchange: str
    symbol: str = Field(description="the instrument, e.g. BTC/USDT, or an option's symbol")
    side: str = Field(description="buy | sell")
    price: float = Field(description="limit price in quote currency (USD-pegged)")
    size: float = Field(description="in units of the base asset (contracts for options)")
    instrument: str = Field(default="spot", description="spot | perp | future | option")


class Opportunity(BaseModel):
    """One concrete trade. Prices in quote currency (USD-pegged), sizes in base units."""

    model_config = ConfigDict(frozen=True)

    opportunity_id: str = Field(description="the same finding on the same snapshot has the same id")
    strategy_id: str
    strategy_name: str
    opportunity_type: str = Field(description="what kind of trade, e.g. spot, funding_carry")
    symbol: str = Field(description="the underlying market, e.g. BTC/USDT")
    exchange: str = Field(description="the venue of the main leg")
    side: str = Field(description="the direction of the main leg (buy | sell, or a structure)")
    entry_price: float = Field(description="price to enter the main leg at, quote currency")
    exit_price: float = Field(description="expected exit price of the main leg, quote currency")
    stop_loss: float | None = Field(default=None, description="exit if the price reaches it")
    take_profit: float | None = Field(default=None, description="target exit price")
    profit_potential_usd: float = Field(
        description="expected profit after fees and slippage at the stated size, USD"
    )
    required_capital_usd: float = Field(description="capital the trade ties up, USD")
    confidence_score: float = Field(
        ge=0.0, le=1.0, description="0..1, from the evidence; ranks, not yet a probability"
    )
    risk_level: RiskLevel
    estimated_timeframe: str = Field(description="minutes | hours | days | weeks")
    net_edge_bps: float = Field(
        description="edge after fees and slippage, basis points; its basis and horizon differ "
        "by strategy (see docs/api.md)"
    )
    capacity_usd: float = Field(
        default=0.0, description="size the book absorbs before the edge is gone, USD"
    )
    legs: list[Leg] = Field(default_factory=list, description="every order of the trade")
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="the measurements behind it, by name"
    )
    data_as_of: str = Field(description="the market snapshot's time, ISO 8601 UTC")
    expires_at: str = Field(description="do not act on it after this, ISO 8601 UTC")
    discovered_at: str = Field(description="ISO 8601 UTC")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def rank_score(self) -> float:
        """Risk-adjusted net edge: what the results are ranked by."""
        penalty = 1.0 + RISK_ORDER[self.risk_level]
        return self.net_edge_bps * self.confidence_score / penalty


class Holding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    symbol: str = Field(description="BTC, BTC/USDT or BTC-USDT; quoted in USDT if no quote given")
    quantity: float = Field(gt=0, description="units of the base asset held, > 0")


class Portfolio(BaseModel):
    """What the user holds: the hedging, risk and portfolio strategies need it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    holdings: tuple[Holding, ...] = ()
    cash_usd: float = Field(default=0.0, ge=0, description="cash beside the holdings, USD, >= 0")


class ResultFilters(BaseModel):
    """The filters of `POST /discover`: they really filter the results of the scan."""

    model_config = ConfigDict(frozen=True)

    risk_levels: tuple[RiskLevel, ...] = ()
    min_profit_potential: float | None = None
    max_required_capital: float | None = None
    preferred_timeframes: tuple[str, ...] = ()
    opportunity_types: tuple[str, ...] = ()

    def accepts(self, opp: Opportunity) -> bool:
        if self.risk_levels and opp.risk_level not in self.risk_levels:
            return False
        if (
            self.min_profit_potential is not None
            and opp.profit_potential_usd < self.min_profit_potential
        ):
            return False
        if (
            self.max_required_capital is not None
            and opp.required_capital_usd > self.max_required_capital
        ):
            return False
        if self.preferred_timeframes and opp.estimated_timeframe not in self.preferred_timeframes:
            return False
        return not (self.opportunity_types and opp.opportunity_type not in self.opportunity_types)


class ScanRequest(BaseModel):
    """A normalised scan request: sorted, deduplicated, defaults filled in.

    Two requests that mean the same thing are equal, and so share a fingerprint.
    """

    model_config = ConfigDict(frozen=True)

    strategy_ids: tuple[str, ...]
    symbols: tuple[str, ...] = ()  # empty = the whole universe
    asset_tiers: tuple[str, ...] = ()
    capital_usd: float = 10_000.0
    portfolio: Portfolio | None = None
    filters: ResultFilters = ResultFilters()
    force_refresh: bool = False


@dataclass(slots=True)
class StrategyState:
    """One strategy's state within a scan. A dataclass: a status poll builds one per strategy."""

    status: StrategyStatus = StrategyStatus.QUEUED
    opportunities: int = 0
    duration_ms: int | None = None
    error: str | None = None
    attempts: int = 0


class ScanRecord(BaseModel):
    scan_id: str
    user_id: str
    status: ScanStatus
    request: ScanRequest
    fingerprint: str
    created_at: float  # epoch seconds, by the store's clock
    updated_at: float
    deadline_at: float
    finished_at: float | None = None
    opportunities_found: int = 0
    strategies_completed: int = 0
    error: str | None = None
    version: int = 0  # bumped by every change; the SSE stream emits on it

    @property
    def total_strategies(self) -> int:
        return len(self.request.strategy_ids)


@dataclass(frozen=True)
class ScanView:
    """Everything a status poll needs, read in one store round trip.

    The results come as the store holds them, one JSON array, best first (the best ten, or every
    result when asked): a status poll passes it through without parsing it (the hot path);
    ``top`` parses it for whoever needs objects.
    """

    record: ScanRecord
    strategies: dict[str, StrategyState]
    top_json: str = "[]"

    @cached_property
    def top(self) -> list[Opportunity]:
        return _OPPORTUNITIES.validate_json(self.top_json)


_OPPORTUNITIES = TypeAdapter(list[Opportunity])


class StrategyOutcome(BaseModel):
    """What one strategy job reports back to the store."""

    status: StrategyStatus
    opportunities: list[Opportunity] = Field(default_factory=list)
    duration_ms: int
    error: str | None = None
