"""Multi-leg option structures whose quotes beat the chain's own smile.

Every quote is valued at the chain's robustly fitted smile (``options_math.model_chain``); a leg
bought at the ask gains ``model - ask - fee``, a leg sold at the bid ``bid - model - fee``. On a
fair chain every leg loses half a spread and a fee, so every structure loses. A structure is
reported when its legs' gains sum above zero, i.e. when it is built around quotes rich or cheap
enough to pay for the other legs' spreads. Candidates per expiry: straddles, iron condors
(adjacent wings), butterflies (calls or puts, weighted for unequal strike spacing), and calendars
across expiries at the nearest strikes, each long or short. The best of each kind per chain is
reported, with its payoff at the first expiry (later legs valued on the smile): max profit, max
loss and breakevens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import YEAR_SECONDS, StrategyInfo, StrategyRequest, build_opportunity
from oppscan.strategies.options_math import (
    OPTIONS_VOLUME_SHARE,
    ChainModel,
    model_chain,
    option_symbol,
    short_option_margin,
)

CALENDAR_STRIKE_TOLERANCE = 0.03  # log distance between the two expiries' strikes
# Spot / spot now at the first expiry: from near zero (a put's worst case) to ten times today.
PAYOFF_GRID = np.exp(np.linspace(np.log(1e-4), np.log(10.0), 800))

INFO = StrategyInfo(
    id="complex_strategy",
    name="Complex Options Strategies",
    description=(
        "Iron condors, butterflies, calendars and straddles built where quoted prices beat the "
        "chain's fitted smile by more than spreads and fees; max profit, max loss and "
        "breakevens from the payoff."
    ),
    needs=("options", "tickers"),
)


@dataclass(frozen=True, slots=True)
class Structure:
    kind: str  # iron_condor | butterfly | calendar | straddle
    direction: str  # long | short
    legs: tuple[tuple[int, float], ...]  # (quote index, quantity: > 0 buy, < 0 sell)

    def edge(self, cm: ChainModel) -> float:
        return float(
            sum(q * cm.buy_edge[i] if q > 0 else -q * cm.sell_edge[i] for i, q in self.legs)
        )


class ComplexStrategy:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        for (exchange, symbol), chain in sorted(market.options.items()):
            ticker = market.tickers.get((exchange, symbol))
            cm = model_chain(chain, market.as_of_ms, market.risk_free_rate)
            if ticker is None or cm is None:
                continue
            best: dict[str, tuple[float, Structure]] = {}
            for structure in _candidates(cm, market.risk_free_rate):
                edge = structure.edge(cm)
                if edge > 0 and (structure.kind not in best or edge > best[structure.kind][0]):
                    best[structure.kind] = (edge, structure)
            capacity = OPTIONS_VOLUME_SHARE * ticker.quote_volume_24h
            for edge, structure in best.values():
                opp = _opportunity(market, request, exchange, symbol, cm, structure, edge, capacity)
                if opp is not None:
                    found.append(opp)
        return found


def _candidates(cm: ChainModel, rate: float) -> list[Structure]:
    chain = cm.chain
    by_expiry: list[tuple[np.ndarray, dict[float, int], dict[float, int]]] = []
    out: list[Structure] = []
    for expiry in cm.expiries:
        rows = np.flatnonzero(chain.expiries_ms == expiry)
        calls = {float(chain.strikes[i]): int(i) for i in rows if chain.is_call[i]}
        puts = {float(chain.strikes[i]): int(i) for i in rows if not chain.is_call[i]}
        strikes = np.array(sorted(set(calls) & set(puts)))
        by_expiry.append((strikes, calls, puts))
        forward = chain.underlying_price * math.exp(rate * float(cm.years[rows[0]]))
        for k in strikes:
            out += _both("straddle", ((calls[k], 1.0), (puts[k], 1.0)))
        for j in range(1, len(strikes) - 1):
            k1, k2, k3 = strikes[j - 1], strikes[j], strikes[j + 1]
            w1, w3 = (k3 - k2) / (k3 - k1), (k2 - k1) / (k3 - k1)
            for side in (calls, puts):
                out += _both("butterfly", ((side[k1], w1), (side[k2], -1.0), (side[k3], w3)))
        low = [j for j in range(1, len(strikes)) if strikes[j] < forward]
        high = [j for j in range(len(strikes) - 1) if strikes[j] > forward]
        for j in low:
            for m in high:
                legs: tuple[tuple[int, float], ...] = (
                    (puts[strikes[j - 1]], 1.0),
                    (puts[strikes[j]], -1.0),
                    (calls[strikes[m]], -1.0),
                    (calls[strikes[m + 1]], 1.0),
                )
                # Selling the body for a credit is the "short" iron condor.
                out += _both("iron_condor", legs, given_is_short=True)
    for a in range(len(by_expiry)):
        for b in range(a + 1, len(by_expiry)):
            near, far = by_expiry[a], by_expiry[b]
            if near[0].shape[0] == 0 or far[0].shape[0] == 0:
                continue
            for k in near[0]:
                k_far = float(far[0][np.argmin(np.abs(np.log(far[0] / k)))])
                if abs(math.log(k_far / k)) > CALENDAR_STRIKE_TOLERANCE:
                    continue
                for near_side, far_side in ((near[1], far[1]), (near[2], far[2])):
                    legs = ((near_side[float(k)], -1.0), (far_side[k_far], 1.0))
                    out += _both("calendar", legs)
    return out


def _both(
    kind: str, legs: tuple[tuple[int, float], ...], *, given_is_short: bool = False
) -> list[Structure]:
    flipped = tuple((i, -q) for i, q in legs)
    first, second = ("short", "long") if given_is_short else ("long", "short")
    return [Structure(kind, first, legs), Structure(kind, second, flipped)]


def _payoff(
    cm: ChainModel, structure: Structure, rate: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """P&L per unit of the structure over a spot grid at its first expiry, after fees."""
    chain = cm.chain
    idx = np.array([i for i, _ in structure.legs])
    qty = np.array([q for _, q in structure.legs])
    first = float(cm.years[idx].min())
    remaining = cm.years[idx] - first
    spots = chain.underlying_price * PAYOFF_GRID
    value = bs_price(
        spots[:, None],
        chain.strikes[idx][None, :],
        remaining[None, :],
        rate,
        cm.smile_iv[idx][None, :],
        chain.is_call[idx][None, :],
    )
    paid = np.where(qty > 0, chain.asks[idx], chain.bids[idx])
    fees = float((np.abs(qty) * cm.fee[idx]).sum())
    pnl = (value - paid[None, :]) @ qty - fees
    return spots, pnl, first


def _breakevens(spots: np.ndarray, pnl: np.ndarray) -> list[float]:
    crossing = np.flatnonzero(np.sign(pnl[:-1]) * np.sign(pnl[1:]) < 0)
    out = []
    for j in crossing:
        x0, x1, y0, y1 = spots[j], spots[j + 1], pnl[j], pnl[j + 1]
        out.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)))
    return out


def _opportunity(
    market: MarketSnapshot,
    request: StrategyRequest,
    exchange: str,
    symbol: str,
    cm: ChainModel,
    structure: Structure,
    edge: float,
    capacity: float,
) -> Opportunity | None:
    chain, rate = cm.chain, market.risk_free_rate
    spots, pnl, first_years = _payoff(cm, structure, rate)
    max_profit, worst = float(pnl.max()), float(pnl.min())
    # Spot cannot fall below zero, so only calls can lose without bound: a structure that is
    # short calls on balance (counted over every expiry) loses more the higher spot goes.
    # Calendars and spreads, whose long calls cover their short ones, are bounded.
    unbounded = bool(sum(q for i, q in structure.legs if chain.is_call[i]) < 0)
    idx = [i for i, _ in structure.legs]
    if unbounded:
        shorts = [(i, -q) for i, q in structure.legs if q < 0]
        mids = [(chain.bids[i] + chain.asks[i]) / 2 for i, _ in shorts]
        margin = short_option_margin(
            chain.underlying_price,
            [chain.strikes[i] for i, _ in shorts],
            [chain.is_call[i] for i, _ in shorts],
            mids,
        )
        capital = float((margin * np.array([q for _, q in shorts])).sum())
    else:
        # Defined risk is margined at the max loss (a long calendar: its debit and fees); a
        # structure that cannot lose (a quote so far off that the debit turned into a credit)
        # still has to pay for the legs it buys.
        bought = sum(q * (chain.asks[i] + cm.fee[i]) for i, q in structure.legs if q > 0)
        capital = -worst if worst < 0 else float(bought)
    budget = min(request.capital_usd, capacity)
    units = budget / capital
    profit = units * edge
    if profit <= 0 or max_profit <= 0:
        return None
    base = symbol.split("/")[0]
    legs = [
        Leg(
            exchange=exchange,
            symbol=option_symbol(
                base, int(chain.expiries_ms[i]), float(chain.strikes[i]), bool(chain.is_call[i])
            ),
            side="buy" if q > 0 else "sell",
            price=float(chain.asks[i] if q > 0 else chain.bids[i]),
            size=abs(q) * units,
            instrument="option",
        )
        for i, q in structure.legs
    ]
    net_premium = float(
        sum(q * (chain.asks[i] if q > 0 else chain.bids[i]) for i, q in structure.legs)
    )
    half_spreads = float(
        sum(abs(q) * (chain.asks[i] - chain.bids[i]) / 2 for i, q in structure.legs)
    )
    fees = float(sum(abs(q) * cm.fee[i] for i, q in structure.legs))
    days = first_years * 365.0
    breakevens = _breakevens(spots, pnl)
    payoff_facts = {
        "max_profit_usd": max_profit * units,
        # Unbounded: the worst loss seen on the grid (spot up to 10x today).
        "max_loss_usd": -worst * units,
        "max_loss_unbounded": unbounded,
        "breakevens": breakevens,
    }
    return build_opportunity(
        INFO,
        market,
        opportunity_type=structure.kind,
        symbol=symbol,
        exchange=exchange,
        side=structure.direction,
        entry_price=abs(net_premium),
        exit_price=abs(net_premium) + edge if net_premium > 0 else abs(net_premium) - edge,
        profit_potential_usd=profit,
        required_capital_usd=units * capital,
        # The edge in units of the spreads it had to cross: a thin edge is likelier a smile misfit.
        confidence=0.2 + 0.7 * (1.0 - math.exp(-edge / max(half_spreads, 1e-12))),
        risk_level=RiskLevel.VERY_HIGH if unbounded else RiskLevel.MEDIUM,
        horizon_seconds=first_years * YEAR_SECONDS,  # held to the first expiry
        valid_for_ms=3_600_000,
        capacity_usd=capacity,
        legs=legs,
        evidence={
            "structure": structure.kind,
            "direction": structure.direction,
            "edge_per_unit": edge,
            "net_premium_per_unit": net_premium,  # > 0 paid (debit), < 0 received (credit)
            "fees_per_unit": fees,
            "capital_per_unit": capital,
            "units": units,
            "days_to_first_expiry": days,
            "leg_quoted_iv": [float(chain.iv[i]) for i in idx],
            "leg_smile_iv": [float(cm.smile_iv[i]) for i in idx],
            "leg_model_value": [float(cm.model[i]) for i in idx],
            "underlying_price": float(chain.underlying_price),
            **payoff_facts,
        },
        metadata=payoff_facts,
        key=(structure.kind, structure.direction, tuple(idx)),
    )


STRATEGY = ComplexStrategy()
