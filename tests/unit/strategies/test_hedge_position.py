from dataclasses import replace

import numpy as np
import pytest

from oppscan.domain.models import Holding, Portfolio
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies.base import StrategyRequest, StrategySkipped
from oppscan.strategies.options_math import OPTIONS_VOLUME_SHARE
from oppscan.strategies.portfolio.hedge_position import STRATEGY
from tests.unit.strategies.derivatives_market import option_chain, snapshot

PRICES = {"BTC/USDT": 90_000.0, "ETH/USDT": 3_000.0, "SOL/USDT": 140.0}
PORTFOLIO = Portfolio(
    holdings=(
        Holding(symbol="BTC/USDT", quantity=0.2),
        Holding(symbol="ETH/USDT", quantity=4.0),
        Holding(symbol="SOL/USDT", quantity=50.0),
    ),
    cash_usd=2_000.0,
)
REQUEST = StrategyRequest(capital_usd=50_000.0, portfolio=PORTFOLIO)


def _market() -> MarketSnapshot:
    market = snapshot(PRICES, seed=21)
    return replace(market, options={("okx", "BTC/USDT"): option_chain(90_000.0, 0.55)})


@pytest.mark.parametrize("portfolio", [None, Portfolio(holdings=(), cash_usd=1_000.0)])
def test_skipped_without_holdings(portfolio: Portfolio | None) -> None:
    with pytest.raises(StrategySkipped, match="no holdings"):
        STRATEGY.scan(_market(), StrategyRequest(portfolio=portfolio))


def test_each_holding_gets_a_same_asset_perp_hedge() -> None:
    found = STRATEGY.scan(_market(), REQUEST)
    perp = {o.symbol: o for o in found if o.opportunity_type == "perp_hedge"}
    assert set(perp) == set(PRICES)
    for symbol, opp in perp.items():
        ev = opp.evidence
        assert opp.legs[0].symbol == symbol and opp.legs[0].instrument == "perp"
        assert opp.legs[0].side == "sell"
        assert ev["hedge_ratio"] == pytest.approx(1.0)
        assert ev["variance_reduction"] == pytest.approx(1.0)
        assert ev["cvar95_hedged_usd"] < ev["cvar95_unhedged_usd"]
        # The tail loss removed is the risk reduction; the hedge's own P&L is minus its cost.
        assert opp.risk_reduction_usd == pytest.approx(
            ev["cvar95_unhedged_usd"] - ev["cvar95_hedged_usd"], abs=0.01
        )
        assert opp.profit_potential_usd == pytest.approx(-ev["cost_usd"], abs=0.01)
        # The hedge is 1:1 in value: size * price = holding value.
        assert opp.legs[0].size * opp.legs[0].price == pytest.approx(ev["holding_value_usd"])


def test_cross_hedge_is_beta_sized_and_removes_rho_squared() -> None:
    market = _market()
    found = STRATEGY.scan(market, REQUEST)
    cross = [o for o in found if o.opportunity_type == "cross_hedge" and o.symbol == "SOL/USDT"]
    assert {o.legs[0].symbol for o in cross} == {"BTC/USDT", "ETH/USDT"}
    for opp in cross:
        hedge_symbol = opp.legs[0].symbol
        sol = market.ohlcv[("binance", "SOL/USDT", "4h")].close[-301:]
        other = market.ohlcv[("binance", hedge_symbol, "4h")].close[-301:]
        y, x = sol[1:] / sol[:-1] - 1, other[1:] / other[:-1] - 1
        beta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
        rho = np.corrcoef(y, x)[0, 1]
        ev = opp.evidence
        assert ev["beta"] == pytest.approx(beta) and ev["hedge_ratio"] == pytest.approx(beta)
        assert ev["variance_reduction"] == pytest.approx(rho**2)
        # Check the claim on the data itself: the hedged series has that much less variance.
        hedged = y - beta * x
        assert 1 - np.var(hedged) / np.var(y) == pytest.approx(rho**2, abs=1e-9)


def test_protective_put_reduces_variance_and_states_its_cost() -> None:
    found = STRATEGY.scan(_market(), REQUEST)
    puts = [o for o in found if o.opportunity_type == "protective_put"]
    assert [o.symbol for o in puts] == ["BTC/USDT"]
    put = puts[0]
    ev = put.evidence
    assert put.legs[0].instrument == "option" and put.legs[0].symbol.endswith("-P")
    assert ev["days_to_expiry"] == pytest.approx(30.0)
    assert -0.45 < ev["put_delta"] < -0.15
    assert 0 < ev["variance_reduction"] < 1
    assert ev["cost_usd"] == pytest.approx(
        put.legs[0].size * (ev["premium_per_contract"] + ev["fee_per_contract"])
    )
    assert ev["cvar95_hedged_usd"] < ev["cvar95_unhedged_usd"]


def test_hedge_is_capped_by_capital() -> None:
    small = StrategyRequest(capital_usd=1_000.0, portfolio=PORTFOLIO)
    found = STRATEGY.scan(_market(), small)
    btc = next(o for o in found if o.opportunity_type == "perp_hedge" and o.symbol == "BTC/USDT")
    # 3x margin on 1,000 USD hedges 3,000 of the 18,000 held.
    assert btc.evidence["hedge_ratio"] == pytest.approx(3_000 / btc.evidence["holding_value_usd"])
    assert 0 < btc.evidence["variance_reduction"] < 1
    assert btc.required_capital_usd == pytest.approx(1_000.0)


def test_a_whale_is_not_told_to_buy_more_puts_than_the_market_trades() -> None:
    """1,000,000 BTC once got "buy 286,380 puts at one ask". Chains carry no depth: a put hedge
    spends at most the options' share of the underlying's daily volume."""
    market = _market()
    whale = StrategyRequest(
        capital_usd=1e12, portfolio=Portfolio(holdings=(Holding(symbol="BTC/USDT", quantity=1e6),))
    )
    puts = [o for o in STRATEGY.scan(market, whale) if o.opportunity_type == "protective_put"]
    for opp in puts:
        volume = max(t.quote_volume_24h for (e, s), t in market.tickers.items() if s == "BTC/USDT")
        assert opp.required_capital_usd <= OPTIONS_VOLUME_SHARE * volume * 1.0001
        assert opp.legs[0].size < 1e6
