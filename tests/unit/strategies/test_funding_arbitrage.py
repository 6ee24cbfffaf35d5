from dataclasses import replace

import numpy as np
import pytest

from oppscan.strategies.base import StrategyRequest
from oppscan.strategies.derivatives.funding_arbitrage import STRATEGY
from tests.unit.strategies.derivatives_market import fair_funding, snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0, "SOL/USDT": 140.0}
REQUEST = StrategyRequest(capital_usd=20_000.0)


def test_fair_funding_gives_nothing() -> None:
    assert STRATEGY.scan(snapshot(PRICES), REQUEST) == []


def test_high_funding_is_collected_spot_long_perp_short() -> None:
    market = snapshot(PRICES)
    funding = dict(market.funding)
    funding[("okx", "ETH/USDT")] = replace(fair_funding(3_000.0), rate=0.001)
    found = STRATEGY.scan(replace(market, funding=funding), REQUEST)
    spot_perp = [o for o in found if o.opportunity_type == "spot_perp_funding"]
    assert [(o.exchange, o.symbol) for o in spot_perp] == [("okx", "ETH/USDT")]
    opp = spot_perp[0]
    # 0.1% per 8h = 21 payments in 7 days = 210 bps, less 4 taker fees (20 bps) and spreads.
    assert opp.evidence["funding_income_bps"] == pytest.approx(210.0)
    assert opp.evidence["funding_annualised"] == pytest.approx(0.001 * 3 * 365)
    # ... over the week, on the required capital: the notional and a third of it as perp margin.
    assert 180 * 3 / 4 < opp.net_edge_bps < 190 * 3 / 4
    assert opp.horizon_seconds == 7 * 86_400
    assert [(leg.side, leg.instrument) for leg in opp.legs] == [("buy", "spot"), ("sell", "perp")]
    assert opp.profit_potential_usd > 0 and opp.capacity_usd > 0
    assert opp.required_capital_usd <= REQUEST.capital_usd + 1e-6


def test_funding_that_does_not_cover_fees_is_not_reported() -> None:
    market = snapshot(PRICES)
    funding = dict(market.funding)
    # 0.011% per 8h -> 23 bps over the week, against 20 bps of fees plus 4 of spreads.
    funding[("okx", "ETH/USDT")] = replace(fair_funding(3_000.0), rate=0.00011)
    assert STRATEGY.scan(replace(market, funding=funding), REQUEST) == []


def test_cross_exchange_compares_annualised_rates() -> None:
    market = snapshot(PRICES, exchanges=("binance", "okx", "bybit"))
    funding = dict(market.funding)
    # Same rate per interval, but bybit pays it every hour: 8x the annual carry of binance.
    funding[("bybit", "SOL/USDT")] = replace(fair_funding(140.0, 1.0), rate=0.0001)
    funding[("binance", "SOL/USDT")] = replace(fair_funding(140.0, 8.0), rate=0.0001)
    found = STRATEGY.scan(replace(market, funding=funding), REQUEST)
    cross = [o for o in found if o.opportunity_type == "cross_exchange_funding"]
    assert len(cross) == 1
    opp = cross[0]
    assert opp.symbol == "SOL/USDT" and opp.exchange == "bybit"
    assert opp.evidence["long_exchange"] in ("binance", "okx")
    assert opp.evidence["annualised_differential"] == pytest.approx(0.0001 * 24 * 365 - 0.1095)
    sides = {(leg.exchange, leg.side, leg.instrument) for leg in opp.legs}
    assert ("bybit", "sell", "perp") in sides
    assert any(side == "buy" and inst == "perp" for _, side, inst in sides)
    # The same 0.01% per 8 hours on every exchange is no differential at all.
    assert all(o.symbol == "SOL/USDT" for o in found)


def test_size_is_limited_by_book_depth() -> None:
    market = snapshot(PRICES)
    funding = dict(market.funding)
    funding[("okx", "ETH/USDT")] = replace(fair_funding(3_000.0), rate=0.001)
    big = STRATEGY.scan(replace(market, funding=funding), StrategyRequest(capital_usd=1e9))
    opp = next(o for o in big if o.opportunity_type == "spot_perp_funding")
    assert opp.evidence["notional_usd"] == pytest.approx(opp.capacity_usd)
    assert opp.capacity_usd < 1e9


def test_incomplete_venue_data_is_skipped_not_fatal() -> None:
    market = snapshot(PRICES)
    funding = dict(market.funding)
    books = dict(market.books)
    funding[("okx", "ETH/USDT")] = replace(fair_funding(3_000.0), rate=0.001, index_price=0.0)
    funding[("binance", "SOL/USDT")] = replace(fair_funding(140.0), rate=0.001)
    books[("binance", "SOL/USDT")] = replace(books[("binance", "SOL/USDT")], bids=np.empty((0, 2)))
    found = STRATEGY.scan(replace(market, funding=funding, books=books), REQUEST)
    assert ("okx", "ETH/USDT") in {(o.exchange, o.symbol) for o in found}
    assert all(o.symbol != "SOL/USDT" or o.exchange != "binance" for o in found)
