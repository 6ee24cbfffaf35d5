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

_HOURLY = 24 * 365.0


def _hourly_realised_vol(draft: MarketDraft, symbol: str) -> float:
    returns = draft.log_returns[(symbol, "1h")]
    return float(np.std(returns[1:], ddof=1) * np.sqrt(_HOURLY))


def _exchange(draft: MarketDraft, purpose: str, symbol: str, pool: list[str] | None = None) -> str:
    choices = sorted(pool if pool is not None else draft.exchanges)
    rng = draft.child_rng(f"{purpose}:{symbol}:exchange")
    return choices[int(rng.integers(len(choices)))]


def plant_option_volatility(draft: MarketDraft) -> None:
    """A chain priced 60% above realised vol (sell it) and one only 3% above (inside the error
    of a 600-bar realised vol estimate, and short of the spread: leave it)."""
    if len(draft.option_symbols) < 2:
        return
    rich, near_fair = draft.take_symbols(2, "options_iv", candidates=draft.option_symbols)
    for symbol, ratio, profitable, kind in (
        (rich, 1.6, True, "iv_far_above_realised"),
        (near_fair, 1.03, False, "iv_within_realised_error"),
    ):
        rv = _hourly_realised_vol(draft, symbol)
        draft.iv_atm[symbol] = rv * ratio
        draft.plant(
            Planted(
                strategy_id="options_trade",
                symbol=symbol,
                exchange=None,
                profitable=profitable,
                kind=kind,
                detail={"iv_atm": rv * ratio, "realised_vol_1h": rv, "iv_over_rv": ratio},
            )
        )


def plant_mispriced_quotes(draft: MarketDraft) -> None:
    """On one chain: the monthly one-sigma put and call 10 vol points rich (a short iron condor
    sells them) and the quarterly at-the-money call 8 points cheap (a long calendar buys it). On
    another: one quote 0.3 vol points rich, a fraction of its spread."""
    free = [s for s in draft.option_symbols if s not in draft.taken]
    if len(free) < 2 or len(draft.option_expiries_ms) < 3:
        return
    mispriced, near_fair = draft.take_symbols(2, "options_quotes", candidates=free)
    atm = len(draft.option_moneyness) // 2
    exchange = _exchange(draft, "options_quotes", mispriced, draft.option_exchanges)
    shifts = [
        QuoteShift(expiry_index=1, strike_index=atm - 2, is_call=False, iv_shift=0.10),
        QuoteShift(expiry_index=1, strike_index=atm + 2, is_call=True, iv_shift=0.10),
        QuoteShift(expiry_index=2, strike_index=atm, is_call=True, iv_shift=-0.08),
    ]
    draft.option_quote_shifts.setdefault((exchange, mispriced), []).extend(shifts)
    draft.plant(
        Planted(
            strategy_id="complex_strategy",
            symbol=mispriced,
            exchange=exchange,
            profitable=True,
            kind="mispriced_quotes",
            detail={
                "shifts": [[q.expiry_index, q.strike_index, q.is_call, q.iv_shift] for q in shifts]
            },
        )
    )
    # options_trade's single-quote scan sells the same rich quotes one by one.
    draft.plant(
        Planted(
            strategy_id="options_trade",
            symbol=mispriced,
            exchange=exchange,
            profitable=True,
            kind="mispriced_single_quotes",
            detail={
                "shifts": [[q.expiry_index, q.strike_index, q.is_call, q.iv_shift] for q in shifts]
            },
        )
    )
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


def plant_basis(draft: MarketDraft) -> None:
    """A quarterly future at 25% annualised basis (cash and carry pays ~4-10% by expiry against
    1-2% risk-free and 0.4% of fees) and a monthly one at risk-free + 3% (12-37 bps: less
    than the four fills' 40 bps)."""
    free = [s for s in draft.future_symbols if s not in draft.taken]
    if len(free) < 2:
        return
    rich, thin = draft.take_symbols(2, "futures_basis", candidates=free)
    rf = draft.risk_free_rate
    days = [(ms - draft.as_of_ms) / 86_400_000 for ms in draft.future_expiries_ms]
    for symbol, expiry_index, basis, profitable, kind in (
        (rich, len(days) - 1, 0.25, True, "rich_basis"),
        (thin, 0, rf + 0.03, False, "basis_below_fees"),
    ):
        exchange = _exchange(draft, "futures_basis", symbol)
        bases = draft.basis_annual.get((exchange, symbol))
        if bases is None:
            continue
        bases[expiry_index] = basis
        draft.plant(
            Planted(
                strategy_id="futures_trade",
                symbol=symbol,
                exchange=exchange,
                profitable=profitable,
                kind=kind,
                detail={"days": round(days[expiry_index], 2), "basis_annual": basis},
            )
        )


def plant_perp_trends(draft: MarketDraft) -> None:
    """Two perps trending hard: 0.55 sigmas of drift per 4h bar over the last 90 bars and 0.35
    per 1h bar over the last 200, sigma being those bars' own (drift t-statistics of about 4)."""
    pool = [
        s
        for s in draft.symbols[10:]
        if s not in draft.taken and any((e, s) in draft.funding_rate for e in draft.exchanges)
    ]
    if len(pool) < 2:
        return
    rng = draft.child_rng("perp_trend")
    for symbol in draft.take_symbols(2, "perp_trend", candidates=pool):
        direction = 1.0 if rng.random() < 0.5 else -1.0
        for tf, strength, bars in (("4h", 0.55, 90), ("1h", 0.35, 200)):
            returns = draft.log_returns[(symbol, tf)]
            # Against the window's own volatility: a GARCH burst there must not drown the trend.
            bar_sd = float(np.std(returns[-bars:], ddof=1))
            drifted = returns.copy()
            drifted[-bars:] += direction * strength * bar_sd
            draft.log_returns[(symbol, tf)] = drifted
        draft.plant(
            Planted(
                strategy_id="futures_trade",
                symbol=symbol,
                exchange=None,
                profitable=True,
                kind="perp_trend",
                detail={"direction": "up" if direction > 0 else "down"},
            )
        )


def plant_funding(draft: MarketDraft) -> None:
    """High funding (0.06% per 8h: 126 bps a week against 40 bps of fees) on one perp; 0.01%
    every hour on one exchange against 0.01% every 8 hours on another (equal per interval, 8x
    apart annualised); and 0.016% per 8h somewhere (34 bps a week: short of the fees)."""
    pool = [
        s
        for s in draft.symbols[:30]
        if s not in draft.taken and sum((e, s) in draft.funding_rate for e in draft.exchanges) >= 2
    ]
    if len(pool) < 3:
        return
    high, cross, thin = draft.take_symbols(3, "funding", candidates=pool)

    exchange = _exchange(draft, "funding_high", high)
    if (exchange, high) in draft.funding_rate:
        draft.funding_rate[(exchange, high)] = (
            0.0006 * draft.funding_interval_h[(exchange, high)] / 8
        )
        draft.perp_premium_bps[(exchange, high)] = 8.0  # longs paying up, as they do
        draft.plant(
            Planted("funding_arbitrage", high, exchange, True, "high_funding", {"per_8h": 0.0006})
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
