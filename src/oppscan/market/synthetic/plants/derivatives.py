"""Planting functions for the derivatives strategies: futures, options, funding, complex options.

Each planter takes its symbols through ``draft.take_symbols`` (options first: only the five
largest symbols have chains), edits the draft in place and records ``Planted`` ground truth,
profitable or not. The unprofitable plants are near misses a careless scanner would report: a
basis a little rich but short of the fees, funding a little high but short of the fees, implied
vol a little above realised but inside its error band, a quote off the smile by less than the
spread. Magnitudes are chosen against the fee schedule of the base market (10 bps spot taker).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oppscan.market.synthetic.draft import MarketDraft, Planted, QuoteShift
from oppscan.market.synthetic.plants.episodes import DAY_MS, HOUR_MS, Phase, Schedule, phase
from oppscan.market.synthetic.plants.paths import add_trend, trend_age
from oppscan.market.synthetic.plants.spot import TREND_PER_HOUR, TREND_SCHEDULE

_HOURLY = 24 * 365.0
# Rich implied vol comes in week-long episodes; a mispriced quote lives four days and is
# corrected over a day; a rich basis and high funding are regimes of a couple of weeks, on two
# symbols taking turns (so one of them is always rich).
RICH_IV = Schedule(period_ms=10 * DAY_MS, live_ms=7 * DAY_MS, half_life_ms=DAY_MS)
MISPRICED = Schedule(period_ms=6 * DAY_MS, live_ms=4 * DAY_MS, half_life_ms=12 * HOUR_MS)
RICH_BASIS = Schedule(period_ms=20 * DAY_MS, live_ms=12 * DAY_MS, half_life_ms=2 * DAY_MS)
# The futures scanner sees a perp's trend a week into a leg; with the two perps a week apart,
# one of them is always in its second week.
PERP_TREND_SEEN_MS = 7 * DAY_MS
HIGH_FUNDING = Schedule(period_ms=20 * DAY_MS, live_ms=12 * DAY_MS, half_life_ms=DAY_MS)


def _phase(
    draft: MarketDraft, kind: str, schedule: Schedule, slot: int = 0, slots: int = 1
) -> Phase:
    return phase(draft.seed, kind, slot, slots, schedule, draft.as_of_ms)


def _life(p: Phase, schedule: Schedule) -> dict[str, int]:
    return {"born_ms": p.born_ms, "live_until_ms": p.born_ms + schedule.live_ms}


def _hourly_realised_vol(draft: MarketDraft, symbol: str) -> float:
    returns = draft.log_returns[(symbol, "1h")]
    return float(np.std(returns[1:], ddof=1) * np.sqrt(_HOURLY))


def _exchange(draft: MarketDraft, purpose: str, symbol: str, pool: list[str] | None = None) -> str:
    choices = sorted(pool if pool is not None else draft.exchanges)
    rng = draft.child_rng(f"{purpose}:{symbol}:exchange")
    return choices[int(rng.integers(len(choices)))]


def plant_option_volatility(draft: MarketDraft) -> None:
    """A chain priced 60% above realised vol (sell it) in week-long episodes (``RICH_IV``),
    decaying to fair between them; and one always only 3% above (inside the error of a 600-bar
    realised vol estimate, and short of the spread: leave it). The market's realised vol stays
    its own: selling the rich chain pays, as a volatility premium does."""
    if len(draft.option_symbols) < 2:
        return
    rich, near_fair = draft.take_symbols(2, "options_iv", candidates=draft.option_symbols)
    episode = _phase(draft, "options_iv", RICH_IV)
    for symbol, ratio, profitable, kind in (
        (rich, 1.0 + 0.6 * episode.strength, True, "iv_far_above_realised"),
        (near_fair, 1.03, False, "iv_within_realised_error"),
    ):
        rv = _hourly_realised_vol(draft, symbol)
        draft.iv_atm[symbol] = rv * ratio
        if profitable and not episode.live:
            continue  # decaying: not a plant a scanner must find
        draft.plant(
            Planted(
                strategy_id="options_trade",
                symbol=symbol,
                exchange=None,
                profitable=profitable,
                kind=kind,
                detail={
                    "iv_atm": rv * ratio,
                    "realised_vol_1h": rv,
                    "iv_over_rv": ratio,
                    **(_life(episode, RICH_IV) if profitable else {}),
                },
            )
        )


def plant_mispriced_quotes(draft: MarketDraft) -> None:
    """On two chains taking turns, in four-day episodes corrected over a day (``MISPRICED``):
    the monthly one-sigma put and call 10 vol points rich (a short iron condor sells them) and
    the quarterly at-the-money call 8 points cheap (a long calendar buys it). On another,
    always: one quote 0.3 vol points rich, a fraction of its spread."""
    free = [s for s in draft.option_symbols if s not in draft.taken]
    if len(free) < 3 or len(draft.option_expiries_ms) < 3:
        return
    *mispriced, near_fair = draft.take_symbols(3, "options_quotes", candidates=free)
    atm = len(draft.option_moneyness) // 2
    for slot, symbol in enumerate(mispriced):
        exchange = _exchange(draft, "options_quotes", symbol, draft.option_exchanges)
        episode = _phase(draft, "options_quotes", MISPRICED, slot, len(mispriced))
        k = episode.strength
        shifts = [
            QuoteShift(expiry_index=1, strike_index=atm - 2, is_call=False, iv_shift=0.10 * k),
            QuoteShift(expiry_index=1, strike_index=atm + 2, is_call=True, iv_shift=0.10 * k),
            QuoteShift(expiry_index=2, strike_index=atm, is_call=True, iv_shift=-0.08 * k),
        ]
        draft.option_quote_shifts.setdefault((exchange, symbol), []).extend(shifts)
        _plant_mispriced(draft, symbol, exchange, shifts, episode)
    small_exchange = _exchange(draft, "options_quotes_small", near_fair, draft.option_exchanges)
    small = QuoteShift(expiry_index=1, strike_index=atm, is_call=True, iv_shift=0.003)
    draft.option_quote_shifts.setdefault((small_exchange, near_fair), []).append(small)
    draft.plant(
        Planted(
            strategy_id="complex_strategy",
            symbol=near_fair,
            exchange=small_exchange,
            profitable=False,
            kind="quote_shift_within_spread",
            detail={"shift": [small.expiry_index, small.strike_index, small.is_call, 0.003]},
        )
    )


def _plant_mispriced(
    draft: MarketDraft, symbol: str, exchange: str, shifts: list[QuoteShift], episode: Phase
) -> None:
    if not episode.live:
        return  # being corrected: not a plant a scanner must find
    facts = {
        "shifts": [[q.expiry_index, q.strike_index, q.is_call, q.iv_shift] for q in shifts],
        **_life(episode, MISPRICED),
    }
    draft.plant(Planted("complex_strategy", symbol, exchange, True, "mispriced_quotes", facts))
    # options_trade's single-quote scan sells the same rich quotes one by one.
    draft.plant(
        Planted("options_trade", symbol, exchange, True, "mispriced_single_quotes", dict(facts))
    )


def plant_basis(draft: MarketDraft) -> None:
    """A quarterly future at 25% annualised basis (cash and carry pays ~4-10% by expiry against
    1-2% risk-free and 0.4% of fees) in regimes of ``RICH_BASIS`` on two symbols taking turns,
    the basis falling back to fair after each (a short future gains as it does); and a monthly
    one always at risk-free + 3% (at most ~37 bps to its expiry: less than the four fills'
    40 bps)."""
    free = [s for s in draft.future_symbols if s not in draft.taken]
    if len(free) < 3:
        return
    *rich, thin = draft.take_symbols(3, "futures_basis", candidates=free)
    rf = draft.risk_free_rate
    days = [(ms - draft.as_of_ms) / 86_400_000 for ms in draft.future_expiries_ms]
    far = len(days) - 1
    for slot, symbol in enumerate(rich):
        exchange = _exchange(draft, "futures_basis", symbol)
        bases = draft.basis_annual.get((exchange, symbol))
        if bases is None:
            continue
        episode = _phase(draft, "futures_basis", RICH_BASIS, slot, len(rich))
        bases[far] += (0.25 - bases[far]) * episode.strength
        if episode.live:
            draft.plant(
                Planted(
                    "futures_trade",
                    symbol,
                    exchange,
                    True,
                    "rich_basis",
                    {
                        "days": round(days[far], 2),
                        "basis_annual": 0.25,
                        **_life(episode, RICH_BASIS),
                    },
                )
            )
    exchange = _exchange(draft, "futures_basis", thin)
    bases = draft.basis_annual.get((exchange, thin))
    if bases is not None:
        bases[0] = rf + 0.03
        draft.plant(
            Planted(
                "futures_trade",
                thin,
                exchange,
                False,
                "basis_below_fees",
                {"days": round(days[0], 2), "basis_annual": rf + 0.03},
            )
        )


def plant_perp_trends(draft: MarketDraft) -> None:
    """Two perps in trend cycles (``TREND_SCHEDULE``: 14 days up, 14 days down, at
    ``TREND_PER_HOUR`` hourly moves an hour), a week apart: in the second week of either leg a
    perp is a profitable plant, long on the way up and short on the way down, so one of the two
    always is."""
    pool = [
        s
        for s in draft.symbols[10:]
        if s not in draft.taken and any((e, s) in draft.funding_rate for e in draft.exchanges)
    ]
    if len(pool) < 2:
        return
    now = np.array([draft.as_of_ms], dtype=np.int64)
    leg = TREND_SCHEDULE.live_ms
    for slot, symbol in enumerate(draft.take_symbols(2, "perp_trend", candidates=pool)):
        # Slots a quarter period (one week) apart: 4 slots' spacing, of which two are used.
        add_trend(draft, symbol, "perp_trend", TREND_SCHEDULE, TREND_PER_HOUR, slot, 4)
        age = float(trend_age(draft.seed, "perp_trend", slot, 4, TREND_SCHEDULE, now)[0])
        if age % leg < PERP_TREND_SEEN_MS:
            continue
        draft.plant(
            Planted(
                strategy_id="futures_trade",
                symbol=symbol,
                exchange=None,
                profitable=True,
                kind="perp_trend",
                detail={"direction": "up" if age < leg else "down"},
            )
        )


def plant_funding(draft: MarketDraft) -> None:
    """High funding (0.06% per 8h: 126 bps a week against 40 bps of fees) in regimes of
    ``HIGH_FUNDING`` on two perps taking turns, falling back to the clamp after each; 0.01%
    every hour on one exchange against 0.01% every 8 hours on another (equal per interval, 8x
    apart annualised), always; and 0.016% per 8h somewhere, always (34 bps a week: short of the
    fees)."""
    pool = [
        s
        for s in draft.symbols[:30]
        if s not in draft.taken and sum((e, s) in draft.funding_rate for e in draft.exchanges) >= 2
    ]
    if len(pool) < 4:
        return
    *high, cross, thin = draft.take_symbols(4, "funding", candidates=pool)

    for slot, symbol in enumerate(high):
        exchange = _exchange(draft, "funding_high", symbol)
        key = (exchange, symbol)
        if key not in draft.funding_rate:
            continue
        hours = draft.funding_interval_h[key]
        episode = _phase(draft, "funding_high", HIGH_FUNDING, slot, len(high))
        fair = draft.funding_rate[key]
        draft.funding_rate[key] = fair + (0.0006 * hours / 8 - fair) * episode.strength
        draft.perp_premium_bps[key] = 8.0 * episode.strength  # longs paying up, as they do
        if episode.live:
            draft.plant(
                Planted(
                    "funding_arbitrage",
                    symbol,
                    exchange,
                    True,
                    "high_funding",
                    {"per_8h": 0.0006, **_life(episode, HIGH_FUNDING)},
                )
            )

    venues = sorted(e for e in draft.exchanges if (e, cross) in draft.funding_rate)
    short_ex = _exchange(draft, "funding_cross", cross, venues)
    long_ex = next(e for e in venues if e != short_ex)
    draft.funding_interval_h[(short_ex, cross)] = 1.0
    draft.funding_rate[(short_ex, cross)] = 0.0001
    draft.funding_interval_h[(long_ex, cross)] = 8.0
    draft.funding_rate[(long_ex, cross)] = 0.0001
    for other in venues:
        if other not in (short_ex, long_ex):  # keep the third venue fair, on 8h
            draft.funding_interval_h[(other, cross)] = 8.0
            draft.funding_rate[(other, cross)] = 0.0001
    draft.plant(
        Planted(
            "funding_arbitrage",
            cross,
            short_ex,
            True,
            "cross_exchange_interval",
            {"short": short_ex, "short_interval_h": 1.0, "long": long_ex, "long_interval_h": 8.0},
        )
    )

    thin_ex = _exchange(draft, "funding_thin", thin)
    if (thin_ex, thin) in draft.funding_rate:
        hours = draft.funding_interval_h[(thin_ex, thin)]
        draft.funding_rate[(thin_ex, thin)] = 0.00016 * hours / 8
        draft.plant(
            Planted(
                "funding_arbitrage", thin, thin_ex, False, "funding_below_fees", {"per_8h": 0.00016}
            )
        )


# Options first: they can only use the five chained symbols; futures next (ten), then the rest.
PLANTERS: list[Callable[[MarketDraft], None]] = [
    plant_option_volatility,
    plant_mispriced_quotes,
    plant_basis,
    plant_perp_trends,
    plant_funding,
]
