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
    hostile = ",".join(f"{'X' * 200}{i}" for i in range(5000))  # about 1 MB of symbols
    with pytest.raises(InvalidRequest) as refused:
        norm(symbols=hostile)
    assert refused.value.field == "symbols"
    assert "and 4995 more" in refused.value.message
    assert len(refused.value.message) < 500
