"""Futures trades: leveraged trend following on perpetuals, and cash-and-carry on dated futures.

Perpetual trend: the drift of the 4h and 1h returns, each as a t-statistic (mean return over its
standard error) — the right test for a random walk with drift, unlike a regression on prices,
which finds "trends" in every random walk. The two timeframes must agree and their combined
z must clear ``TREND_Z``. Leverage is chosen from volatility so that a stop at ``STOP_SIGMAS``
daily sigmas loses at most ``MARGIN_AT_RISK`` of the margin and the liquidation price lies at
least ``LIQUIDATION_BUFFER`` times the stop distance away. The expected move is the measured drift
over the holding period, halved (trends decay); the net edge pays both taker fees, the spread and
slippage both ways, and the funding the position pays (or earns) while it is held.

Cash and carry: buy spot, sell the dated future, hold to expiry, when the future converges to
spot. The gain is the basis; it must beat what the same capital earns risk-free over the same
days plus the fees of four fills (spot in and out, future in and its settlement) and the spread
and slippage of the spot legs, by at least ``MIN_CARRY_EXCESS_ANNUAL`` a year.
"""

from __future__ import annotations

import math

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import TIMEFRAME_MS, DatedFuture, MarketSnapshot
from oppscan.strategies import (
    StrategyInfo,
    StrategyRequest,
    book_mid,
    build_opportunity,
    capacity_usd,
    walk_book,
)

TREND_WINDOWS = {"4h": 60, "1h": 120}  # bars: 10 days and 5 days
# The 1h window lies inside the 4h one, so their drift t-statistics share the last 5 days of
# returns: on a random walk they correlate sqrt(5 / 10). Their sum is scaled by its own standard
# deviation, sqrt(2 + 2 rho), so that the combined z is standard normal on noise (dividing by
# sqrt(2) made it 1.31 times too wide: by the normal law 1.4% of random walks passed, not
# 0.1%).
TREND_RHO = math.sqrt(5 / 10)
# Two-sided, about 0.05% of random walks pass (normal law): with 40 symbols scanned, a trade on
# noise in about one scan in fifty.
TREND_Z = 3.5
HOLDING_DAYS = 3.0
DRIFT_PERSISTENCE = 0.5  # the share of the measured drift expected to carry on
STOP_SIGMAS = 2.0  # stop distance in daily sigmas
MARGIN_AT_RISK = 0.25  # at most this share of the margin is lost at the stop
LIQUIDATION_BUFFER = 2.0  # liquidation at least this many stop distances away
MAINTENANCE_MARGIN = 0.005
# 2-5x normally; the most volatile names (daily sigma above ~6%) are traded unlevered.
LEVERAGE_RANGE = (1, 5)
DEPTH_BAND_BPS = 25.0
VOLUME_SHARE = 0.01
MS_PER_DAY = 86_400_000
# A carry must beat risk-free by this much a year after every cost: the short future's margin
# calls and the settlement fee are not in the snapshot, and a few bps over three months do not
# pay for locking the capital up.
MIN_CARRY_EXCESS_ANNUAL = 0.01

INFO = StrategyInfo(
    id="futures_trade",
    name="Futures Trading",
    description=(
        "Leveraged trend trades on perpetuals (4h and 1h drift, volatility-sized leverage, "
        "liquidation well beyond the stop, funding cost included) and cash-and-carry on dated "
        "futures (basis vs the risk-free rate, net of both legs' costs)."
    ),
    needs=("ohlcv", "funding", "futures", "order_books", "tickers", "fees"),
)


class FuturesTrade:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        perp_venues: dict[str, list[str]] = {}
        for exchange, symbol in sorted(market.funding):
            perp_venues.setdefault(symbol, []).append(exchange)
        for symbol, exchanges in perp_venues.items():
            opp = _perp_trend(market, request, symbol, exchanges)
            if opp is not None:
                found.append(opp)
        for (exchange, symbol), contracts in sorted(market.futures.items()):
            for future in contracts:
                opp = _cash_and_carry(market, request, exchange, symbol, future)
                if opp is not None:
                    found.append(opp)
        return found


def _capacity(market: MarketSnapshot, exchange: str, symbol: str) -> float:
    return capacity_usd(
        market, exchange, symbol, band_bps=DEPTH_BAND_BPS, volume_share=VOLUME_SHARE
    )


def _drift_t(close: np.ndarray, window: int) -> tuple[float, float, float]:
    """(t-statistic of the mean log return, mean per bar, sd per bar) over the last bars."""
    returns = np.diff(np.log(close[-(window + 1) :]))
    if returns.shape[0] < window // 2:
        return 0.0, 0.0, float("nan")
    mean, sd = float(returns.mean()), float(returns.std(ddof=1))
    if not sd > 0:
        return 0.0, mean, sd
    return mean / sd * math.sqrt(returns.shape[0]), mean, sd


def _perp_trend(
    market: MarketSnapshot, request: StrategyRequest, symbol: str, exchanges: list[str]
) -> Opportunity | None:
    # The bars of one symbol are the same market on every exchange (up to a constant offset):
    # measure the trend once, then trade it where it is cheapest.
    bars4 = next((b for e in exchanges if (b := market.bars(e, symbol, "4h")) is not None), None)
    bars1 = next((b for e in exchanges if (b := market.bars(e, symbol, "1h")) is not None), None)
    if bars4 is None or bars1 is None:
        return None
    t4, mean4, sd4 = _drift_t(bars4.close, TREND_WINDOWS["4h"])
    t1, _, _ = _drift_t(bars1.close, TREND_WINDOWS["1h"])
    z = (t4 + t1) / math.sqrt(2.0 + 2.0 * TREND_RHO)
    if abs(z) < TREND_Z or t4 * t1 <= 0 or min(abs(t4), abs(t1)) < 1.0:
        return None
    direction = 1.0 if z > 0 else -1.0
    bars_per_day = MS_PER_DAY / TIMEFRAME_MS["4h"]
    daily_sigma = sd4 * math.sqrt(bars_per_day)
    stop_frac = STOP_SIGMAS * daily_sigma
    leverage = math.floor(
        min(MARGIN_AT_RISK / stop_frac, 1.0 / (LIQUIDATION_BUFFER * stop_frac + MAINTENANCE_MARGIN))
    )
    if leverage < LEVERAGE_RANGE[0]:
        return None  # even unlevered, the stop would risk more than a quarter of the capital
    leverage = min(leverage, LEVERAGE_RANGE[1])
    liquidation_frac = 1.0 / leverage - MAINTENANCE_MARGIN
    expected_move = abs(mean4) * bars_per_day * HOLDING_DAYS * DRIFT_PERSISTENCE

    best: tuple[float, dict[str, float], str] | None = None
    for exchange in exchanges:
        candidate = _trend_costs(market, request, exchange, symbol, direction, leverage)
        if candidate is not None and (best is None or candidate["cost_bps"] < best[0]):
            best = (candidate["cost_bps"], candidate, exchange)
    if best is None:
        return None
    _, costs, exchange = best
    net_bps = expected_move * 1e4 - costs["cost_bps"]
    notional = costs["notional"]
    profit = notional * net_bps / 1e4
    if profit <= 0:
        return None
    entry = costs["entry_price"]
    side = "buy" if direction > 0 else "sell"
    confidence = (1.0 - math.exp(-(abs(z) - TREND_Z + 0.5))) * min(
        1.0, expected_move * 1e4 / max(costs["cost_bps"], 1.0) / 3.0
    )
    return build_opportunity(
        INFO,
        market,
        opportunity_type="perp_trend",
        symbol=symbol,
        exchange=exchange,
        side=side,
        entry_price=entry,
        exit_price=entry * (1 + direction * expected_move),
        take_profit=entry * (1 + direction * expected_move),
        stop_loss=entry * (1 - direction * stop_frac),
        profit_potential_usd=profit,
        required_capital_usd=notional / leverage,
        confidence=0.2 + 0.75 * confidence,
        risk_level=RiskLevel.HIGH if leverage >= 4 else RiskLevel.MEDIUM,
        horizon_seconds=HOLDING_DAYS * 86_400,
        valid_for_ms=TIMEFRAME_MS["4h"],
        capacity_usd=costs["capacity"],
        legs=[
            Leg(
                exchange=exchange,
                symbol=symbol,
                side=side,
                price=entry,
                size=notional / entry,
                instrument="perp",
            )
        ],
        evidence={
            "drift_t_stat_4h": t4,
            "drift_t_stat_1h": t1,
            "combined_z": z,
            "drift_per_4h_bar": mean4,
            "daily_volatility": daily_sigma,
            "expected_move_bps": expected_move * 1e4,
            "holding_days": HOLDING_DAYS,
            "leverage": leverage,
            "stop_distance_pct": stop_frac * 100,
            "liquidation_distance_pct": liquidation_frac * 100,
            "liquidation_price": entry * (1 - direction * liquidation_frac),
            "maintenance_margin": MAINTENANCE_MARGIN,
            "funding_rate": costs["funding_rate"],
            "funding_interval_hours": costs["funding_interval_hours"],
            "funding_annualised": costs["funding_annualised"],
            "funding_cost_bps": costs["funding_cost_bps"],
            "fees_bps": costs["fees_bps"],
            "spread_and_slippage_bps": costs["crossing_bps"],
            "cost_bps": costs["cost_bps"],
            "notional_usd": notional,
        },
        metadata={"structure": "perp_trend", "leverage": leverage},
        key="perp_trend",
    )


def _trend_costs(
    market: MarketSnapshot,
    request: StrategyRequest,
    exchange: str,
    symbol: str,
    direction: float,
    leverage: int,
) -> dict[str, float] | None:
    book, fees = market.books.get((exchange, symbol)), market.fees.get(exchange)
    funding = market.funding.get((exchange, symbol))
    capacity = _capacity(market, exchange, symbol)
    if book is None or fees is None or funding is None or capacity <= 0:
        return None
    notional = min(request.capital_usd * leverage, capacity)
    enter = walk_book(book, "buy" if direction > 0 else "sell", notional)
    leave = walk_book(book, "sell" if direction > 0 else "buy", notional)
    if not (enter.complete and leave.complete):
        return None
    mid = book_mid(book)
    crossing_bps = abs(enter.avg_price - mid) / mid * 1e4 + abs(mid - leave.avg_price) / mid * 1e4
    periods = HOLDING_DAYS * 24.0 / funding.interval_hours
    funding_cost_bps = direction * funding.rate * periods * 1e4  # longs pay positive funding
    fees_bps = 2 * fees.taker * 1e4
    # The perp fills at its mark, which may stand a premium away from the spot book's mid.
    premium = funding.mark_price / funding.index_price if funding.index_price > 0 else 1.0
    entry = enter.avg_price * premium
    return {
        "notional": notional,
        "capacity": capacity,
        "entry_price": entry,
        "crossing_bps": crossing_bps,
        "fees_bps": fees_bps,
        "funding_rate": funding.rate,
        "funding_interval_hours": funding.interval_hours,
        "funding_annualised": funding.annualised,
        "funding_cost_bps": funding_cost_bps,
        "cost_bps": fees_bps + crossing_bps + funding_cost_bps,
    }


def _cash_and_carry(
    market: MarketSnapshot,
    request: StrategyRequest,
    exchange: str,
    symbol: str,
    future: DatedFuture,
) -> Opportunity | None:
    book, fees = market.books.get((exchange, symbol)), market.fees.get(exchange)
    capacity = _capacity(market, exchange, symbol)
    days = (future.expiry_ms - market.as_of_ms) / MS_PER_DAY
    if book is None or fees is None or capacity <= 0 or days < 1.0:
        return None
    notional = min(request.capital_usd, capacity)
    buy = walk_book(book, "buy", notional)
    sell_at_expiry = walk_book(book, "sell", notional)
    if not (buy.complete and sell_at_expiry.complete):
        return None
    mid = book_mid(book)
    years = days / 365.0
    basis = future.bid / buy.avg_price - 1.0  # locked in: the spot we pay vs the future we sell
    basis_mid = future.mid / mid - 1.0
    carry = market.risk_free_rate * years
    fees_frac = 4 * fees.taker
    exit_crossing = (mid - sell_at_expiry.avg_price) / mid
    net = basis - carry - fees_frac - exit_crossing
    profit = notional * net
    if profit <= 0 or net / years < MIN_CARRY_EXCESS_ANNUAL:
        return None
    size = notional / buy.avg_price
    annualised = basis / years
    return build_opportunity(
        INFO,
        market,
        opportunity_type="cash_and_carry",
        symbol=symbol,
        exchange=exchange,
        side="long_spot_short_future",
        entry_price=buy.avg_price,
        exit_price=future.bid,
        profit_potential_usd=profit,
        # The future is margined against the spot held; the spot is the capital employed.
        required_capital_usd=notional,
        confidence=0.4 + 0.55 * (1.0 - math.exp(-net / max(fees_frac, 1e-4))),
        risk_level=RiskLevel.LOW,
        horizon_seconds=days * 86_400,  # held to settlement
        valid_for_ms=TIMEFRAME_MS["1h"],
        capacity_usd=capacity,
        legs=[
            Leg(exchange=exchange, symbol=symbol, side="buy", price=buy.avg_price, size=size),
            Leg(
                exchange=exchange,
                symbol=future.instrument,
                side="sell",
                price=future.bid,
                size=size,
                instrument="future",
            ),
        ],
        evidence={
            "future": future.instrument,
            "days_to_expiry": days,
            "basis": basis,
            "basis_mid": basis_mid,
            "basis_annualised": annualised,
            "risk_free_rate": market.risk_free_rate,
            "excess_over_risk_free_annualised": annualised - market.risk_free_rate,
            "carry_cost_bps": carry * 1e4,
            "net_excess_annualised": net / years,
            "fees_bps": fees_frac * 1e4,
            "exit_spread_and_slippage_bps": exit_crossing * 1e4,
            "notional_usd": notional,
        },
        metadata={"structure": "cash_and_carry", "expiry_ms": future.expiry_ms},
        key=future.instrument,
    )


STRATEGY = FuturesTrade()
