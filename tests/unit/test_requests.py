"""Normalising and fingerprinting a discover request (pure code)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oppscan.domain.models import RiskLevel, ScanRequest
from oppscan.service.errors import InvalidRequest
from oppscan.service.requests import DiscoverInput, fingerprint, normalise

CATALOG = ["spot_momentum_strategy", "spot_mean_reversion", "pairs_trading"]
UNIVERSE = [f"C{i}/USDT" for i in range(40)] + ["BTC/USDT", "ETH/USDT"]


def from_body(body: dict[str, object], allowed: set[str] | None = None) -> ScanRequest:
    return normalise(
        DiscoverInput.model_validate(body),
        catalog=CATALOG,
        allowed_strategies=allowed,
        universe=UNIVERSE,
    )


def norm(allowed: set[str] | None = None, **body: object) -> ScanRequest:
    return from_body(body, allowed)


def test_defaults_pick_every_allowed_strategy_and_the_whole_universe() -> None:
    request = norm()
    assert request.strategy_ids == tuple(sorted(CATALOG))
    assert request.symbols == ()
    assert request.capital_usd == 10_000
    limited = norm(allowed={"pairs_trading"})
    assert limited.strategy_ids == ("pairs_trading",)


def test_lists_and_comma_strings_mean_the_same() -> None:
    a = norm(strategy_ids="pairs_trading, spot_momentum_strategy", symbols="btc,eth")
    b = norm(strategy_ids=["spot_momentum_strategy", "pairs_trading"], symbols=["ETH/USDT", "BTC"])
    assert a == b
    assert fingerprint(a) == fingerprint(b)


def test_force_refresh_does_not_change_the_fingerprint_but_capital_does() -> None:
    base = norm()
    assert fingerprint(norm(force_refresh=True)) == fingerprint(base)
    assert fingerprint(norm(capital_usd=5000)) != fingerprint(base)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy_ids": ["nope"]}, "strategy_ids"),
        ({"symbols": ["DOGEFAKE"]}, "symbols"),
        ({"capital_usd": -5}, "capital_usd"),
        ({"capital_usd": 0}, "capital_usd"),
        ({"capital_usd": 1e-9}, "capital_usd"),  # 19 "opportunities" of 0.00 USD, once
        ({"capital_usd": 9.99}, "capital_usd"),
        ({"filter_by_risk_level": ["extreme"]}, "filter_by_risk_level"),
        ({"preferred_timeframes": ["fortnights"]}, "preferred_timeframes"),
        ({"asset_tiers": ["gigantic"]}, "asset_tiers"),
        ({"min_profit_potential": -1}, "min_profit_potential"),
        (
            {"portfolio": {"holdings": [{"symbol": "NOPE", "quantity": 1}]}},
            "portfolio.holdings.symbol",
        ),
    ],
)
def test_bad_input_names_the_field_and_what_is_allowed(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        from_body(body)
    assert caught.value.field == field
    assert caught.value.allowed


def test_a_strategy_the_token_does_not_allow_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(InvalidRequest) as caught:
        norm(allowed={"pairs_trading"}, strategy_ids=["spot_momentum_strategy"])
    assert caught.value.field == "strategy_ids"
    assert caught.value.allowed == ["pairs_trading"]


def test_asset_tiers_narrow_the_universe_by_size_rank() -> None:
    request = norm(asset_tiers=["large_cap"])
    assert request.symbols == tuple(sorted(UNIVERSE[:10]))


def test_filters_and_portfolio_are_normalised() -> None:
    request = norm(
        filter_by_risk_level="low,medium",
        portfolio={
            "holdings": [{"symbol": "eth", "quantity": 2}, {"symbol": "BTC", "quantity": 1}]
        },
    )
    assert request.filters.risk_levels == (RiskLevel.LOW, RiskLevel.MEDIUM)
    assert request.portfolio is not None
    held = [h.symbol for h in request.portfolio.holdings]
    assert held == ["BTC/USDT", "ETH/USDT"]


@pytest.mark.parametrize("value", [True, "10000", None])
def test_numbers_must_be_json_numbers(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        DiscoverInput.model_validate({"capital_usd": value})
    assert caught.value.errors()[0]["loc"] == ("capital_usd",)


def test_a_refusal_names_a_few_unknown_values_never_the_whole_body() -> None:
    hostile = ",".join(f"{'X' * 60}{i}" for i in range(256))  # as many and as long as allowed
    with pytest.raises(InvalidRequest) as refused:
        norm(symbols=hostile)
    assert refused.value.field == "symbols"
    assert "and 251 more" in refused.value.message
    assert len(refused.value.message) < 500


def _holdings(n: int) -> list[dict[str, object]]:
    return [{"symbol": "BTC", "quantity": 1} for _ in range(n)]


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        # Lists: a bounded number of items, as a list or as one comma-separated string.
        ({"opportunity_type": ["spot"] * 65}, ("opportunity_type",), "too_long"),
        ({"opportunity_type": ",".join(["spot"] * 65)}, ("opportunity_type",), "too_long"),
        ({"strategy_ids": ["pairs_trading"] * 65}, ("strategy_ids",), "too_long"),
        ({"symbols": ["BTC"] * 257}, ("symbols",), "too_long"),
        ({"asset_tiers": ["large_cap"] * 17}, ("asset_tiers",), "too_long"),
        ({"filter_by_risk_level": ["low"] * 17}, ("filter_by_risk_level",), "too_long"),
        ({"preferred_timeframes": ["hours"] * 17}, ("preferred_timeframes",), "too_long"),
        # Strings: at most 64 characters each.
        ({"opportunity_type": ["x" * 65]}, ("opportunity_type", 0), "string_too_long"),
        ({"opportunity_type": "spot," + "x" * 65}, ("opportunity_type", 1), "string_too_long"),
        ({"symbols": "BTC," + "B" * 10_000_000}, ("symbols", 1), "string_too_long"),
        (
            {"portfolio": {"holdings": [{"symbol": "B" * 65, "quantity": 1}]}},
            ("portfolio", "holdings", 0, "symbol"),
            "string_too_long",
        ),
        ({"portfolio": {"holdings": _holdings(501)}}, ("portfolio", "holdings"), "too_long"),
        # Numbers: finite, bounded, and JSON numbers (not booleans or strings).
        ({"capital_usd": 1e12 + 1}, ("capital_usd",), "less_than_equal"),
        ({"min_profit_potential": 1e13}, ("min_profit_potential",), "less_than_equal"),
        ({"max_required_capital": 1e13}, ("max_required_capital",), "less_than_equal"),
        (
            {"portfolio": {"holdings": [{"symbol": "BTC", "quantity": 1e308}]}},
            ("portfolio", "holdings", 0, "quantity"),
            "less_than_equal",
        ),
        (
            {"portfolio": {"holdings": [{"symbol": "BTC", "quantity": True}]}},
            ("portfolio", "holdings", 0, "quantity"),
            "float_type",
        ),
        ({"portfolio": {"cash_usd": 1e13}}, ("portfolio", "cash_usd"), "less_than_equal"),
        ({"portfolio": {"cash_usd": False}}, ("portfolio", "cash_usd"), "float_type"),
        ({"portfolio": {"cash_usd": "2000"}}, ("portfolio", "cash_usd"), "float_type"),
    ],
)
def test_every_field_is_bounded(
    body: dict[str, object], loc: tuple[object, ...], kind: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        DiscoverInput.model_validate(body)
    [error] = caught.value.errors()
    assert (error["loc"], error["type"]) == (loc, kind)


def test_a_body_at_every_limit_is_accepted() -> None:
    body = DiscoverInput.model_validate(
        {
            "strategy_ids": ["pairs_trading"] * 64,
            "symbols": ",".join(["c0"] * 256),
            "asset_tiers": ["large_cap"] * 16,
            "capital_usd": 1e12,
            "portfolio": {
                "holdings": [{"symbol": "C1", "quantity": 1e15}] * 500,
                "cash_usd": 1e12,
            },
            "filter_by_risk_level": ["low"] * 16,
            "min_profit_potential": 1e12,
            "max_required_capital": 1e12,
            "preferred_timeframes": ["hours"] * 16,
            "opportunity_type": ["x" * 64] * 64,
        }
    )
    request = normalise(body, catalog=CATALOG, allowed_strategies=None, universe=UNIVERSE)
    assert request.strategy_ids == ("pairs_trading",)
    assert request.filters.opportunity_types == ("x" * 64,)
    assert request.portfolio is not None and len(request.portfolio.holdings) == 500
