"""Turning a raw ``POST /discover`` body into a normalised, validated ``ScanRequest``."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Annotated

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from oppscan.domain.models import (
    MAX_HOLDINGS,
    MAX_USD,
    MIN_CAPITAL_USD,
    NAME_CHARS,
    Holding,
    Number,
    Portfolio,
    ResultFilters,
    RiskLevel,
    ScanRequest,
)
from oppscan.service.errors import InvalidRequest

ASSET_TIERS: dict[str, slice] = {
    "large_cap": slice(0, 10),
    "mid_cap": slice(10, 30),
    "small_cap": slice(30, None),
}
TIMEFRAMES = ("minutes", "hours", "days", "weeks")

MAX_STRATEGY_IDS = 64  # the catalog has 14
MAX_SYMBOLS = 256  # the universe has 40 (the synthetic market, and ccxt's default)
MAX_CHOICES = 16  # asset_tiers, filter_by_risk_level, preferred_timeframes: 3 or 4 values each
MAX_OPPORTUNITY_TYPES = 64


def _split(value: object) -> object:
    # One comma-separated string is a list of its parts: they are counted and bounded as items.
    return value.split(",") if isinstance(value, str) else value


_Name = Annotated[str, StringConstraints(max_length=NAME_CHARS)]


def _csv(max_items: int) -> BeforeValidator:
    """Splits a comma-separated string; documents the field as a list or a string."""
    items = Annotated[list[_Name], Field(max_length=max_items)]
    return BeforeValidator(_split, json_schema_input_type=items | str | None)


# Each: a list of at most N strings of at most NAME_CHARS characters, or one comma-separated
# string of as many; null = not given.
StrategyIds = Annotated[
    Annotated[list[_Name], Field(max_length=MAX_STRATEGY_IDS)] | None, _csv(MAX_STRATEGY_IDS)
]
Symbols = Annotated[Annotated[list[_Name], Field(max_length=MAX_SYMBOLS)] | None, _csv(MAX_SYMBOLS)]
Choices = Annotated[Annotated[list[_Name], Field(max_length=MAX_CHOICES)] | None, _csv(MAX_CHOICES)]
OpportunityTypes = Annotated[
    Annotated[list[_Name], Field(max_length=MAX_OPPORTUNITY_TYPES)] | None,
    _csv(MAX_OPPORTUNITY_TYPES),
]


def _list_or_csv_text(max_items: int) -> str:
    return (
        f"a list of at most {max_items} strings of at most {NAME_CHARS} characters, or one "
        "comma-separated string of as many"
    )


USD_BOUNDS = "USD, 0 to 1e12"


class DiscoverInput(BaseModel):
    """The body of ``POST /discover``; every field optional, each bounded as it says."""

    # Infinity and NaN are not amounts: refused here, they could never be stored and read back.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    strategy_ids: StrategyIds = Field(
        default=None,
        description=f"strategy ids from GET /strategies ({_list_or_csv_text(MAX_STRATEGY_IDS)}); "
        "default: every strategy the token allows",
    )
    symbols: Symbols = Field(
        default=None,
        description="markets to scan, e.g. BTC, ETH/USDT, SOL-USDT "
        f"({_list_or_csv_text(MAX_SYMBOLS)}; quoted in USDT when no quote is given); default: "
        "the whole universe",
    )
    asset_tiers: Choices = Field(
        default=None,
        description=f"large_cap | mid_cap | small_cap ({_list_or_csv_text(MAX_CHOICES)}): the "
        "universe's symbols by 24 h volume rank (1-10, 11-30, the rest), intersected with "
        "`symbols`",
    )
    force_refresh: bool = Field(
        default=False,
        description="fetch market data now instead of reusing this minute's snapshot, and never "
        "reuse a finished scan",
    )
    capital_usd: Number = Field(
        default=10_000.0,
        le=MAX_USD,
        description="capital to size each trade with, USD, >= 10 and <= 1e12",
    )
    portfolio: Portfolio | None = Field(
        default=None,
        description=f"your holdings (at most {MAX_HOLDINGS}): the portfolio strategies need them",
    )
    filter_by_risk_level: Choices = Field(
        default=None,
        description="keep only these risk levels: low | medium | high | very_high "
        f"({_list_or_csv_text(MAX_CHOICES)})",
    )
    min_profit_potential: Number | None = Field(
        default=None,
        le=MAX_USD,
        description=f"keep only opportunities with at least this profit, {USD_BOUNDS}",
    )
    max_required_capital: Number | None = Field(
        default=None,
        le=MAX_USD,
        description=f"keep only opportunities needing at most this capital, {USD_BOUNDS}",
    )
    preferred_timeframes: Choices = Field(
        default=None,
        description="keep only these timeframes: minutes | hours | days | weeks "
        f"({_list_or_csv_text(MAX_CHOICES)})",
    )
    opportunity_type: OpportunityTypes = Field(
        default=None,
        description="keep only these opportunity types "
        f"({_list_or_csv_text(MAX_OPPORTUNITY_TYPES)})",
    )


ListOrCsv = list[str] | str | None


def _items(value: ListOrCsv) -> list[str]:
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else value
    return [p.strip() for p in parts if p and p.strip()]


SHOWN_UNKNOWN = 5  # a refusal names a few unknown values, never echoes a whole hostile body


def _check(field: str, given: Sequence[str], allowed: Collection[str]) -> tuple[str, ...]:
    unknown = list(dict.fromkeys(g for g in given if g not in allowed))
    if unknown:
        shown = [value[:40] for value in unknown[:SHOWN_UNKNOWN]]
        more = f" and {len(unknown) - SHOWN_UNKNOWN} more" if len(unknown) > SHOWN_UNKNOWN else ""
        raise InvalidRequest(field, f"unknown value(s) {shown}{more}", sorted(allowed))
    return tuple(sorted(set(given)))


def normalise_symbol(raw: str) -> str:
    symbol = raw.strip().upper().replace("-", "/")
    return symbol if "/" in symbol else f"{symbol}/USDT"


def normalise(
    body: DiscoverInput,
    *,
    catalog: Sequence[str],
    allowed_strategies: Collection[str] | None,
    universe: Sequence[str],
) -> ScanRequest:
    """Validate against the catalog, the token's strategies and the market's universe."""
    strategy_ids = _items(body.strategy_ids)
    permitted = [s for s in catalog if allowed_strategies is None or s in allowed_strategies]
    if strategy_ids:
        _check("strategy_ids", strategy_ids, catalog)
        forbidden = [s for s in strategy_ids if s not in permitted]
        if forbidden:
            raise InvalidRequest(
                "strategy_ids", f"not allowed by your token: {forbidden}", permitted
            )
        chosen = tuple(sorted(set(strategy_ids)))
    else:
        chosen = tuple(sorted(permitted))
    if not chosen:
        raise InvalidRequest("strategy_ids", "your token allows no strategy", catalog)

    symbols = _check("symbols", [normalise_symbol(s) for s in _items(body.symbols)], universe)
    tiers = _check("asset_tiers", _items(body.asset_tiers), ASSET_TIERS)
    if tiers:
        in_tiers = {s for t in tiers for s in universe[ASSET_TIERS[t]]}
        symbols = tuple(sorted((set(symbols) or set(universe)) & in_tiers))
        if not symbols:
            raise InvalidRequest("asset_tiers", "no symbol left in these tiers", list(ASSET_TIERS))

    if not body.capital_usd >= MIN_CAPITAL_USD:
        raise InvalidRequest(
            "capital_usd",
            f"must be at least {MIN_CAPITAL_USD:g} USD: the venues' smallest order",
            [f">= {MIN_CAPITAL_USD:g}"],
        )
    for name in ("min_profit_potential", "max_required_capital"):
        value = getattr(body, name)
        if value is not None and value < 0:
            raise InvalidRequest(name, "must not be negative", [">= 0"])
    portfolio = body.portfolio
    if portfolio is not None:
        held = [normalise_symbol(h.symbol) for h in portfolio.holdings]
        _check("portfolio.holdings.symbol", held, universe)
        portfolio = Portfolio(
            holdings=tuple(
                Holding(symbol=s, quantity=h.quantity)
                for s, h in sorted(zip(held, portfolio.holdings, strict=True), key=lambda p: p[0])
            ),
            cash_usd=portfolio.cash_usd,
        )

    filters = ResultFilters(
        risk_levels=tuple(
            RiskLevel(r)
            for r in _check(
                "filter_by_risk_level",
                _items(body.filter_by_risk_level),
                [r.value for r in RiskLevel],
            )
        ),
        min_profit_potential=body.min_profit_potential,
        max_required_capital=body.max_required_capital,
        preferred_timeframes=_check(
            "preferred_timeframes", _items(body.preferred_timeframes), TIMEFRAMES
        ),
        opportunity_types=tuple(sorted(set(_items(body.opportunity_type)))),
    )
    return ScanRequest(
        strategy_ids=chosen,
        symbols=symbols,
        asset_tiers=tiers,
        capital_usd=float(body.capital_usd),
        portfolio=portfolio,
        filters=filters,
        force_refresh=body.force_refresh,
    )


def fingerprint(request: ScanRequest) -> str:
    """Same meaning, same fingerprint; ``force_refresh`` is how, not what, so it is left out."""
    canonical = orjson.dumps(
        request.model_dump(mode="json", exclude={"force_refresh"}), option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()[:24]
