"""Funding-rate arbitrage: collect perpetual funding with the price risk hedged away.

Two structures, both held for ``HOLDING_DAYS`` and closed with taker orders:

- spot-perp (cash and carry on a perpetual): when funding is positive, longs pay shorts; buy spot
  and short the same amount of the perp on one exchange, and collect the rate every interval;
- perp-perp across exchanges: short the perp where annualised funding is highest, long it where it
  is lowest. Rates are compared only after annualising each by its own exchange's interval
  (``Funding.annualised``): 0.01% every hour is eight times 0.01% every 8 hours.

The snapshot has one book per (exchange, symbol); the perp leg's slippage is walked on that book,
which is the best depth estimate available (perp books are usually at least as deep as spot).
Negative funding on a single exchange would need a spot borrow, whose cost the snapshot does not
carry, so it is only traded through the cross-exchange structure.
"""

from __future__ import annotations

import math

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import Funding, MarketSnapshot
from oppscan.strategies import (
    StrategyInfo,
    StrategyRequest,
    book_mid,
    build_opportunity,
    capacity_usd,
    walk_book,
)

HOLDING_DAYS = 7.0
PERP_LEVERAGE = 3.0  # the perp legs are margined at 1/3 of their notional
DEPTH_BAND_BPS = 25.0  # capacity: what rests within this distance of the touch...
VOLUME_SHARE = 0.01  # ...and at most this share of a day's volume

INFO = StrategyInfo(
    id="funding_arbitrage",
    name="Funding Rate Arbitrage",
    description=(
        "Spot-perp and cross-exchange perp-perp funding carry, rates annualised by each "
        "exchange's funding interval, net of both legs' fees and slippage over a 7-day hold."
    ),
    needs=("funding", "order_books", "tickers", "fees"),
)


class FundingArbitrage:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        by_symbol: dict[str, list[tuple[str, Funding]]] = {}
        for (exchange, symbol), funding in sorted(market.funding.items()):
            by_symbol.setdefault(symbol, []).append((exchange, funding))
            if funding.rate > 0:
                opp = _spot_perp(market, request, exchange, symbol, funding)
                if opp is not None:
                    found.append(opp)
        for symbol, venues in by_symbol.items():
            if len(venues) >= 2:
                opp = _perp_perp(market, request, symbol, venues)
                if opp is not None:
                    found.append(opp)
        return found


def _capacity(market: MarketSnapshot, exchange: str, symbol: str) -> float:
    return capacity_usd(
        market, exchange, symbol, band_bps=DEPTH_BAND_BPS, volume_share=VOLUME_SHARE
    )


def _crossing_bps(buy_price: float, sell_price: float, buy_mid: float, sell_mid: float) -> float:
    """Half spread plus slippage of a buy and a sell, each against its own book's mid."""
    return ((buy_price / buy_mid - 1.0) + (1.0 - sell_price / sell_mid)) * 1e4


def _periods(funding: Funding) -> float:
    return HOLDING_DAYS * 24.0 / funding.interval_hours


def _confidence(net_bps: float, cost_bps: float, premium_agrees: bool) -> float:
    # How many times the costs the carry covers; a mark above index (longs paying up) is the
    # usual cause of positive funding and makes it likelier to persist over the holding period.
    cover = net_bps / max(cost_bps, 1.0)
    base = 1.0 - math.exp(-0.6 * cover)
    return 0.35 + 0.5 * base + (0.1 if premium_agrees else 0.0)


def _spot_perp(
    market: MarketSnapshot,
    request: StrategyRequest,
    exchange: str,
    symbol: str,
    funding: Funding,
) -> Opportunity | None:
    book = market.books.get((exchange, symbol))
    fees = market.fees.get(exchange)
    capacity = _capacity(market, exchange, symbol)
    if book is None or fees is None or capacity <= 0:
        return None
    notional = min(request.capital_usd / (1 + 1 / PERP_LEVERAGE), capacity)
    buy, sell = walk_book(book, "buy", notional), walk_book(book, "sell", notional)
    if not (buy.complete and sell.complete):
        return None
    income_bps = funding.rate * _periods(funding) * 1e4
    # Entry buys spot at the ask and sells the perp at the bid; the exit pays the spread and the
    # slippage again the other way round.
    crossing_bps = 2 * _crossing_bps(buy.avg_price, sell.avg_price, book_mid(book), book_mid(book))
    cost_bps = 4 * fees.taker * 1e4 + crossing_bps
    net_bps = income_bps - cost_bps
    profit = notional * net_bps / 1e4
    if not np.isfinite(profit) or profit <= 0:
        return None
    size = notional / buy.avg_price
    premium_bps = (
        (funding.mark_price / funding.index_price - 1) * 1e4 if funding.index_price > 0 else 0.0
    )
    return build_opportunity(
        INFO,
        market,
        opportunity_type="spot_perp_funding",
        symbol=symbol,
        exchange=exchange,
        side="long_spot_short_perp",
        entry_price=buy.avg_price,
        exit_price=buy.avg_price,
        profit_potential_usd=profit,
        required_capital_usd=notional * (1 + 1 / PERP_LEVERAGE),
        confidence=_confidence(net_bps, cost_bps, premium_bps > 0),
        risk_level=RiskLevel.LOW,
        horizon_seconds=HOLDING_DAYS * 86_400,
        valid_for_ms=max(funding.next_funding_ms - market.as_of_ms, 600_000),
        capacity_usd=capacity,
        legs=[
            Leg(exchange=exchange, symbol=symbol, side="buy", price=buy.avg_price, size=size),
            Leg(
                exchange=exchange,
                symbol=symbol,
                side="sell",
                price=sell.avg_price,
                size=size,
                instrument="perp",
            ),
        ],
        evidence={
            "funding_rate": funding.rate,
            "funding_interval_hours": funding.interval_hours,
            "funding_annualised": funding.annualised,
            "holding_days": HOLDING_DAYS,
            "funding_periods": _periods(funding),
            "funding_income_bps": income_bps,
            "fees_bps": 4 * fees.taker * 1e4,
            "spread_and_slippage_bps": crossing_bps,
            "cost_bps": cost_bps,
            "mark_premium_bps": premium_bps,
            "notional_usd": notional,
        },
        metadata={"structure": "spot_perp", "perp_leverage": PERP_LEVERAGE},
        key="spot_perp",
    )


def _perp_perp(
    market: MarketSnapshot,
    request: StrategyRequest,
    symbol: str,
    venues: list[tuple[str, Funding]],
) -> Opportunity | None:
    ranked = sorted(venues, key=lambda v: v[1].annualised)
    (long_ex, long_f), (short_ex, short_f) = ranked[0], ranked[-1]
    long_book, short_book = (
        market.books.get((long_ex, symbol)),
        market.books.get((short_ex, symbol)),
    )
    long_fees, short_fees = market.fees.get(long_ex), market.fees.get(short_ex)
    if long_book is None or short_book is None or long_fees is None or short_fees is None:
        return None
    capacity = min(_capacity(market, long_ex, symbol), _capacity(market, short_ex, symbol))
    if capacity <= 0:
        return None
    notional = min(request.capital_usd * PERP_LEVERAGE / 2, capacity)
    buy, sell = walk_book(long_book, "buy", notional), walk_book(short_book, "sell", notional)
    if not (buy.complete and sell.complete):
        return None
    spread_annual = short_f.annualised - long_f.annualised
    income_bps = spread_annual * HOLDING_DAYS / 365.0 * 1e4
    fees_bps = 2 * (long_fees.taker + short_fees.taker) * 1e4
    crossing_bps = 2 * _crossing_bps(
        buy.avg_price, sell.avg_price, book_mid(long_book), book_mid(short_book)
    )
    cost_bps = fees_bps + crossing_bps
    net_bps = income_bps - cost_bps
    profit = notional * net_bps / 1e4
    if not np.isfinite(profit) or profit <= 0:
        return None
    size = notional / buy.avg_price
    return build_opportunity(
        INFO,
        market,
        opportunity_type="cross_exchange_funding",
        symbol=symbol,
        exchange=short_ex,
        side=f"short_perp_{short_ex}_long_perp_{long_ex}",
        entry_price=sell.avg_price,
        exit_price=sell.avg_price,
        profit_potential_usd=profit,
        required_capital_usd=2 * notional / PERP_LEVERAGE,
        confidence=_confidence(net_bps, cost_bps, short_f.mark_price >= long_f.mark_price)
        - 0.1,  # two venues: funding can flip on either, and transfers between them are slow
        risk_level=RiskLevel.MEDIUM,
        horizon_seconds=HOLDING_DAYS * 86_400,
        valid_for_ms=max(
            min(long_f.next_funding_ms, short_f.next_funding_ms) - market.as_of_ms, 600_000
        ),
        capacity_usd=capacity,
        legs=[
            Leg(
                exchange=short_ex,
                symbol=symbol,
                side="sell",
                price=sell.avg_price,
                size=size,
                instrument="perp",
            ),
            Leg(
                exchange=long_ex,
                symbol=symbol,
                side="buy",
                price=buy.avg_price,
                size=size,
                instrument="perp",
            ),
        ],
        evidence={
            "short_exchange": short_ex,
            "short_funding_rate": short_f.rate,
            "short_interval_hours": short_f.interval_hours,
            "short_funding_annualised": short_f.annualised,
            "long_exchange": long_ex,
            "long_funding_rate": long_f.rate,
            "long_interval_hours": long_f.interval_hours,
            "long_funding_annualised": long_f.annualised,
            "annualised_differential": spread_annual,
            "holding_days": HOLDING_DAYS,
            "funding_income_bps": income_bps,
            "fees_bps": fees_bps,
            "spread_and_slippage_bps": crossing_bps,
            "cost_bps": cost_bps,
            "notional_usd": notional,
        },
        metadata={"structure": "perp_perp", "perp_leverage": PERP_LEVERAGE},
        key=("perp_perp", long_ex),
    )


STRATEGY = FundingArbitrage()
