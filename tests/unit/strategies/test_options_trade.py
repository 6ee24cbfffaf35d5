from dataclasses import replace

import numpy as np
import pytest

from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.derivatives.options_trade import STRATEGY
from oppscan.strategies.derivatives.options_trade import realised_vol as strategy_rv
from tests.unit.strategies.derivatives_market import option_chain, realised_vol, snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0}
REQUEST = StrategyRequest(capital_usd=50_000.0)


def _market(iv_over_rv: float, **chain_kwargs: object) -> MarketSnapshot:
    market = snapshot(PRICES, seed=11)
    rv = realised_vol(market, "okx", "ETH/USDT")
    chain = option_chain(3_000.0, rv * iv_over_rv, **chain_kwargs)  # type: ignore[arg-type]
    return replace(market, options={("okx", "ETH/USDT"): chain})


def test_strategy_measures_the_same_realised_vol() -> None:
    market = snapshot(PRICES, seed=11)
    rv, se = strategy_rv(market.ohlcv[("okx", "ETH/USDT", "1h")].close)  # type: ignore[misc]
    assert rv == pytest.approx(realised_vol(market, "okx", "ETH/USDT"))
    assert 0.01 < se < 0.1


def test_implied_equal_to_realised_gives_nothing() -> None:
    assert STRATEGY.scan(_market(1.0), REQUEST) == []


def test_implied_slightly_above_realised_is_within_the_error_band() -> None:
    assert STRATEGY.scan(_market(1.05), REQUEST) == []


def test_rich_implied_vol_sells_a_straddle() -> None:
    found = STRATEGY.scan(_market(1.6), REQUEST)
    assert [o.opportunity_type for o in found] == ["sell_volatility"]
    opp = found[0]
    ev = opp.evidence
    assert opp.side == "sell" and ev["iv_rv_ratio"] == pytest.approx(1.6, rel=0.02)
    assert ev["realised_vol_used"] > ev["realised_vol_close_to_close"]
    assert ev["premium"] > ev["model_value_at_rv"] + ev["fees_per_straddle"]
    # A short straddle: delta within 2N(d1)-1 of neutral, short gamma and vega, earns theta.
    assert abs(ev["delta"]) < 0.3 * ev["contracts"]
    assert ev["gamma"] < 0 and ev["vega"] < 0 and ev["theta"] > 0
    assert len(opp.legs) == 2 and {leg.instrument for leg in opp.legs} == {"option"}
    assert {leg.symbol[-1] for leg in opp.legs} == {"C", "P"}
    assert opp.legs[0].symbol.startswith("ETH-")
    assert opp.required_capital_usd <= REQUEST.capital_usd + 0.01
    assert opp.profit_potential_usd > 0 and 0 < opp.confidence_score <= 1


def test_cheap_implied_vol_buys_a_straddle() -> None:
    found = STRATEGY.scan(_market(0.55), REQUEST)
    assert [(o.opportunity_type, o.side) for o in found] == [("buy_volatility", "buy")]
    assert found[0].evidence["vega"] > 0 and found[0].evidence["theta"] < 0


def test_a_quote_far_off_the_smile_is_traded_alone() -> None:
    rich = {(30, 1.1, True): 0.15}  # the 30-day 110% call quoted 15 vol points rich
    found = STRATEGY.scan(_market(1.0, shifts=rich), REQUEST)
    assert [o.opportunity_type for o in found] == ["mispriced_option"]
    opp = found[0]
    assert opp.side == "sell" and opp.evidence["iv_residual"] == pytest.approx(0.15, abs=0.01)
    assert opp.evidence["bid"] > opp.evidence["model_value"]
    assert opp.legs[0].symbol.endswith("-3300-C")


def test_a_quote_off_the_smile_by_less_than_the_spread_is_not() -> None:
    slightly = {(30, 1.1, True): 0.002}
    assert STRATEGY.scan(_market(1.0, shifts=slightly), REQUEST) == []


def test_missing_ivs_are_solved_from_the_quotes() -> None:
    # Live venues may publish no IV column: the strategy must reprice from the premiums.
    market = _market(1.6)
    chain = market.options[("okx", "ETH/USDT")]
    blank = replace(chain, iv=np.full(len(chain), np.nan))
    found = STRATEGY.scan(replace(market, options={("okx", "ETH/USDT"): blank}), REQUEST)
    assert [o.opportunity_type for o in found] == ["sell_volatility"]
    assert found[0].evidence["iv_rv_ratio"] == pytest.approx(1.6, rel=0.02)
