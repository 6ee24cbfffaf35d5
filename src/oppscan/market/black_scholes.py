"""Black-Scholes prices on numpy arrays (scalars broadcast), no dividends.

The one implementation: it prices the synthetic option quotes, and an option chain's ``iv`` is the
volatility that this price maps to the quote's mid, so the strategies invert and value with it too
(they import it from here: the dependency runs strategies -> market, never back). Time is in years,
rates and volatilities are annual, premiums are per unit of the underlying.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from oppscan.market.snapshot import FloatArray

ArrayLike = npt.ArrayLike  # scalars broadcast against arrays


def d1_d2(
    spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike, vol: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Black-Scholes d1 and d2 (inf or nan at zero time or zero vol: callers handle those)."""
    s, k = np.asarray(spot, dtype=np.float64), np.asarray(strike, dtype=np.float64)
    t, r = np.asarray(years, dtype=np.float64), np.asarray(rate, dtype=np.float64)
    sigma = np.asarray(vol, dtype=np.float64)
    sd = sigma * np.sqrt(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(s / k) + (r + 0.5 * sigma * sigma) * t) / sd
    return d1, d1 - sd


def bs_price(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> FloatArray:
    """European option value; at zero time or zero vol it is the discounted intrinsic value."""
    from scipy.special import ndtr  # imported on use: importing the catalog must not load scipy

    s, k = np.asarray(spot, dtype=np.float64), np.asarray(strike, dtype=np.float64)
    t, r = np.asarray(years, dtype=np.float64), np.asarray(rate, dtype=np.float64)
    call = np.asarray(is_call, dtype=bool)
    d1, d2 = d1_d2(s, k, t, r, vol)
    disc_k = k * np.exp(-r * t)
    call_value = s * ndtr(d1) - disc_k * ndtr(d2)
    put_value = disc_k * ndtr(-d2) - s * ndtr(-d1)
    value = np.where(call, call_value, put_value)
    intrinsic = np.where(call, np.maximum(s - disc_k, 0.0), np.maximum(disc_k - s, 0.0))
    degenerate = ~np.isfinite(value) | (np.asarray(vol) <= 0) | (t <= 0)
    return np.asarray(np.where(degenerate, intrinsic, value), dtype=np.float64)
