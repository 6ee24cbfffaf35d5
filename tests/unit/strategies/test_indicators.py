"""Indicators against TA-Lib, the reference implementation, to 1e-6 once warmed up."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from oppscan.strategies import indicators as ind

WARM_UP = 200  # bars after which every seed's influence has decayed below 1e-6
TOL = 1e-6


@pytest.fixture(scope="module")
def ohlc() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 600
    close = 100.0 * np.exp(np.cumsum(rng.standard_t(4, n) * 0.01))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.006, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    return {"open": open_, "high": high, "low": low, "close": close}


def close_enough(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours[WARM_UP:], ref[WARM_UP:], rtol=0, atol=TOL)


@pytest.mark.parametrize("period", [5, 20, 50])
def test_ema_matches_talib(ohlc: dict[str, np.ndarray], period: int) -> None:
    ours = ind.ema(ohlc["close"], period)
    ref = talib.EMA(ohlc["close"], timeperiod=period)
    close_enough(ours, ref)
    # The seeding is TA-Lib's too, so even the first values agree.
    np.testing.assert_allclose(ours[period - 1 :], ref[period - 1 :], atol=TOL)
    assert np.isnan(ours[: period - 1]).all()


@pytest.mark.parametrize("period", [7, 14])
def test_rsi_matches_talib_wilder(ohlc: dict[str, np.ndarray], period: int) -> None:
    ours = ind.rsi(ohlc["close"], period)
    close_enough(ours, talib.RSI(ohlc["close"], timeperiod=period))
    assert np.nanmin(ours) >= 0 and np.nanmax(ours) <= 100


def test_macd_matches_talib(ohlc: dict[str, np.ndarray]) -> None:
    ours = ind.macd(ohlc["close"], 12, 26, 9)
    line, signal, hist = talib.MACD(ohlc["close"], fastperiod=12, slowperiod=26, signalperiod=9)
    close_enough(ours.line, line)
    close_enough(ours.signal, signal)
    close_enough(ours.histogram, hist)


def test_bollinger_matches_talib(ohlc: dict[str, np.ndarray]) -> None:
    ours = ind.bollinger(ohlc["close"], 20, 2.0)
    # The stub types matype as an Enum that talib does not export; at run time MA_Type.SMA is 0.
    up, mid, low = talib.BBANDS(
        ohlc["close"],
        timeperiod=20,
        nbdevup=2,
        nbdevdn=2,
        matype=0,  # type: ignore[arg-type]
    )
    close_enough(ours.upper, up)
    close_enough(ours.middle, mid)
    close_enough(ours.lower, low)


@pytest.mark.parametrize("period", [14, 20])
def test_atr_matches_talib(ohlc: dict[str, np.ndarray], period: int) -> None:
    ours = ind.atr(ohlc["high"], ohlc["low"], ohlc["close"], period)
    close_enough(ours, talib.ATR(ohlc["high"], ohlc["low"], ohlc["close"], timeperiod=period))


def test_donchian_matches_talib_max_min(ohlc: dict[str, np.ndarray]) -> None:
    ours = ind.donchian(ohlc["high"], ohlc["low"], 20)
    close_enough(ours.upper, talib.MAX(ohlc["high"], timeperiod=20))
    close_enough(ours.lower, talib.MIN(ohlc["low"], timeperiod=20))


def test_ar1_half_life_recovers_a_known_process() -> None:
    rng = np.random.default_rng(3)
    phi = 0.9  # half-life ln 2 / -ln 0.9 ≈ 6.6 bars
    x = np.zeros(5000)
    noise = rng.normal(0, 1, 5000)
    for t in range(1, 5000):
        x[t] = phi * x[t - 1] + noise[t]
    walk = np.cumsum(noise)
    fit = ind.ar1_fit(np.column_stack([x, walk]))
    assert fit.half_life[0] == pytest.approx(np.log(2) / -np.log(phi), rel=0.15)
    assert fit.t_stat[0] < -10  # strongly rejects a unit root
    assert fit.t_stat[1] > -3.5  # the random walk does not


def test_book_imbalance_sign() -> None:
    bids = np.array([[99.0, 10.0], [98.0, 10.0]])
    asks = np.array([[101.0, 1.0], [102.0, 1.0]])
    assert ind.book_imbalance(bids, asks) > 0.7
    assert ind.book_imbalance(asks[::-1] * [0.98, 1], bids) < 0
    assert 100.0 < ind.microprice(bids, asks) < 101.0
