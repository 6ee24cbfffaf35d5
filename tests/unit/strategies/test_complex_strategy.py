import json
from dataclasses import replace

import numpy as np
import pytest

from oppscan.domain.models import Opportunity
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.derivatives.complex_strategy import STRATEGY
from tests.unit.strategies.derivatives_market import option_chain, snapshot

REQUEST = StrategyRequest(capital_usd=20_000.0)


def _market(shifts: dict[tuple[int, float, bool], float] | None = None) -> MarketSnapshot:
    market = snapshot({"BTC/USDT": 90_000.0}, seed=2)
    chain = option_chain(90_000.0, 0.5, shifts=shifts)
    return replace(market, options={("binance", "BTC/USDT"): chain})


def _by_kind(found: list[Opportunity]) -> dict[str, Opportunity]:
    return {o.opportunity_type: o for o in found}


def test_fair_chain_gives_nothing() -> None:
    assert STRATEGY.scan(_market(), REQUEST) == []


def test_rich_wings_make_a_short_iron_condor_with_defined_risk() -> None:
    # The 30-day 90% put and 110% call both quoted 10 vol points rich.
    found = _by_kind(STRATEGY.scan(_market({(30, 0.9, False): 0.1, (30, 1.1, True): 0.1}), REQUEST))
    assert "iron_condor" in found
    condor = found["iron_condor"]
    ev = condor.evidence
    assert condor.side == "short" and ev["net_premium_per_unit"] < 0  # a credit
    assert [leg.side for leg in condor.legs] == ["buy", "sell", "sell", "buy"]
    assert [leg.symbol[-1] for leg in condor.legs] == ["P", "P", "C", "C"]
    assert condor.legs[1].symbol.endswith("-81000-P") and condor.legs[2].symbol.endswith("-99000-C")
    assert all(leg.instrument == "option" for leg in condor.legs)
    # Defined risk: the loss is capped by the wings, and two breakevens bracket the body.
    assert not ev["max_loss_unbounded"] and ev["max_loss_usd"] > 0 and ev["max_profit_usd"] > 0
    low, high = ev["breakevens"]
    assert low < 81_000 < 99_000 < high
    assert condor.required_capital_usd == pytest.approx(ev["max_loss_usd"], rel=1e-3)
    json.dumps(condor.evidence)
    json.dumps(condor.metadata)


def test_a_rich_body_makes_a_long_butterfly() -> None:
    found = _by_kind(STRATEGY.scan(_market({(7, 1.0, True): 0.03}), REQUEST))
    fly = found["butterfly"]
    assert fly.side == "long"
    sides = [leg.side for leg in fly.legs]
    assert sides == ["buy", "sell", "buy"]
    assert fly.legs[1].symbol.endswith("-90000-C")
    # Wing sizes weighted by the strike gaps; a long butterfly risks only its debit.
    ev = fly.evidence
    assert ev["net_premium_per_unit"] > 0
    debit = ev["net_premium_per_unit"] + ev["fees_per_unit"]
    assert ev["max_loss_usd"] == pytest.approx(debit * ev["units"], rel=0.01)


def test_a_cheap_far_option_makes_a_long_calendar() -> None:
    found = _by_kind(STRATEGY.scan(_market({(90, 1.0, True): -0.08}), REQUEST))
    cal = found["calendar"]
    assert cal.side == "long"
    near, far = cal.legs
    assert (near.side, far.side) == ("sell", "buy")
    assert near.symbol.split("-")[2] == far.symbol.split("-")[2] == "90000"
    assert near.symbol.split("-")[1] < far.symbol.split("-")[1]
    # Its loss is capped at the debit (the far option cannot be worth less than nothing): it
    # was labelled unbounded, and margined at the far leg's whole price.
    ev = cal.evidence
    assert ev["max_loss_unbounded"] is False and cal.risk_level == "medium"
    debit = ev["net_premium_per_unit"] + ev["fees_per_unit"]
    assert ev["capital_per_unit"] == pytest.approx(debit, rel=0.02)
    assert cal.required_capital_usd == pytest.approx(ev["max_loss_usd"], rel=1e-3)
    assert cal.horizon_seconds == pytest.approx(ev["days_to_first_expiry"] * 86_400, abs=1)


def test_rich_atm_pair_sells_a_straddle_with_unbounded_risk() -> None:
    rich = {(7, 1.0, True): 0.12, (7, 1.0, False): 0.12}
    found = _by_kind(STRATEGY.scan(_market(rich), REQUEST))
    straddle = found["straddle"]
    assert straddle.side == "short" and straddle.risk_level == "very_high"
    assert straddle.evidence["max_loss_unbounded"] is True
    assert len(straddle.evidence["breakevens"]) == 2


def test_mispricing_smaller_than_the_spread_gives_nothing() -> None:
    assert STRATEGY.scan(_market({(30, 1.1, True): 0.002}), REQUEST) == []


def test_edges_are_positive_and_sizes_fit_the_capital() -> None:
    found = STRATEGY.scan(_market({(30, 0.9, False): 0.1, (30, 1.1, True): 0.1}), REQUEST)
    assert found
    for opp in found:
        assert opp.net_edge_bps > 0 and opp.profit_potential_usd > 0
        assert opp.required_capital_usd <= REQUEST.capital_usd + 0.01
        assert 0 < opp.confidence_score <= 1
        assert np.isfinite(opp.evidence["edge_per_unit"])


def test_a_body_so_rich_the_butterfly_pays_to_enter_is_sized_on_its_bought_legs() -> None:
    fly = _by_kind(STRATEGY.scan(_market({(90, 1.0, True): 0.12}), REQUEST))["butterfly"]
    ev = fly.evidence
    assert ev["net_premium_per_unit"] < 0 and ev["max_profit_usd"] > 0
    bought = sum(leg.price * leg.size for leg in fly.legs if leg.side == "buy")
    assert fly.required_capital_usd == pytest.approx(bought, rel=0.01)
    assert fly.required_capital_usd <= REQUEST.capital_usd + 0.01
