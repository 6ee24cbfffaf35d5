"""The unplanted ("fair") synthetic market: random walks with realistic texture.

Returns are a common market factor plus idiosyncratic noise, both GARCH(1,1)-clustered with
Student-t innovations (fat tails, volatility clustering). Funding is neutral (~0.01%/8h), dated
futures carry a fair basis (risk-free + a little), option IVs sit on a mild smile around each
symbol's realised volatility. Nothing here is an opportunity; the planters add those.
"""

from __future__ import annotations

import numpy as np

from oppscan.market.snapshot import TIMEFRAMES, Fees, FloatArray
from oppscan.market.synthetic.draft import MarketDraft
from oppscan.market.synthetic.listing import build_listing

DEFAULT_AS_OF_MS = 1_767_268_800_000  # 2026-01-01 12:00 UTC, for tests and replays
DEFAULT_EXCHANGES: tuple[str, ...] = ("binance", "okx", "bybit")
TIMEFRAME_BARS: dict[str, int] = {"1m": 600, "1h": 600, "4h": 320, "1d": 365}
BARS_PER_YEAR: dict[str, float] = {"1m": 525_600.0, "1h": 8_760.0, "4h": 2_190.0, "1d": 365.0}

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

# GARCH(1,1) on Student-t(5): alpha^2 E[z^4] + 2 alpha beta + beta^2 < 1, so the fourth moment
# exists and realised volatility over a few hundred bars is a stable estimate of the target.
_GARCH_ALPHA, _GARCH_BETA, _T_DOF = 0.06, 0.90, 5.0
_BURN_IN = 60


def build_draft(
    seed: int,
    *,
    symbols_count: int = 40,
    exchanges: tuple[str, ...] = DEFAULT_EXCHANGES,
    as_of_ms: int = DEFAULT_AS_OF_MS,
) -> MarketDraft:
    """A fair market for ``seed``: the listing depends on the seed only, the paths on the seed
    and the minute of ``as_of_ms`` (so one time bucket always renders the same arrays)."""
    listing = build_listing(symbols_count, np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, 1, as_of_ms // 60_000])
    symbols = listing.symbols
    n = len(symbols)
    vol = np.array([listing.annual_vol[s] for s in symbols])
    beta = np.array([listing.beta[s] for s in symbols])
    market_weight = np.minimum(0.7, (beta * 0.45 / vol) ** 2)

    log_returns: dict[tuple[str, str], FloatArray] = {}
    volume: dict[tuple[str, str], FloatArray] = {}
    for tf in TIMEFRAMES:
        bars = TIMEFRAME_BARS[tf]
        bar_sd = vol / np.sqrt(BARS_PER_YEAR[tf])
        market = _garch_t(rng, bars, 1)
        idio = _garch_t(rng, bars, n)
        returns = bar_sd * (np.sqrt(market_weight) * market + np.sqrt(1 - market_weight) * idio)
        # Heavy-tailed GARCH paths of a few hundred bars realise anywhere within +-40% of their
        # target; rescale each so its realised close-to-close vol is exactly the symbol's
        # ``annual_vol`` on every timeframe (clustering and tails keep their shape). Then options
        # priced at ``annual_vol`` are fair whichever timeframe a strategy measures RV on.
        returns *= bar_sd / np.std(returns[1:], axis=0, ddof=1)
        z = np.abs(returns / bar_sd)
        base_per_bar = np.array(
            [listing.quote_volume_24h[s] / listing.price[s] for s in symbols]
        ) / (BARS_PER_YEAR[tf] / 365.0)
        # Volume rises with the size of the move (|z| has mean ~0.8), with log-normal noise.
        noise = np.exp(rng.normal(-0.045, 0.3, size=returns.shape))
        bar_volume = base_per_bar * noise * (0.6 + 0.5 * z)
        for j, symbol in enumerate(symbols):
            log_returns[(symbol, tf)] = returns[:, j].copy()
            volume[(symbol, tf)] = bar_volume[:, j].copy()

    shares = {e: _VOLUME_SHARE.get(e, 0.25) for e in exchanges}
    total_share = sum(shares.values())
    shares = {e: v / total_share for e, v in shares.items()}

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
    future_expiry_days = (30, 90)
    for rank, symbol in enumerate(symbols):
        for exchange in exchanges:
            key = (exchange, symbol)
            offset[key] = float(rng.normal(0.0, 0.3 + 1.5 * rank / max(n, 1)))
            spread[key] = float(
                np.clip(0.15 * (rank + 1) ** 0.7, 0.1, 25.0)
                * _SPREAD_FACTOR.get(exchange, 1.15)
                * np.exp(rng.normal(0.0, 0.15))
            )
            step[key] = max(0.3, 0.6 * spread[key])
            depth[key] = max(
                300.0,
                listing.quote_volume_24h[symbol]
                * shares[exchange]
                * 2e-4
                * float(np.exp(rng.normal(0.0, 0.2))),
            )
            imbalance[key] = float(np.clip(rng.normal(0.0, 0.08), -0.25, 0.25))
            hours = _funding_interval(exchange, rank, rng)
            interval[key] = hours
            # Most perps sit at the 0.01%/8h clamp; a little noise, never far from it.
            per_8h = np.clip(FAIR_FUNDING_PER_8H + rng.normal(0.0, 0.00001), 0.00006, 0.00014)
            funding[key] = float(per_8h * hours / 8.0)
            premium[key] = float(rng.normal(0.0, 1.0))
            if symbol in future_symbols:
                basis[key] = [
                    float(RISK_FREE_RATE + FAIR_BASIS_EXCESS + rng.normal(0.0, 0.003))
                    for _ in future_expiry_days
                ]

    option_symbols = symbols[: min(5, n)]
    iv_atm = {s: listing.annual_vol[s] for s in option_symbols}
    smile = {
        s: {"skew": float(rng.normal(-0.05, 0.02)), "curvature": float(rng.normal(0.08, 0.02))}
        for s in option_symbols
    }
    return MarketDraft(
        seed=seed,
        rng=rng,
        as_of_ms=as_of_ms,
        exchanges=list(exchanges),
        symbols=list(symbols),
        timeframe_bars=dict(TIMEFRAME_BARS),
        last_price=dict(listing.price),
        annual_vol=dict(listing.annual_vol),
        beta=dict(listing.beta),
        log_returns=log_returns,
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
        future_expiry_days=future_expiry_days,
        future_symbols=list(future_symbols),
        iv_atm=iv_atm,
        smile=smile,
        option_symbols=list(option_symbols),
        option_exchanges=list(exchanges),
        option_expiry_days=(7, 30, 90),
        option_moneyness=(-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0),
        option_half_spread=0.015,
        option_quote_shifts={},
        fees={e: EXCHANGE_FEES.get(e, _DEFAULT_FEES) for e in exchanges},
        risk_free_rate=RISK_FREE_RATE,
    )


def _garch_t(rng: np.random.Generator, bars: int, series: int) -> FloatArray:
    """Unit-variance GARCH(1,1) innovations with Student-t shocks, shape (bars, series)."""
    shocks = rng.standard_t(_T_DOF, size=(bars + _BURN_IN, series)) / np.sqrt(
        _T_DOF / (_T_DOF - 2.0)
    )
    omega = 1.0 - _GARCH_ALPHA - _GARCH_BETA
    variance = np.ones(series)
    out = np.empty_like(shocks)
    for t in range(shocks.shape[0]):  # the recursion is sequential in time, vectorised over series
        eps = np.sqrt(variance) * shocks[t]
        out[t] = eps
        variance = omega + _GARCH_ALPHA * eps * eps + _GARCH_BETA * variance
    trimmed: FloatArray = out[_BURN_IN:]
    return trimmed


def _funding_interval(exchange: str, rank: int, rng: np.random.Generator) -> float:
    """Majors settle every 8h; some smaller perps settle every 4h (binance) or 4h/1h (bybit)."""
    draw = float(rng.random())
    if rank < 10 or exchange == "okx":
        return 8.0
    if exchange == "bybit":
        return 1.0 if draw < 0.2 else 4.0 if draw < 0.5 else 8.0
    return 4.0 if draw < 0.3 else 8.0
