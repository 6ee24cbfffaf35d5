"""Planting functions for the spot and statistical strategies.

Each planter takes its symbols through ``draft.take_symbols`` (never the five largest: the
statistical-arbitrage hedge is the largest, and the derivatives planters use the chained ones),
reshapes their paths as functions of time (``paths.reshape``) or sets their books, and records
``Planted`` ground truth while a plant lives. Every strategy also gets a plant a scanner must
NOT report (``profitable=False``): the same structure where fees, spread and slippage exceed
the edge, or where the statistics behind the look are absent (a correlated pair that is not
cointegrated, a residual that wanders). Magnitudes are set in units of each symbol's long-run
hourly volatility, against the base market's fees (10 bps taker, 8-10 bps maker).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oppscan.market.snapshot import FloatArray, IntArray
from oppscan.market.synthetic.draft import MarketDraft, Planted
from oppscan.market.synthetic.plants.episodes import DAY_MS, HOUR_MS, Schedule, phase
from oppscan.market.synthetic.plants.paths import (
    add_trend,
    hourly_sd,
    log_at,
    reshape,
    scale_moves,
    trend_age,
)
from oppscan.market.synthetic.plants.reverting import Spread, spread_at

_MIN_RANK = 5  # leave the majors alone (hedges, option chains, futures)
# The stretched spreads (a pair's spread, a residual, a range-bound price) are AR(1)s in hours
# (half-life ~6.6 hours), stretched 8 of their stationary deviations once every four days (a
# scanner's z-score is measured against a history holding the earlier stretches: more often,
# and no stretch would stand out). A plant is live for the 3 hours after its stretch.
SPREAD_PHI = 0.9
SPREAD_STRETCH = 8.0
SPREAD_SCHEDULE = Schedule(period_ms=96 * HOUR_MS, live_ms=3 * HOUR_MS, half_life_ms=7 * HOUR_MS)
# Trends run in cycles of 14 days up and 14 days down (``paths.add_trend``); a scanner sees one
# about a week into a leg (``TREND_SEEN_MS``).
TREND_SCHEDULE = Schedule(period_ms=28 * DAY_MS, live_ms=14 * DAY_MS, half_life_ms=DAY_MS)
TREND_PER_HOUR = 0.35
TREND_SEEN_MS = 9 * DAY_MS
# A breakout cycle every four days; the plant is live on the hour its breaking bar is the last.
BREAKOUT_SCHEDULE = Schedule(period_ms=96 * HOUR_MS, live_ms=HOUR_MS, half_life_ms=HOUR_MS)
BREAKOUT_HEIGHT = 2.0  # the box's height, in the symbol's hourly moves


def _pool(draft: MarketDraft, upto: int | None = None) -> list[str]:
    return [s for s in draft.symbols[_MIN_RANK:upto] if s not in draft.taken]


def _make_expensive(draft: MarketDraft, symbol: str, spread_bps: float, depth: float) -> None:
    """Wide and thin on every exchange: each round trip pays the spread and walks the book."""
    for exchange in draft.exchanges:
        key = (exchange, symbol)
        draft.spread_bps[key] = spread_bps
        draft.level_step_bps[key] = 0.6 * spread_bps
        draft.depth_usd[key] = depth


def _cheapest_maker(draft: MarketDraft) -> str:
    return min(draft.exchanges, key=lambda e: (draft.fees[e].maker, e))


def _dearest_maker(draft: MarketDraft) -> str:
    return max(draft.exchanges, key=lambda e: (draft.fees[e].maker, e))


def plant_momentum(draft: MarketDraft) -> None:
    """A trend cycle (``TREND_SCHEDULE``): 14 days up at ``TREND_PER_HOUR`` hourly moves an
    hour (the 4h drift's t-statistic passes 3 about a week in), then 14 days down; it is a
    profitable plant in the second week of the up leg, while the trend has days left to run.
    The same cycle on a symbol whose books are 45 bps wide and $300 a level everywhere: past
    the liquidity gates, and a round trip of 100+ bps."""
    pool = _pool(draft)
    if len(pool) < 2:
        return
    strong, untradable = draft.take_symbols(2, "spot_momentum", candidates=pool)
    for symbol in (strong, untradable):
        add_trend(draft, symbol, "spot_momentum", TREND_SCHEDULE, TREND_PER_HOUR)
    _make_expensive(draft, untradable, spread_bps=45.0, depth=300.0)
    age = trend_age(draft.seed, "spot_momentum", 0, 1, TREND_SCHEDULE, _now(draft))[0]
    if TREND_SEEN_MS <= age < TREND_SCHEDULE.live_ms:
        draft.plant(
            Planted(
                "spot_momentum_strategy",
                strong,
                None,
                True,
                "trend",
                {
                    "per_hour_sds": TREND_PER_HOUR,
                    "days_left": round((TREND_SCHEDULE.live_ms - age) / DAY_MS, 2),
                },
            )
        )
    draft.plant(
        Planted(
            "spot_momentum_strategy",
            untradable,
            None,
            False,
            "trend_on_untradable_book",
            {"spread_bps": 45.0, "depth_usd_per_level": 300.0},
        )
    )


def _now(draft: MarketDraft) -> IntArray:
    return np.array([draft.as_of_ms], dtype=np.int64)


def plant_mean_reversion(draft: MarketDraft) -> None:
    """A range-bound coin: its hourly log price is an AR(1) around its level (stationary sd
    1.3 hourly moves; ``SPREAD_PHI``), with a tenth of its own latent moves as texture, that
    drops ``SPREAD_STRETCH`` deviations below its level every four days and comes back at its
    half-life; and a quiet one (3.5 bps of stationary sd) whose every dip is worth less than a
    taker round trip."""
    pool = _pool(draft)
    if len(pool) < 2:
        return
    deep, shallow = draft.take_symbols(2, "spot_mean_reversion", candidates=pool)
    for symbol, stationary, texture, stretch, profitable in (
        (deep, 1.3 * hourly_sd(draft, deep), 0.1, -SPREAD_STRETCH, True),
        (shallow, 0.00035, 0.0, -3.5, False),
    ):
        kind = "spot_mean_reversion" if profitable else "spot_mean_reversion:shallow"
        spread = _spread(kind, symbol, stationary * np.sqrt(1 - SPREAD_PHI**2), stretch)
        _range_bound(draft, symbol, spread, texture)
        episode = phase(draft.seed, kind, 0, 1, SPREAD_SCHEDULE, draft.as_of_ms)
        if profitable and not episode.live:
            continue
        draft.plant(
            Planted(
                "spot_mean_reversion",
                symbol,
                None,
                profitable,
                "overshoot" if profitable else "overshoot_smaller_than_costs",
                {
                    "stationary_sd_bps": stationary * 1e4,
                    "stretch_sds": stretch,
                    **({"born_ms": episode.born_ms} if profitable else {}),
                },
            )
        )


def _spread(
    kind: str, symbol: str, shock_sd: float, stretch: float, phi: float = SPREAD_PHI
) -> Spread:
    return Spread(kind, f"{kind}:{symbol}", phi, shock_sd, stretch, SPREAD_SCHEDULE, 0, 1)


def _range_bound(draft: MarketDraft, symbol: str, spread: Spread, texture: float) -> None:
    level = float(np.log(draft.listing_price[symbol]))

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        bound: FloatArray = level + spread_at(draft.seed, spread, times) + texture * (own - level)
        return bound

    reshape(draft, symbol, path)


def _breakout_cycle(draft: MarketDraft, symbol: str, kind: str, height: float) -> None:
    """Give ``symbol`` a designed path with a four-day cycle (``BREAKOUT_SCHEDULE``), a function of
    time only: a two-day box (a triangle wave ``height`` high that ends at its top, quiet, with
    a quarter of its wicks), then a break on the bar that closes at the cycle's birth (to 1.4
    box heights, on six times its usual volume), a day running up two box heights (the measured
    move and more), and a day giving it all back. Around the shape: an AR(1) noise in hours (up
    to 1.4 hourly moves of the symbol's between the break and the next box, a tenth of one in
    the box and at the break) and a fiftieth of its own latent moves, for texture between the
    hours."""
    level = float(np.log(draft.listing_price[symbol]))
    period, day = BREAKOUT_SCHEDULE.period_ms, 24 * HOUR_MS
    broken = 1.4 * height
    run = 2.0 * height
    sd = hourly_sd(draft, symbol)
    noise = _spread(kind, f"noise:{symbol}", sd * np.sqrt(1 - 0.5**2), 0.0, phi=0.5)

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        age = trend_age(draft.seed, kind, 0, 1, BREAKOUT_SCHEDULE, times)
        # One and a half triangles, 16 hours a leg: from the give-back's level to the top.
        box = 1.0 - np.abs(2.0 * (((age - 2 * day) / (32 * HOUR_MS)) % 1.0) - 1.0)
        shape = np.where(
            age < day,
            broken + run * age / day,
            np.where(age < 2 * day, (broken + run) * (2.0 - age / day), height * box),
        )
        # Quiet in the box and at the break, loud in the run and the give-back, continuously.
        loud = 0.1 + 1.3 * np.where(age < 2 * day, 1.0 - np.abs(age / day - 1.0), 0.0)
        wobble = loud * spread_at(draft.seed, noise, times)
        designed: FloatArray = level + shape + wobble + 0.02 * (own - level)
        return designed

    reshape(draft, symbol, path)
    opens = draft.bar_open_ms["1h"]
    age = trend_age(draft.seed, kind, 0, 1, BREAKOUT_SCHEDULE, opens)
    in_box = age >= 2 * day
    breaking = age == period - HOUR_MS
    draft.intrabar_range[(symbol, "1h")] = np.where(in_box & ~breaking, 0.25, 1.0)
    usual = draft.volume[(symbol, "1h")]  # each bar's own: a function of its time
    draft.volume[(symbol, "1h")] = np.where(
        breaking, 6.0 * usual, np.where(in_box, 0.8 * usual, usual)
    )


def plant_breakout(draft: MarketDraft) -> None:
    """A breakout cycle (``_breakout_cycle``) with a box about 2 hourly moves high per day of
    box, found on the bar that breaks it; and the same cycle with a box only ~35 bps high on an
    expensive book (25 bps wide, $400 a level): a measured move of a few tens of bps cannot pay
    for that round trip."""
    pool = _pool(draft)
    if len(pool) < 2:
        return
    clean, tiny = draft.take_symbols(2, "spot_breakout", candidates=pool)
    _breakout_cycle(draft, clean, "spot_breakout", BREAKOUT_HEIGHT * hourly_sd(draft, clean))
    _breakout_cycle(draft, tiny, "spot_breakout:tiny", 0.0035)
    _make_expensive(draft, tiny, spread_bps=25.0, depth=400.0)
    age = trend_age(draft.seed, "spot_breakout", 0, 1, BREAKOUT_SCHEDULE, _now(draft))[0]
    if age < BREAKOUT_SCHEDULE.live_ms:
        draft.plant(
            Planted("spot_breakout_strategy", clean, None, True, "breakout", {"quiet": 0.25})
        )
    draft.plant(
        Planted(
            "spot_breakout_strategy",
            tiny,
            None,
            False,
            "breakout_smaller_than_costs",
            {"box_height_bps": 35.0, "spread_bps": 25.0},
        )
    )


def _set_1m_vol(draft: MarketDraft, symbol: str, bar_sd: float) -> None:
    """Make ``symbol`` move ``bar_sd`` a minute in the long run (on every timeframe alike)."""
    scale_moves(draft, symbol, bar_sd / float(draft.annual_vol[symbol] / np.sqrt(525_600.0)))


def plant_scalping(draft: MarketDraft) -> None:
    """On the exchange with the cheapest maker fee: a 1 bps spread with 75% of the top five
    levels on the bids, on a coin moving 18 bps a minute (an expected ~43 bps over ten minutes
    against ~20 bps of round trip); and the same lean on a coin moving 4 bps a minute."""
    pool = _pool(draft, upto=25)  # scalping needs volume: the gates want $5M a day per venue
    if len(pool) < 2:
        return
    lively, calm = draft.take_symbols(2, "scalping", candidates=pool)
    exchange = _cheapest_maker(draft)
    for symbol, sd_1m, profitable in ((lively, 0.0018, True), (calm, 0.0004, False)):
        _set_1m_vol(draft, symbol, sd_1m)
        key = (exchange, symbol)
        draft.spread_bps[key] = 1.0
        draft.level_step_bps[key] = 0.6
        draft.book_imbalance[key] = 0.75
        draft.plant(
            Planted(
                "scalping_strategy",
                symbol,
                exchange,
                profitable,
                "imbalanced_tight_book" if profitable else "imbalance_without_volatility",
                {"imbalance": 0.75, "volatility_1m_bps": sd_1m * 1e4},
            )
        )


def plant_market_making(draft: MarketDraft) -> None:
    """A 50 bps spread over a deep, balanced book on a calm coin (3 bps a minute), on the exchange
    with the cheapest maker fee; and a 50 bps spread on a wild coin (50 bps a minute) on the
    dearest one, where adverse selection alone eats what two maker fees leave."""
    pool = _pool(draft, upto=30)
    if len(pool) < 2:
        return
    calm, wild = draft.take_symbols(2, "market_making", candidates=pool)
    for symbol, exchange, sd_1m, profitable in (
        (calm, _cheapest_maker(draft), 0.0003, True),
        (wild, _dearest_maker(draft), 0.005, False),
    ):
        _set_1m_vol(draft, symbol, sd_1m)
        key = (exchange, symbol)
        draft.spread_bps[key] = 50.0
        draft.level_step_bps[key] = 3.0
        draft.depth_usd[key] *= 3.0
        draft.book_imbalance[key] = 0.0
        draft.plant(
            Planted(
                "market_making",
                symbol,
                exchange,
                profitable,
                "wide_spread_deep_book" if profitable else "wide_spread_adverse_selection",
                {"spread_bps": 50.0, "volatility_1m_bps": sd_1m * 1e4},
            )
        )


def _ordered(draft: MarketDraft, symbols: list[str]) -> list[str]:
    return sorted(symbols, key=draft.symbols.index)


def plant_pairs(draft: MarketDraft) -> None:
    """A pair whose later (smaller) symbol is 0.9x the other's log price plus an AR(1) spread
    (``SPREAD_PHI`` per hour) stretched ``SPREAD_STRETCH`` stationary deviations every four
    days and reverting at its half-life; and a decoy pair as correlated, whose spread is a
    random walk (not cointegrated: must be rejected, and would not pay)."""
    pool = _pool(draft)
    if len(pool) < 4:
        return
    chosen = draft.take_symbols(4, "pairs_trading", candidates=pool)
    for (leader, follower), cointegrated in (
        (_ordered(draft, chosen[:2]), True),
        (_ordered(draft, chosen[2:]), False),
    ):
        kind = "pairs_trading" if cointegrated else "pairs_trading:decoy"
        # Against the leader's moves, so the pair's returns stay correlated whoever is wilder.
        shock = 0.3 * hourly_sd(draft, leader)
        spread = (
            _spread(kind, follower, shock, SPREAD_STRETCH)
            if cointegrated
            else _spread(kind, follower, shock, 0.0, phi=1.0)
        )
        _pair_up(draft, leader, follower, spread)
        episode = phase(draft.seed, kind, 0, 1, SPREAD_SCHEDULE, draft.as_of_ms)
        if cointegrated and not episode.live:
            continue
        draft.plant(
            Planted(
                "pairs_trading",
                follower,
                None,
                cointegrated,
                "cointegrated_pair" if cointegrated else "correlated_not_cointegrated",
                {
                    "partner": leader,
                    "hedge_ratio": 0.9,
                    "stretch_sds": spread.stretch_sds,
                    **({"born_ms": episode.born_ms} if cointegrated else {}),
                },
            )
        )


def _pair_up(draft: MarketDraft, leader: str, follower: str, spread: Spread) -> None:
    anchor = np.log(draft.listing_price[follower]) - 0.9 * np.log(draft.listing_price[leader])

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        joined: FloatArray = (
            anchor + 0.9 * log_at(draft, leader, tf) + spread_at(draft.seed, spread, times)
        )
        return joined

    reshape(draft, follower, path)


def plant_statistical_arbitrage(draft: MarketDraft) -> None:
    """A coin that moves 1.0x the basket of all the others plus an idiosyncratic AR(1)
    (``SPREAD_PHI``) that drops ``SPREAD_STRETCH`` deviations every four days and comes back
    at its half-life; and one whose idiosyncratic part is a random walk (no reversion: must be
    rejected).

    It runs last: the basket is the other symbols' paths as the scanner sees them.
    """
    pool = _pool(draft)
    if len(pool) < 2:
        return
    reverting, wandering = draft.take_symbols(2, "statistical_arbitrage", candidates=pool)
    for symbol, profitable in ((reverting, True), (wandering, False)):
        kind = "statistical_arbitrage" if profitable else "statistical_arbitrage:wandering"
        shock = 0.5 * hourly_sd(draft, symbol)
        spread = (
            _spread(kind, symbol, shock, -SPREAD_STRETCH)
            if profitable
            else _spread(kind, symbol, shock, 0.0, phi=1.0)
        )
        _with_basket(draft, symbol, spread)
        episode = phase(draft.seed, kind, 0, 1, SPREAD_SCHEDULE, draft.as_of_ms)
        if profitable and not episode.live:
            continue
        draft.plant(
            Planted(
                "statistical_arbitrage",
                symbol,
                None,
                profitable,
                "reverting_residual" if profitable else "residual_random_walk",
                {
                    "beta": 1.0,
                    "stretch_sds": spread.stretch_sds,
                    **({"born_ms": episode.born_ms} if profitable else {}),
                },
            )
        )


def _with_basket(draft: MarketDraft, symbol: str, spread: Spread) -> None:
    others = [s for s in draft.symbols if s != symbol and s in draft.last_price]
    levels = {s: float(np.log(draft.listing_price[s])) for s in [*others, symbol]}

    def path(tf: str, times: IntArray, own: FloatArray) -> FloatArray:
        basket = np.mean([log_at(draft, s, tf) - levels[s] for s in others], axis=0)
        joined: FloatArray = levels[symbol] + basket + spread_at(draft.seed, spread, times)
        return joined

    reshape(draft, symbol, path)


PLANTERS: list[Callable[[MarketDraft], None]] = [
    plant_momentum,
    plant_mean_reversion,
    plant_breakout,
    plant_scalping,
    plant_market_making,
    plant_pairs,
    plant_statistical_arbitrage,  # last: it reads the basket the others leave behind
]
