import numpy as np
import pytest

from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import OptionChain
from oppscan.strategies.options_math import (
    bs_greeks,
    close_to_close_vol,
    fit_smile,
    implied_vol,
    model_chain,
    option_symbol,
    parkinson_vol,
)

S, R = 100.0, 0.04
STRIKES = np.array([60.0, 80.0, 95.0, 100.0, 105.0, 120.0, 150.0])
YEARS = np.array([7 / 365, 30 / 365, 0.25, 0.5, 1.0, 0.1, 2.0])
VOLS = np.array([0.3, 0.5, 0.8, 0.6, 0.45, 1.2, 0.25])


def test_put_call_parity_holds_across_strikes_and_maturities() -> None:
    call = bs_price(S, STRIKES, YEARS, R, VOLS, True)
    put = bs_price(S, STRIKES, YEARS, R, VOLS, False)
    np.testing.assert_allclose(call - put, S - STRIKES * np.exp(-R * YEARS), atol=1e-9)


def test_known_value() -> None:
    # Hull's textbook example: S=42, K=40, r=10%, sigma=20%, T=0.5 -> call 4.76, put 0.81.
    assert bs_price(42.0, 40.0, 0.5, 0.1, 0.2, True) == pytest.approx(4.7594, abs=1e-4)
    assert bs_price(42.0, 40.0, 0.5, 0.1, 0.2, False) == pytest.approx(0.8086, abs=1e-4)


@pytest.mark.parametrize("is_call", [True, False])
def test_greeks_match_finite_differences(is_call: bool) -> None:
    g = bs_greeks(S, STRIKES, YEARS, R, VOLS, is_call)
    h = 1e-3

    def price(s: float = S, t: np.ndarray = YEARS, v: np.ndarray = VOLS) -> np.ndarray:
        return bs_price(s, STRIKES, t, R, v, is_call)

    delta = (price(s=S + h) - price(s=S - h)) / (2 * h)
    gamma = (price(s=S + h) - 2 * price() + price(s=S - h)) / (h * h)
    vega = (price(v=VOLS + 1e-5) - price(v=VOLS - 1e-5)) / 2e-5
    theta = -(price(t=YEARS + 1e-6) - price(t=YEARS - 1e-6)) / 2e-6 / 365.0
    np.testing.assert_allclose(g.delta, delta, atol=1e-6)
    np.testing.assert_allclose(g.gamma, gamma, atol=1e-4)
    np.testing.assert_allclose(g.vega, vega, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.theta, theta, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("is_call", [True, False])
def test_implied_vol_round_trip(is_call: bool) -> None:
    prices = bs_price(S, STRIKES, YEARS, R, VOLS, is_call)
    solved = implied_vol(prices, S, STRIKES, YEARS, R, is_call)
    # Deep in/out of the money at short maturity has almost no vega; everything else is exact.
    vega = bs_greeks(S, STRIKES, YEARS, R, VOLS, is_call).vega
    informative = vega > 1e-3
    assert informative.sum() >= 5
    np.testing.assert_allclose(solved[informative], VOLS[informative], atol=1e-6)


def test_implied_vol_rejects_premiums_outside_arbitrage_bounds() -> None:
    below_intrinsic = implied_vol(15.0, 120.0, 100.0, 0.5, 0.0, True)
    above_spot = implied_vol(130.0, 120.0, 100.0, 0.5, 0.0, True)
    assert np.isnan(below_intrinsic) and np.isnan(above_spot)


def test_realised_vol_estimators_recover_a_known_vol() -> None:
    rng = np.random.default_rng(7)
    daily_vol = 0.6 / np.sqrt(365)
    # Simulate 1-minute paths inside each day so high/low are those of a real path.
    steps = rng.normal(0.0, daily_vol / np.sqrt(1440), size=(2000, 1440))
    day_open = np.concatenate([[0.0], np.cumsum(steps.sum(axis=1))[:-1]])
    paths = 100.0 * np.exp(day_open[:, None] + np.cumsum(steps, axis=1))
    close = paths[:, -1]
    high, low = paths.max(axis=1), paths.min(axis=1)
    assert close_to_close_vol(close, 365) == pytest.approx(0.6, rel=0.05)
    # Sampled extremes understate the true range a little, so Parkinson reads slightly low.
    assert parkinson_vol(high, low, 365) == pytest.approx(0.6, rel=0.06)


def test_smile_fit_ignores_a_mispriced_quote() -> None:
    strikes = np.linspace(70, 130, 13)
    expiry = np.full(13, 30 * 86_400_000, dtype=np.int64)
    years = np.full(13, 30 / 365)
    k = np.log(strikes / (S * np.exp(R * years)))
    iv = 0.5 - 0.1 * k + 0.8 * k * k
    iv_quoted = iv.copy()
    iv_quoted[4] += 0.2
    chain = OptionChain(
        underlying_price=S,
        strikes=strikes,
        expiries_ms=expiry,
        is_call=np.ones(13, dtype=bool),
        bids=np.zeros(13),
        asks=np.zeros(13),
        iv=iv_quoted,
    )
    fitted = fit_smile(chain, years, R).iv(chain, years, R)
    np.testing.assert_allclose(fitted, iv, atol=1e-6)


def test_option_symbol() -> None:
    expiry = 1798156800000  # 2026-12-25 00:00 UTC
    assert option_symbol("BTC", expiry, 90000.0, True) == "BTC-261225-90000-C"


def _ssvi_chain(days: float, shifted: int | None = None) -> tuple[OptionChain, int]:
    """A fair chain on an SSVI smile (straight wings, not a parabola), strikes spread for a
    month's move around spot: the shape of a weekly chain days from settling."""
    as_of = 0
    years = days / 365.0
    strikes = S * (1.0 + np.arange(-4, 5) * 0.045)
    theta, rho, eta = 0.45**2 * years, -0.3, 0.6
    phi = eta / np.sqrt(theta)
    k = np.log(strikes / S)
    total = theta / 2 * (1 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1 - rho**2))
    iv = np.repeat(np.sqrt(total / years), 2)
    is_call = np.tile([True, False], 9)
    if shifted is not None:
        iv[shifted] += 0.08
    expiry = int(days * 86_400_000)
    t = np.full(18, years)
    mid = bs_price(S, np.repeat(strikes, 2), t, R, iv, is_call)
    half = 0.015 * mid + 5e-5 * S
    chain = OptionChain(
        underlying_price=S,
        strikes=np.repeat(strikes, 2),
        expiries_ms=np.full(18, expiry, dtype=np.int64),
        is_call=is_call,
        bids=np.maximum(0.0, mid - half),
        asks=mid + half,
        iv=iv,
    )
    return chain, as_of


@pytest.mark.parametrize("days", [2.0, 3.0, 5.0, 30.0])
def test_a_fair_smile_that_is_not_a_parabola_is_not_mispriced(days: float) -> None:
    # A quadratic misses SSVI wings by vol points this close to expiry, more than the spread:
    # a quadratic fit alone called 1 to 4 of these quotes mispriced. The fit's uncertainty
    # (quadratic against cubic) must cover that. (A day from expiry, quotes 9 moves out of the
    # money still escape it.)
    chain, as_of = _ssvi_chain(days)
    cm = model_chain(chain, as_of, R)
    assert cm is not None
    assert np.all(cm.sell_edge <= 0) and np.all(cm.buy_edge <= 0)


def test_a_quote_off_a_fair_smile_is_still_found() -> None:
    chain, as_of = _ssvi_chain(7.0, shifted=2 * 6)  # the call one strike above the money
    cm = model_chain(chain, as_of, R)
    assert cm is not None
    assert cm.sell_edge[12] > 0
    assert np.all(np.delete(cm.sell_edge, 12) <= 0) and np.all(cm.buy_edge <= 0)


def test_a_chain_within_a_day_of_settling_is_left_alone() -> None:
    # Hours before settlement the wings are ticks: a smile fitted to them called fair quotes
    # 100% cheap (every one of them expired worthless in the forward test).
    chain, as_of = _ssvi_chain(0.2)
    assert model_chain(chain, as_of, R) is None
    chain, as_of = _ssvi_chain(2.0)
    assert model_chain(chain, as_of, R) is not None
