"""Black-Scholes prices for rendering synthetic option quotes (vectorised).

The market layer keeps its own copy rather than importing the strategies' options maths: the
dependency runs strategies -> market, never back.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from oppscan.market.snapshot import FloatArray


def black_scholes_price(
    spot: FloatArray | float,
    strike: FloatArray,
    years: FloatArray,
    rate: float,
    vol: FloatArray,
    is_call: npt.NDArray[np.bool_],
) -> FloatArray:
    """European option premium per unit of underlying, no dividends."""
    sqrt_t = np.sqrt(years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    discounted = strike * np.exp(-rate * years)
    call = spot * ndtr(d1) - discounted * ndtr(d2)
    put = discounted * ndtr(-d2) - spot * ndtr(-d1)
    price: FloatArray = np.where(is_call, call, put)
    return price
