"""Technical and statistical indicators, vectorised over numpy arrays.

The recursive averages (EMA, Wilder's RSI and ATR) follow TA-Lib's seeding, so their values
agree with TA-Lib once the warm-up has passed (the tests check this to 1e-6). Outputs have the
input's length with ``nan`` over the warm-up, so indices line up with the bars they describe.
The recursions run in ``scipy.signal.lfilter`` (C), never in a Python loop over bars; scipy is
imported where it is used, so importing the strategies (to list the catalog) does not load it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from oppscan.market.snapshot import FloatArray

NAN = float("nan")


def _exp_smooth(values: FloatArray, alpha: float, seed: float) -> FloatArray:
    """y[i] = alpha * x[i] + (1 - alpha) * y[i-1], starting from ``seed`` before x[0]."""
    from scipy.signal import lfilter

    decay = 1.0 - alpha
    out: FloatArray = lfilter([alpha], [1.0, -decay], values, zi=[decay * seed])[0]
    return out


def ema(values: FloatArray, period: int) -> FloatArray:
    """Exponential moving average, seeded with the simple mean of the first ``period`` values."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape[0], NAN)
    if x.shape[0] < period:
        return out
    seed = float(x[:period].mean())
    out[period - 1] = seed
    out[period:] = _exp_smooth(x[period:], 2.0 / (period + 1), seed)
    return out


def _wilder(values: FloatArray, period: int) -> FloatArray:
    """Wilder's smoothing (alpha = 1/period) seeded with the mean of the first ``period`` values."""
    out = np.full(values.shape[0], NAN)
    if values.shape[0] < period:
        return out
    seed = float(values[:period].mean())
    out[period - 1] = seed
    out[period:] = _exp_smooth(values[period:], 1.0 / period, seed)
    return out


def rsi(close: FloatArray, period: int = 14) -> FloatArray:
    """Wilder's relative strength index, 0..100."""
    x = np.asarray(close, dtype=np.float64)
    out = np.full(x.shape[0], NAN)
    if x.shape[0] <= period:
        return out
    change = np.diff(x)
    gain = _wilder(np.clip(change, 0.0, None), period)
    loss = _wilder(np.clip(-change, 0.0, None), period)
    total = gain + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        out[1:] = np.where(total > 0, 100.0 * gain / total, 50.0)
    out[:period] = NAN
    return out


@dataclass(frozen=True, slots=True)
class Macd:
    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


def macd(close: FloatArray, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    line = ema(close, fast) - ema(close, slow)
    sig = np.full(line.shape[0], NAN)
    start = slow - 1
    sig[start:] = ema(line[start:], signal)
    return Macd(line, sig, line - sig)


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape[0], NAN)
    if x.shape[0] >= window:
        out[window - 1 :] = sliding_window_view(x, window).mean(axis=1)
    return out


def rolling_std(values: FloatArray, window: int) -> FloatArray:
    """Population standard deviation (ddof=0), as TA-Lib's STDDEV and Bollinger bands use."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape[0], NAN)
    if x.shape[0] >= window:
        out[window - 1 :] = sliding_window_view(x, window).std(axis=1)
    return out


@dataclass(frozen=True, slots=True)
class Bollinger:
    upper: FloatArray
    middle: FloatArray
    lower: FloatArray

    def percent_b(self, close: FloatArray) -> FloatArray:
        """Where the close sits in the band: 0 at the lower band, 1 at the upper."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = (close - self.lower) / (self.upper - self.lower)
        return out


def bollinger(close: FloatArray, window: int = 20, width: float = 2.0) -> Bollinger:
    mid = rolling_mean(close, window)
    dev = rolling_std(close, window)
    return Bollinger(mid + width * dev, mid, mid - width * dev)


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """TR[i] from bar i and the previous close; TR[0] is undefined (nan), as in TA-Lib."""
    prev = close[:-1]
    tr = np.full(close.shape[0], NAN)
    tr[1:] = np.maximum.reduce(
        [high[1:] - low[1:], np.abs(high[1:] - prev), np.abs(low[1:] - prev)]
    )
    return tr


def atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Average true range with Wilder's smoothing (first value at index ``period``)."""
    tr = true_range(high, low, close)
    out = np.full(close.shape[0], NAN)
    out[1:] = _wilder(tr[1:], period)
    return out


@dataclass(frozen=True, slots=True)
class Donchian:
    upper: FloatArray
    lower: FloatArray


def donchian(high: FloatArray, low: FloatArray, window: int = 20) -> Donchian:
    """Highest high and lowest low of the last ``window`` bars, the current bar included."""
    up = np.full(high.shape[0], NAN)
    dn = np.full(low.shape[0], NAN)
    if high.shape[0] >= window:
        up[window - 1 :] = sliding_window_view(high, window).max(axis=1)
        dn[window - 1 :] = sliding_window_view(low, window).min(axis=1)
    return Donchian(up, dn)


# -- statistics of mean reversion ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ar1Fit:
    """Δy_t = a + b·y_{t-1} + e, fitted per column: b < 0 means the series reverts."""

    slope: FloatArray  # b
    t_stat: FloatArray  # Dickey-Fuller t of b (no lags): below about -2.9 rejects a unit root
    half_life: FloatArray  # bars for a deviation to halve; inf when b >= 0
    resid_std: FloatArray


def ar1_fit(series: FloatArray) -> Ar1Fit:
    """Fit every column of ``series`` (T, N) at once (a 1-D input is one column)."""
    y = np.asarray(series, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    lag = y[:-1]
    dy = np.diff(y, axis=0)
    n = lag.shape[0]
    lag_c = lag - lag.mean(axis=0)
    dy_c = dy - dy.mean(axis=0)
    sxx = (lag_c * lag_c).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (lag_c * dy_c).sum(axis=0) / sxx
        resid = dy_c - lag_c * slope
        resid_var = (resid * resid).sum(axis=0) / max(n - 2, 1)
        t_stat = slope / np.sqrt(resid_var / sxx)
        reverting = (slope < 0) & (slope > -1)
        half_life = np.where(
            reverting, -np.log(2.0) / np.log1p(np.where(reverting, slope, -0.5)), np.inf
        )
    return Ar1Fit(slope, t_stat, half_life, np.sqrt(resid_var))


def reversion_fraction(horizon_bars: float, half_life: float) -> float:
    """Share of a deviation an AR(1) process is expected to give back within the horizon."""
    if not np.isfinite(half_life) or half_life <= 0:
        return 0.0
    return float(1.0 - 0.5 ** (horizon_bars / half_life))


def logistic(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


# -- order-book microstructure --------------------------------------------------------------


def book_imbalance(bids: FloatArray, asks: FloatArray, levels: int = 5) -> float:
    """(bid - ask) / (bid + ask) notional over the top ``levels``: > 0 means more buyers resting."""
    bid = float((bids[:levels, 0] * bids[:levels, 1]).sum())
    ask = float((asks[:levels, 0] * asks[:levels, 1]).sum())
    total = bid + ask
    return 0.0 if total <= 0 else (bid - ask) / total


def microprice(bids: FloatArray, asks: FloatArray) -> float:
    """The top-of-book mid weighted towards the thinner side (where the price is about to move)."""
    bp, bq = float(bids[0, 0]), float(bids[0, 1])
    ap, aq = float(asks[0, 0]), float(asks[0, 1])
    return (bp * aq + ap * bq) / (aq + bq)
