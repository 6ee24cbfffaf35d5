"""The unplanted ("fair") synthetic market at one moment of its continuous history.

Prices come from ``latent``: one path per symbol and seed, a market factor plus each symbol's
own moves under stochastic volatility, shown as the bars that have closed by the snapshot's
time. What a snapshot shows of the present evolves with time too: spreads, book sizes and
imbalance, perp premiums change every minute; funding rates every funding period (around the
0.01%/8h clamp); the basis of dated futures (risk-free + a little) every day; implied volatility
is what the last 25 days of hourly closes realised, on an SSVI smile. The venue's parameters (which
venue is cheap, deep or settles funding hourly) are the seed's. Nothing here is an opportunity;
the planters add those.
"""

from __future__ import annotations

import numpy as np

from oppscan.market.snapshot import TIMEFRAMES, Fees, FloatArray
from oppscan.market.synthetic import expiries
from oppscan.market.synthetic.draft import MarketDraft
from oppscan.market.synthetic.latent import DAY_MS, MINUTE_MS, day_close, latent_view
from oppscan.market.synthetic.streams import normals, stream_key, words

DEFAULT_AS_OF_MS = 1_767_268_800_000  # 2026-01-01 12:00 UTC, for tests and replays
DEFAULT_EXCHANGES: tuple[str, ...] = ("binance", "okx", "bybit")

# Spot fee schedules at the entry tier (maker, taker).
EXCHANGE_FEES: dict[str, Fees] = {
    "binance": Fees(maker=0.001, taker=0.001),
    "okx": Fees(maker=0.0008, taker=0.001),
    "bybit": Fees(maker=0.001, taker=0.001),
}
_DEFAULT_FEES = Fees(maker=0.001, taker=0.001)
_VOLUME_SHARE = {"binance": 0.5, "okx": 0.25, "bybit": 0.25}
_SPREAD_FACTOR = {"binance": 1.0, "okx": 1.2, "bybit": 1.1}

FAIR_FUNDING_PER_8H = 0.0001
FAIR_BASIS_EXCESS = 0.01  # annual, over the risk-free rate
RISK_FREE_RATE = 0.04
_STATE_WORDS = 4  # per (exchange, symbol) and minute: spread noise, imbalance, premium, spare


def build_draft(
    seed: int,
    *,
    symbols_count: int = 40,
    exchanges: tuple[str, ...] = DEFAULT_EXCHANGES,
    as_of_ms: int = DEFAULT_AS_OF_MS,
) -> MarketDraft:
    """The fair market of ``seed`` at ``as_of_ms`` (floored to its minute)."""
    as_of_ms -= as_of_ms % MINUTE_MS
    view = latent_view(seed, symbols_count, as_of_ms)
    listing = view.factors.listing
    symbols = listing.symbols
    n = len(symbols)
    venue = np.random.default_rng([seed, 3])  # the venues' lasting parameters

    log_close: dict[tuple[str, str], FloatArray] = {}
    wick_up: dict[tuple[str, str], FloatArray] = {}
    wick_down: dict[tuple[str, str], FloatArray] = {}
    volume: dict[tuple[str, str], FloatArray] = {}
    for tf in TIMEFRAMES:
        bars = view.bars[tf]
        for j, symbol in enumerate(symbols):
            log_close[(symbol, tf)] = bars.log_close[:, j].copy()
            wick_up[(symbol, tf)] = bars.wick_up[:, j].copy()
            wick_down[(symbol, tf)] = bars.wick_down[:, j].copy()
            volume[(symbol, tf)] = bars.volume[:, j].copy()

    shares = {e: _VOLUME_SHARE.get(e, 0.25) for e in exchanges}
    total_share = sum(shares.values())
    shares = {e: v / total_share for e, v in shares.items()}

    minute = as_of_ms // MINUTE_MS
    pairs = len(exchanges) * n
    state = words(stream_key(seed, "minute-state"), minute, 1, _STATE_WORDS * pairs)
    state_normals = normals(state.reshape(pairs, _STATE_WORDS))
    day = as_of_ms // DAY_MS
    basis_noise = normals(words(stream_key(seed, "basis-day"), day, 1, 4 * pairs).reshape(pairs, 4))

    offset: dict[tuple[str, str], float] = {}
    spread: dict[tuple[str, str], float] = {}
    step: dict[tuple[str, str], float] = {}
    depth: dict[tuple[str, str], float] = {}
    imbalance: dict[tuple[str, str], float] = {}
    funding: dict[tuple[str, str], float] = {}
    interval: dict[tuple[str, str], float] = {}
    premium: dict[tuple[str, str], float] = {}
    basis: dict[tuple[str, str], list[float]] = {}
    future_symbols = symbols[: min(10, n)]
    future_expiries = expiries.future_expiries(as_of_ms)
    for rank, symbol in enumerate(symbols):
        for e_index, exchange in enumerate(exchanges):
            key = (exchange, symbol)
            pair = rank * len(exchanges) + e_index
            noise = state_normals[pair]
            offset[key] = float(venue.normal(0.0, 0.3 + 1.5 * rank / max(n, 1)))
            typical_spread = float(
                np.clip(0.15 * (rank + 1) ** 0.7, 0.1, 25.0)
                * _SPREAD_FACTOR.get(exchange, 1.15)
                * np.exp(venue.normal(0.0, 0.15))
            )
            spread[key] = typical_spread * float(np.exp(0.1 * noise[0]))
            step[key] = max(0.3, 0.6 * spread[key])
            depth[key] = max(
                300.0,
                listing.quote_volume_24h[symbol]
                * shares[exchange]
                * 2e-4
                * float(np.exp(venue.normal(0.0, 0.2))),
            )
            imbalance[key] = float(np.clip(0.08 * noise[1], -0.25, 0.25))
            hours = _funding_interval(exchange, rank, venue)
            interval[key] = hours
            funding[key] = _fair_funding(seed, pair, as_of_ms, hours)
            premium[key] = float(noise[2])
            if symbol in future_symbols:
                basis[key] = [
                    float(RISK_FREE_RATE + FAIR_BASIS_EXCESS + 0.003 * basis_noise[pair, i])
                    for i in range(len(future_expiries))
                ]

    option_symbols = symbols[: min(5, n)]
    # Options are priced at the volatility the hourly closes of the last 25 days realised.
    iv_atm = {
        s: float(np.std(np.diff(log_close[(s, "1h")]), ddof=1) * np.sqrt(24 * 365.0))
        for s in option_symbols
    }
    option_expiries = expiries.option_expiries(as_of_ms)
    # A chain's strikes are set when its expiry is first listed, around the price of the day
    # before: they stay put for the expiry's life.
    strike_anchor: dict[tuple[str, int], float] = {}
    for slot, expiry in enumerate(option_expiries):
        listed_day = (expiry - expiries.listed_days_before(expiry) * DAY_MS) // DAY_MS - 1
        closes = day_close(seed, symbols_count, min(listed_day, day), day)  # never later
        for j, s in enumerate(symbols):
            if s in option_symbols:
                strike_anchor[(s, slot)] = float(np.exp(closes[j]))
    # SSVI smiles (render.smile_iv): a put skew and straight wings, arbitrage-free for these
    # values (eta * (1 + |rho|) <= 2).
    smile = {
        s: {"rho": float(venue.normal(-0.3, 0.05)), "eta": float(venue.normal(0.6, 0.05))}
        for s in option_symbols
    }
    return MarketDraft(
        seed=seed,
        rng=np.random.default_rng([seed, 1, minute]),
        as_of_ms=as_of_ms,
        exchanges=list(exchanges),
        symbols=list(symbols),
        bar_open_ms={tf: view.bars[tf].open_ms for tf in TIMEFRAMES},
        last_price={s: float(np.exp(view.log_price[j])) for j, s in enumerate(symbols)},
        listing_price=dict(listing.price),
        annual_vol=dict(listing.annual_vol),
        beta=dict(listing.beta),
        log_close=log_close,
        wick_up=wick_up,
        wick_down=wick_down,
        volume=volume,
        exchange_volume_share=shares,
        exchange_offset_bps=offset,
        spread_bps=spread,
        level_step_bps=step,
        depth_usd=depth,
        book_imbalance=imbalance,
        funding_rate=funding,
        funding_interval_h=interval,
        perp_premium_bps=premium,
        basis_annual=basis,
        future_expiries_ms=future_expiries,
        future_symbols=list(future_symbols),
        iv_atm=iv_atm,
        smile=smile,
        option_symbols=list(option_symbols),
        option_exchanges=list(exchanges),
        option_expiries_ms=option_expiries,
        option_strike_anchor=strike_anchor,
        option_moneyness=(-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0),
        option_half_spread=0.015,
        option_quote_shifts={},
        fees={e: EXCHANGE_FEES.get(e, _DEFAULT_FEES) for e in exchanges},
        risk_free_rate=RISK_FREE_RATE,
    )


def _fair_funding(seed: int, pair: int, as_of_ms: int, hours: float) -> float:
    """The rate of the funding period running at ``as_of_ms``: most perps sit at the
    0.01%/8h clamp, with a little noise, never far from it; it changes every period."""
    period = as_of_ms // int(hours * 3_600_000)
    draw = float(normals(words(stream_key(seed, "funding", pair), period, 1, 4))[0, 0])
    per_8h = np.clip(FAIR_FUNDING_PER_8H + 0.00001 * draw, 0.00006, 0.00014)
    return float(per_8h * hours / 8.0)


def _funding_interval(exchange: str, rank: int, rng: np.random.Generator) -> float:
    """Majors settle every 8h; some smaller perps settle every 4h (binance) or 4h/1h (bybit)."""
    draw = float(rng.random())
    if rank < 10 or exchange == "okx":
        return 8.0
    if exchange == "bybit":
        return 1.0 if draw < 0.2 else 4.0 if draw < 0.5 else 8.0
    return 4.0 if draw < 0.3 else 8.0
