"""The product's nouns: a scan, its strategies' states and the opportunities it finds.

These are the shapes every layer exchanges and the JSON the API renders; the store keeps them
as they are, so a record read on any process is the record written on any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter


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

    # Its numbers are finite: JSON cannot carry inf or nan, so validation refuses them.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    exchange: str
    symbol: str = Field(description="the instrument, e.g. BTC/USDT, or an option's symbol")
    side: str = Field(description="buy | sell")
    price: float = Field(description="limit price in quote currency (USD-pegged)")
    size: float = Field(description="in units of the base asset (contracts for options)")
    instrument: str = Field(default="spot", description="spot | perp | future | option")
    post_only: bool = Field(
        default=False,
        description="a resting maker quote: it fills only when the market comes to its price, "
        "and pays the maker fee; otherwise the leg is taken at once",
    )


class Opportunity(BaseModel):
    """One concrete trade. Prices in quote currency (USD-pegged), sizes in base units."""

    # Every number is finite: validation refuses inf and nan (JSON cannot carry them, and one
    # would poison the ranking). ``non_finite_field`` finds one in an instance made without
    # validation.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

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
        ge=0.0,
        le=1.0,
        description="the probability that the trade ends profitable after every cost by its "
        "horizon, calibrated on forward tests (evidence.model_score is the strategy's own score)",
    )
    risk_level: RiskLevel
    horizon_seconds: int = Field(
        gt=0, description="how long the trade is meant to be held, seconds; every return is over it"
    )
    estimated_timeframe: str = Field(
        description="horizon_seconds in words: minutes (< 2 h) | hours (< 2 d) | days (< 14 d) "
        "| weeks"
    )
    net_edge_bps: float = Field(
        description="expected net return on required_capital_usd over horizon_seconds, basis "
        "points: profit_potential_usd / required_capital_usd x 10,000"
    )
    annualized_return_pct: float = Field(
        description="net_edge_bps scaled to a year, simple (not compounded), percent"
    )
    risk_reduction_usd: float = Field(
        default=0.0,
        description="for a suggestion that reduces risk (a hedge, a sale, a rebalance): the "
        "loss it takes out of the portfolio's tail, USD; 0 for a trade",
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
        """What the results are ranked by: ``rank_score(...)`` of this opportunity's numbers."""
        return rank_score(
            self.net_edge_bps, self.confidence_score, self.horizon_seconds, self.risk_level
        )

    def non_finite_field(self) -> str | None:
        """The first number that is not finite (inf or nan), by name; None when all are.

        Validation refuses them, but ``model_construct`` and ``model_copy(update=...)`` do not
        validate: whoever stores an opportunity checks it here first.
        """
        for name in NUMBER_FIELDS:
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                return name
        for i, leg in enumerate(self.legs):
            for name in ("price", "size"):
                if not math.isfinite(getattr(leg, name)):
                    return f"legs[{i}].{name}"
        return None if math.isfinite(self.rank_score) else "rank_score"


DAY_SECONDS = 86_400
MIN_RANK_HORIZON_SECONDS = 3_600


def rank_score(
    net_edge_bps: float, confidence: float, horizon_seconds: float, risk_level: RiskLevel
) -> float:
    """One risk-adjusted score for every strategy (docs/api.md, "Ranking").

    The edge is over the trade's own horizon, and a trade's risk grows like the square root of
    time held, so the edge per square root of a day compares a ten-minute scalp with a month's
    carry (the horizon counted as at least an hour). It is weighted by the confidence and
    divided by one plus the risk level's rank (low 0 .. very high 3).
    """
    days = max(horizon_seconds, MIN_RANK_HORIZON_SECONDS) / DAY_SECONDS
    return net_edge_bps * confidence / math.sqrt(days) / (1.0 + RISK_ORDER[risk_level])


def timeframe_of(horizon_seconds: float) -> str:
    """``estimated_timeframe``'s word for a horizon."""
    if horizon_seconds < 2 * 3_600:
        return "minutes"
    if horizon_seconds < 2 * DAY_SECONDS:
        return "hours"
    if horizon_seconds < 14 * DAY_SECONDS:
        return "days"
    return "weeks"


# The numbers of an opportunity, in the order they are checked (the Redis store's completion
# script checks the same ones, in the same order).
NUMBER_FIELDS = (
    "entry_price",
    "exit_price",
    "stop_loss",
    "take_profit",
    "profit_potential_usd",
    "required_capital_usd",
    "confidence_score",
    "net_edge_bps",
    "annualized_return_pct",
    "risk_reduction_usd",
    "capacity_usd",
)


# The bounds of a request's portfolio (docs/api.md, "Limits"): every number a strategy computes
# from it stays finite, and a request stays small in the store.
NAME_CHARS = 64  # a symbol, a strategy id, any name a request carries
MAX_HOLDINGS = 500
MAX_QUANTITY = 10**15  # base units
MAX_USD = 10**12  # any amount of USD
# The smallest capital a trade can be sized with: the venues' minimum order on spot is 5-10 USD
# of notional, so less cannot buy anything (it returned "opportunities" of 0.00 USD).
MIN_CAPITAL_USD = 10.0

# A JSON number, not a string or a boolean that lax parsing would turn into one.
Number = Annotated[float, Strict()]


class Holding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    symbol: str = Field(
        max_length=NAME_CHARS,
        description=f"BTC, BTC/USDT or BTC-USDT (at most {NAME_CHARS} characters); quoted in "
        "USDT if no quote given",
    )
    quantity: Number = Field(
        gt=0, le=MAX_QUANTITY, description="units of the base asset held, > 0 and <= 1e15"
    )


class Portfolio(BaseModel):
    """What the user holds: the hedging, risk and portfolio strategies need it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    holdings: tuple[Holding, ...] = Field(
        default=(), max_length=MAX_HOLDINGS, description=f"at most {MAX_HOLDINGS} holdings"
    )
    cash_usd: Number = Field(
        default=0.0, ge=0, le=MAX_USD, description="cash beside the holdings, USD, 0 to 1e12"
    )


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
    notice: str | None = None  # what the reader should know that the record cannot say

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
