"""Options maths on numpy arrays: greeks, implied volatility, realised volatility, smiles.

The Black-Scholes price itself is the market layer's (``oppscan.market.black_scholes``): the
chain's ``iv`` field is defined by it, and inverting it here must use the very same formula.

Everything takes and returns arrays (scalars broadcast), so a whole option chain is priced in one
call: the options strategies price hundreds of quotes per snapshot and must stay in milliseconds.
Time is in years, rates and volatilities are annual, premiums are per unit of the underlying.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from oppscan.market.black_scholes import bs_price, d1_d2
from oppscan.market.snapshot import FloatArray, OptionChain

ArrayLike = npt.ArrayLike

# An option trade may spend at most this share of the underlying's daily volume on premium:
# chains carry no depth, so this is the size a quote is taken to be good for.
OPTIONS_VOLUME_SHARE = 0.002
MS_PER_YEAR = 365.0 * 86_400_000.0
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
# Below this much time value a premium says nothing about volatility (it is all intrinsic).
_MIN_TIME_VALUE = 1e-12


@dataclass(frozen=True, slots=True)
class Greeks:
    """Per unit of underlying: theta per calendar day, vega per 1.00 (100 vol points) of vol."""

    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def _pdf(x: FloatArray) -> FloatArray:
    return np.asarray(_INV_SQRT_2PI * np.exp(-0.5 * x * x), dtype=np.float64)


def bs_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> Greeks:
    from scipy.special import ndtr  # imported on use: importing the catalog must not load scipy

    s, k = np.asarray(spot, dtype=np.float64), np.asarray(strike, dtype=np.float64)
    t, r = np.asarray(years, dtype=np.float64), np.asarray(rate, dtype=np.float64)
    sigma = np.asarray(vol, dtype=np.float64)
    call = np.asarray(is_call, dtype=bool)
    d1, d2 = d1_d2(s, k, t, r, sigma)
    pdf_d1 = _pdf(d1)
    sqrt_t = np.sqrt(t)
    disc_k = k * np.exp(-r * t)
    delta = np.where(call, ndtr(d1), ndtr(d1) - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = pdf_d1 / (s * sigma * sqrt_t)
        decay = -s * pdf_d1 * sigma / (2.0 * sqrt_t)
    vega = s * pdf_d1 * sqrt_t
    theta_year = np.where(call, decay - r * disc_k * ndtr(d2), decay + r * disc_k * ndtr(-d2))
    return Greeks(
        delta=np.asarray(delta, dtype=np.float64),
        gamma=np.asarray(np.nan_to_num(gamma), dtype=np.float64),
        vega=np.asarray(vega, dtype=np.float64),
        theta=np.asarray(theta_year / 365.0, dtype=np.float64),
    )


def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    *,
    low: float = 1e-4,
    high: float = 5.0,
    iterations: int = 60,
) -> FloatArray:
    """The volatility that reprices each premium: safeguarded Newton, all quotes at once.

    Newton steps converge in a handful of iterations near the money; a step that leaves the
    bracket [low, high] is replaced by bisection, which keeps deep wings from diverging.
    Premiums outside the no-arbitrage bounds give NaN.
    """
    b = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (price, spot, strike, years, rate, is_call))
    )
    p, s, k, t, r = (np.array(a, dtype=np.float64) for a in b[:5])
    call = b[5].astype(bool)
    disc_k = k * np.exp(-r * t)
    lower_bound = np.where(call, np.maximum(s - disc_k, 0.0), np.maximum(disc_k - s, 0.0))
    upper_bound = np.where(call, s, disc_k)
    valid = (p > lower_bound + _MIN_TIME_VALUE) & (p < upper_bound) & (t > 0)
    lo = np.full(p.shape, low)
    hi = np.full(p.shape, high)
    sigma = np.full(p.shape, 0.5)
    for _ in range(iterations):
        value = bs_price(s, k, t, r, sigma, call)
        diff = value - p
        hi = np.where(diff > 0, sigma, hi)
        lo = np.where(diff <= 0, sigma, lo)
        vega = s * _pdf(d1_d2(s, k, t, r, sigma)[0]) * np.sqrt(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = sigma - diff / vega
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        sigma = np.where(inside, newton, 0.5 * (lo + hi))
        if np.all(np.abs(diff[valid]) < 1e-10 * np.maximum(s[valid], 1.0)):
            break
    return np.asarray(np.where(valid, sigma, np.nan), dtype=np.float64)


def close_to_close_vol(close: FloatArray, periods_per_year: float) -> float:
    """Annualised standard deviation of log returns."""
    returns = np.diff(np.log(close))
    if returns.shape[0] < 2:
        return float("nan")
    return float(np.std(returns, ddof=1) * np.sqrt(periods_per_year))


def parkinson_vol(high: FloatArray, low: FloatArray, periods_per_year: float) -> float:
    """Range-based estimator: about five times as efficient as close-to-close on the same bars."""
    if high.shape[0] < 2:
        return float("nan")
    log_range = np.log(high / low)
    return float(np.sqrt(np.mean(log_range**2) / (4.0 * np.log(2.0)) * periods_per_year))


@dataclass(frozen=True, slots=True)
class Smile:
    """A polynomial in log-moneyness per expiry (a quadratic unless asked), fitted robustly to
    the quoted mid IVs."""

    expiries_ms: npt.NDArray[np.int64]
    coefficients: FloatArray  # shape (n_expiries, degree + 1): c0 + c1*k + c2*k^2..., k = log(K/F)

    def iv(self, chain: OptionChain, years: FloatArray, rate: float) -> FloatArray:
        """The smile's IV at each quote of the chain (NaN for an expiry it could not fit)."""
        forward = chain.underlying_price * np.exp(rate * years)
        k = np.log(chain.strikes / forward)
        row = np.searchsorted(self.expiries_ms, chain.expiries_ms)
        row = np.clip(row, 0, len(self.expiries_ms) - 1)
        c = self.coefficients[row]
        powers = k[:, None] ** np.arange(c.shape[1])[None, :]
        return np.asarray((c * powers).sum(axis=1), dtype=np.float64)


def fit_smile(
    chain: OptionChain, years: FloatArray, rate: float, rounds: int = 3, degree: int = 2
) -> Smile:
    """Fit each expiry's smile, dropping quotes far from it (robust to a few mispriced ones).

    A mispriced quote is exactly what the options strategies look for, so it must not bend the
    fit towards itself: after each fit, quotes whose residual exceeds 3 median absolute
    deviations (at least half a vol point) are left out of the next one.
    """
    expiries = np.unique(chain.expiries_ms)
    coefficients = np.full((expiries.shape[0], degree + 1), np.nan)
    forward = chain.underlying_price * np.exp(rate * years)
    log_moneyness = np.log(chain.strikes / forward)
    for i, expiry in enumerate(expiries):
        rows = (chain.expiries_ms == expiry) & np.isfinite(chain.iv)
        k, iv = log_moneyness[rows], chain.iv[rows]
        keep = np.ones(k.shape[0], dtype=bool)
        for _ in range(rounds):
            if np.unique(k[keep]).shape[0] < degree + 2:
                break  # the fit needs more distinct strikes than coefficients to find outliers
            coef = np.polyfit(k[keep], iv[keep], degree)
            residual = iv - np.polyval(coef, k)
            mad = float(np.median(np.abs(residual[keep])))
            keep = np.abs(residual) <= max(3.0 * 1.4826 * mad, 0.005)
            coefficients[i] = coef[::-1]
    return Smile(expiries_ms=expiries.astype(np.int64), coefficients=coefficients)


def years_to_expiry(expiries_ms: npt.NDArray[np.int64], as_of_ms: int) -> FloatArray:
    return np.asarray((expiries_ms - as_of_ms) / MS_PER_YEAR, dtype=np.float64)


def option_fee(underlying_price: ArrayLike, premium: ArrayLike) -> FloatArray:
    """Per contract and per trade: 3 bps of the underlying, capped at 12.5% of the premium.

    This is the schedule the large crypto option venues (Deribit, OKX, Bybit) publish; the
    snapshot's ``Fees`` are spot/perp rates, which would misstate option costs.
    """
    s = np.asarray(underlying_price, dtype=np.float64)
    p = np.asarray(premium, dtype=np.float64)
    return np.asarray(np.minimum(0.0003 * s, 0.125 * p), dtype=np.float64)


def option_symbol(base: str, expiry_ms: int, strike: float, is_call: bool) -> str:
    """Exchange-style option name, e.g. ``BTC-261225-90000-C``."""
    day = datetime.fromtimestamp(expiry_ms / 1000, tz=UTC).strftime("%y%m%d")
    strike_text = f"{strike:.0f}" if strike >= 10 else f"{strike:g}"
    return f"{base}-{day}-{strike_text}-{'C' if is_call else 'P'}"


@dataclass(frozen=True, slots=True)
class ChainModel:
    """A chain next to its own fitted smile: what each quote is worth, and the edge of hitting it.

    ``sell_edge`` is what selling at the bid gains over the smile's value after the fee, the
    smile raised by its uncertainty; ``buy_edge`` what buying at the ask gains, the smile lowered
    by it. On a fair chain both are negative everywhere (half the spread plus the fee); a quote
    the smile says is rich or cheap beyond its uncertainty turns one positive.
    """

    chain: OptionChain
    years: FloatArray
    smile_iv: FloatArray
    model: FloatArray
    fee: FloatArray
    sell_edge: FloatArray
    buy_edge: FloatArray

    @property
    def expiries(self) -> npt.NDArray[np.int64]:
        return np.unique(self.chain.expiries_ms)


MIN_YEARS_TO_EXPIRY = 1.0 / 365.0


def model_chain(chain: OptionChain, as_of_ms: int, rate: float) -> ChainModel | None:
    years = years_to_expiry(chain.expiries_ms, as_of_ms)
    # Within a day of settling, premiums are a tick or intrinsic value and a smile fitted to them
    # means little: those quotes are left alone (fair wings there looked mispriced by 100%).
    live = years >= MIN_YEARS_TO_EXPIRY
    if live.sum() < 3:
        return None
    if not live.all():
        chain = replace(
            chain,
            strikes=chain.strikes[live],
            expiries_ms=chain.expiries_ms[live],
            is_call=chain.is_call[live],
            bids=chain.bids[live],
            asks=chain.asks[live],
            iv=chain.iv[live],
        )
        years = years[live]
    if not np.isfinite(chain.iv).all():
        # Live venues do not always publish IVs: solve the missing ones from the mid.
        solved = implied_vol(
            (chain.bids + chain.asks) / 2.0,
            chain.underlying_price,
            chain.strikes,
            years,
            rate,
            chain.is_call,
        )
        chain = replace(chain, iv=np.where(np.isfinite(chain.iv), chain.iv, solved))
    smile_iv = fit_smile(chain, years, rate).iv(chain, years, rate)
    model = bs_price(chain.underlying_price, chain.strikes, years, rate, smile_iv, chain.is_call)
    # No polynomial is the market's smile: where a cubic fitted the same way disagrees with the
    # quadratic (a short expiry's wings), the smile is uncertain by about twice that, and a quote
    # is rich or cheap only beyond it.
    cubic_iv = fit_smile(chain, years, rate, degree=3).iv(chain, years, rate)
    u = 2.0 * np.nan_to_num(np.abs(cubic_iv - smile_iv), nan=0.0)
    rich = bs_price(chain.underlying_price, chain.strikes, years, rate, smile_iv + u, chain.is_call)
    cheap_iv = np.maximum(smile_iv - u, 0.01)
    cheap = bs_price(chain.underlying_price, chain.strikes, years, rate, cheap_iv, chain.is_call)
    fee = option_fee(chain.underlying_price, (chain.bids + chain.asks) / 2.0)
    with np.errstate(invalid="ignore"):
        sell_edge = np.where(chain.bids > 0, chain.bids - rich - fee, -np.inf)
        buy_edge = cheap - chain.asks - fee
    return ChainModel(
        chain=chain,
        years=years,
        smile_iv=smile_iv,
        model=model,
        fee=fee,
        sell_edge=np.nan_to_num(sell_edge, nan=-np.inf, neginf=-np.inf),
        buy_edge=np.nan_to_num(buy_edge, nan=-np.inf, neginf=-np.inf),
    )


def short_option_margin(
    underlying_price: ArrayLike, strike: ArrayLike, is_call: ArrayLike, mark: ArrayLike
) -> FloatArray:
    """Initial margin of one short option: the larger of 15% of the underlying less the amount
    out of the money and 10% of the underlying, plus the option's mark (the venues' rule)."""
    s = np.asarray(underlying_price, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    out_of_money = np.where(
        np.asarray(is_call, dtype=bool), np.maximum(k - s, 0.0), np.maximum(s - k, 0.0)
    )
    base = np.maximum(0.15 * s - out_of_money, 0.10 * s)
    return np.asarray(base + np.asarray(mark, dtype=np.float64), dtype=np.float64)
