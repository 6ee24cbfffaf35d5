"""The synthetic market: deterministic, well-formed, and fair when nothing is planted."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from oppscan.market.snapshot import TIMEFRAMES, MarketSnapshot
from oppscan.market.synthetic import DEFAULT_AS_OF_MS, SyntheticSource, build_draft
from oppscan.market.synthetic.render import render_snapshot

BARS_PER_YEAR = {"1m": 525_600.0, "1h": 8_760.0, "4h": 2_190.0, "1d": 365.0}
MIN_BARS = {"1m": 500, "1h": 500, "4h": 300, "1d": 365}


@pytest.fixture(scope="module")
def control() -> MarketSnapshot:
    return SyntheticSource(11, plant=False).build()


@pytest.fixture(scope="module", params=[False, True], ids=["control", "planted"])
def market(request: pytest.FixtureRequest) -> MarketSnapshot:
    """Both markets: whatever the planters do, the data must stay well-formed."""
    return SyntheticSource(11, plant=request.param).build()


def _same(a: MarketSnapshot, b: MarketSnapshot) -> bool:
    if a.symbols != b.symbols or a.tickers != b.tickers or a.funding != b.funding:
        return False
    if a.futures != b.futures or a.fees != b.fees:
        return False
    for key, bars in a.ohlcv.items():
        other = b.ohlcv[key]
        if not all(
            np.array_equal(getattr(bars, c), getattr(other, c))
            for c in ("ts", "open", "high", "low", "close", "volume")
        ):
            return False
    books = all(
        np.array_equal(book.bids, b.books[k].bids) and np.array_equal(book.asks, b.books[k].asks)
        for k, book in a.books.items()
    )
    options = all(
        np.array_equal(chain.bids, b.options[k].bids) and np.array_equal(chain.iv, b.options[k].iv)
        for k, chain in a.options.items()
    )
    return books and options


def test_same_seed_and_bucket_render_identical_arrays() -> None:
    first = SyntheticSource(3).build(DEFAULT_AS_OF_MS)
    second = SyntheticSource(3).build(DEFAULT_AS_OF_MS + 30_000)  # same minute
    assert _same(first, second)


def test_other_seed_or_minute_is_another_market() -> None:
    base = SyntheticSource(3).build(DEFAULT_AS_OF_MS)
    assert not _same(base, SyntheticSource(4).build(DEFAULT_AS_OF_MS))
    assert not _same(base, SyntheticSource(3).build(DEFAULT_AS_OF_MS + 60_000))


async def test_fetch_equals_build_and_sleeps_the_latency() -> None:
    import time

    source = SyntheticSource(5, latency_ms=200)
    started = time.perf_counter()
    fetched = await source.fetch(DEFAULT_AS_OF_MS)
    elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed < 6 * 0.2  # every kind of data waits, concurrently (not 6 x 0.2 s)
    assert _same(fetched, SyntheticSource(5).build(DEFAULT_AS_OF_MS))


def test_shapes(market: MarketSnapshot) -> None:
    assert len(market.symbols) == 40 and market.symbols[0] == "BTC/USDT"
    assert market.exchanges == ("binance", "okx", "bybit")
    for exchange in market.exchanges:
        for symbol in market.symbols:
            for tf in TIMEFRAMES:
                bars = market.bars(exchange, symbol, tf)
                assert bars is not None and len(bars) >= MIN_BARS[tf]
                assert np.all(np.diff(bars.ts) > 0)
                # Only bars that have closed: the last one closed within one bar of the moment.
                step = int(np.diff(bars.ts)[0])
                assert bars.ts[-1] + step <= market.as_of_ms < bars.ts[-1] + 2 * step
            assert (exchange, symbol) in market.tickers and (exchange, symbol) in market.books
    assert len(market.options) == 5 * 3 and len(market.futures) == 10 * 3
    assert set(market.fees) == set(market.exchanges)


def test_prices_and_volumes_look_like_the_market(control: MarketSnapshot) -> None:
    btc, eth = control.tickers[("binance", "BTC/USDT")], control.tickers[("binance", "ETH/USDT")]
    assert 80_000 < btc.last < 100_000 and 2_500 < eth.last < 3_500
    volumes = [control.tickers[("binance", s)].quote_volume_24h for s in control.symbols]
    assert volumes[0] > 1e9 and volumes[-1] < volumes[0] / 50


def test_symbol_count_is_a_parameter() -> None:
    big = SyntheticSource(1, symbols_count=120, plant=False).build()
    assert len(big.symbols) == 120 and big.symbols[-1].startswith("ALT")


def test_ohlc_is_consistent(market: MarketSnapshot) -> None:
    for bars in market.ohlcv.values():
        assert np.all(bars.low <= np.minimum(bars.open, bars.close))
        assert np.all(bars.high >= np.maximum(bars.open, bars.close))
        assert np.all(bars.low > 0) and np.all(bars.volume > 0)
        assert np.array_equal(bars.open[1:], bars.close[:-1])


def test_last_close_is_the_ticker_price(market: MarketSnapshot) -> None:
    for (exchange, symbol), ticker in market.tickers.items():
        bars = market.bars(exchange, symbol, "1m")
        assert bars is not None
        assert bars.close[-1] == pytest.approx(ticker.last, rel=1e-12)
        assert ticker.bid < ticker.last < ticker.ask


def test_books_are_sorted_and_uncrossed(market: MarketSnapshot) -> None:
    for key, book in market.books.items():
        assert book.bids.shape[0] >= 20 and book.asks.shape[0] >= 20
        assert np.all(np.diff(book.bids[:, 0]) < 0) and np.all(np.diff(book.asks[:, 0]) > 0)
        assert book.bids[0, 0] < book.asks[0, 0]
        assert np.all(book.bids[:, 1] > 0) and np.all(book.asks[:, 1] > 0)
        ticker = market.tickers[key]
        assert book.bids[0, 0] == pytest.approx(ticker.bid) and book.asks[0, 0] == pytest.approx(
            ticker.ask
        )


def test_funding_is_fair_and_intervals_vary(control: MarketSnapshot) -> None:
    intervals = {f.interval_hours for f in control.funding.values()}
    assert intervals == {1.0, 4.0, 8.0}
    for funding in control.funding.values():
        # ~0.01% per 8h whatever the interval, i.e. ~11% a year
        assert 0.05 < funding.annualised < 0.17
        assert funding.next_funding_ms > control.as_of_ms
        assert funding.next_funding_ms - control.as_of_ms <= funding.interval_hours * 3_600_000
        assert funding.next_funding_ms % int(funding.interval_hours * 3_600_000) == 0


def test_basis_is_fair_and_converges(control: MarketSnapshot) -> None:
    year_ms = 365 * 86_400_000
    for key, contracts in control.futures.items():
        spot = control.tickers[key].last
        near, far = contracts
        assert near.expiry_ms < far.expiry_ms
        premium_near, premium_far = near.mid / spot - 1, far.mid / spot - 1
        assert 0 < premium_near < premium_far  # smaller for nearer expiry: converges at expiry
        annual = premium_near / ((near.expiry_ms - control.as_of_ms) / year_ms)
        assert control.risk_free_rate < annual < control.risk_free_rate + 0.03


def test_implied_is_realised_on_the_control_market(control: MarketSnapshot) -> None:
    for (exchange, symbol), chain in control.options.items():
        bars = control.bars(exchange, symbol, "1h")
        assert bars is not None
        realised = np.std(np.diff(np.log(bars.close)), ddof=1) * np.sqrt(BARS_PER_YEAR["1h"])
        nearest = np.argmin(np.abs(chain.strikes - chain.underlying_price))
        assert chain.iv[nearest] == pytest.approx(realised, rel=0.05)


def test_option_quotes_bracket_a_sane_premium(control: MarketSnapshot) -> None:
    chain = control.options[("okx", "BTC/USDT")]
    assert len(np.unique(chain.expiries_ms)) == 3 and len(chain) >= 3 * 2 * 7
    assert np.all(chain.asks > chain.bids) and np.all(chain.bids >= 0)
    calls = chain.is_call
    intrinsic = np.where(
        calls,
        np.maximum(0, chain.underlying_price - chain.strikes),
        np.maximum(0, chain.strikes - chain.underlying_price),
    )
    assert np.all(chain.asks >= intrinsic * 0.99)


def test_take_symbols_never_hands_out_a_symbol_twice() -> None:
    draft = build_draft(9)
    first = draft.take_symbols(5, "trend", candidates=draft.symbols[:10])
    second = draft.take_symbols(5, "pairs", candidates=draft.symbols[:10])
    assert not set(first) & set(second) and set(first) | set(second) == set(draft.symbols[:10])
    with pytest.raises(ValueError, match="only 0 free"):
        draft.take_symbols(1, "more", candidates=draft.symbols[:10])
    again = build_draft(9)
    assert again.take_symbols(5, "trend", candidates=again.symbols[:10]) == first


def test_planted_edits_reach_the_snapshot_and_the_ground_truth() -> None:
    from oppscan.market.synthetic import Planted, QuoteShift

    draft = build_draft(2)
    (symbol,) = draft.take_symbols(1, "test", candidates=draft.option_symbols)
    draft.funding_rate[("bybit", symbol)] = 0.002
    draft.option_quote_shifts[("okx", symbol)] = [QuoteShift(1, 4, True, 0.2)]
    draft.plant(Planted("funding_arbitrage", symbol, "bybit", True, "high_funding"))
    snapshot = render_snapshot(draft, "test")
    assert snapshot.funding[("bybit", symbol)].rate == 0.002
    chain, fair = snapshot.options[("okx", symbol)], snapshot.options[("binance", symbol)]
    rich = 2 * (1 * len(draft.option_moneyness) + 4)  # expiry 1, strike 4, call
    assert chain.iv[rich] == pytest.approx(fair.iv[rich] + 0.2, abs=0.005)  # venues' spots differ
    assert draft.ground_truth[0].symbol == symbol


def test_control_market_has_no_ground_truth() -> None:
    assert SyntheticSource(4, plant=False).ground_truth() == []


def test_ground_truth_names_listed_symbols() -> None:
    source = SyntheticSource(4)
    snapshot = source.build()
    for planted in source.ground_truth():
        assert planted.symbol in snapshot.symbols
        assert planted.exchange is None or planted.exchange in snapshot.exchanges


def test_ground_truth_is_deterministic_and_symbols_are_not_shared() -> None:
    first, second = SyntheticSource(8).ground_truth(), SyntheticSource(8).ground_truth()
    assert first == second
    draft = SyntheticSource(8).draft()
    assert set(draft.taken) >= {p.symbol for p in draft.ground_truth}


def _closed_bars_match(early: MarketSnapshot, late: MarketSnapshot, symbols: set[str]) -> int:
    """Every bar the early snapshot shows, the late one shows identically; returns how many."""
    compared = 0
    for (exchange, symbol, tf), bars in early.ohlcv.items():
        if symbol not in symbols:
            continue
        later = late.ohlcv[(exchange, symbol, tf)]
        shared = np.intersect1d(bars.ts, later.ts)
        assert shared.size > 0 and shared[-1] == bars.ts[-1], (exchange, symbol, tf)
        a, b = np.searchsorted(bars.ts, shared), np.searchsorted(later.ts, shared)
        for column in ("open", "high", "low", "close", "volume"):
            assert np.array_equal(getattr(bars, column)[a], getattr(later, column)[b]), (
                exchange,
                symbol,
                tf,
                column,
            )
        compared += shared.size
    return compared


@pytest.mark.parametrize("seed", [11, 29])
def test_the_market_continues_three_hours_later(seed: int) -> None:
    source = SyntheticSource(seed, plant=False)
    early = source.build(DEFAULT_AS_OF_MS + 7 * 60_000)
    late = source.build(DEFAULT_AS_OF_MS + 7 * 60_000 + 3 * 3_600_000)
    assert _closed_bars_match(early, late, set(early.symbols)) > 40 * 3 * 1000
    # ... and prices move: over 3 hours by about what their volatility says, not 0 +- 2 bps.
    moves = np.array([np.log(late.tickers[k].last / early.tickers[k].last) for k in early.tickers])
    assert 0.002 < float(np.std(moves)) < 0.05
    assert float(np.mean(np.abs(moves) < 1e-4)) < 0.05


def test_closed_bars_never_change_across_a_day_of_snapshots() -> None:
    source = SyntheticSource(3, plant=False)
    moments = [DEFAULT_AS_OF_MS + k * 37 * 60_000 for k in range(0, 40, 7)]
    snapshots = [source.build(t) for t in moments]
    for early, late in itertools.pairwise(snapshots):
        _closed_bars_match(
            early, late, {"BTC/USDT", "SOL/USDT", "ALT0001/USDT"} & set(early.symbols)
        )


@pytest.mark.parametrize("seed", [5, 12])
def test_the_planted_market_continues_too(seed: int) -> None:
    """Plants reshape prices as functions of time: the planted market continues like the
    control one, stretches, trends, breakouts and all, for every symbol."""
    source = SyntheticSource(seed)
    moments = [DEFAULT_AS_OF_MS + 7 * 60_000 + k * 3 * 3_600_000 for k in range(5)]
    snapshots = [source.build(t) for t in moments]
    for early, late in itertools.pairwise(snapshots):
        assert _closed_bars_match(early, late, set(early.symbols)) > 40 * 3 * 1000


def test_listed_expiries_stay_put_as_time_passes() -> None:
    source = SyntheticSource(2, plant=False)
    today, tomorrow = source.build(DEFAULT_AS_OF_MS), source.build(DEFAULT_AS_OF_MS + 86_400_000)
    key = ("binance", "BTC/USDT")
    assert [f.instrument for f in today.futures[key]] == [
        f.instrument for f in tomorrow.futures[key]
    ]
    later = set(np.unique(tomorrow.options[key].expiries_ms))
    assert set(np.unique(today.options[key].expiries_ms)) <= later | {
        int(min(later)) - 7 * 86_400_000
    }
    for expiry in np.unique(today.options[key].expiries_ms):
        assert (int(expiry) - 8 * 3_600_000) % 86_400_000 == 0  # 08:00 UTC


def test_a_moment_before_the_market_had_a_year_of_history_is_refused() -> None:
    with pytest.raises(ValueError, match="2021-01-01"):
        SyntheticSource(1).build(1_590_000_000_000)  # May 2020


def test_a_listed_option_keeps_its_strike_lattice_until_it_expires() -> None:
    """The strikes shown slide with spot, but along one lattice per expiry: a strike, once
    listed, keeps its name and is quoted again whenever spot is near it."""
    source = SyntheticSource(3, plant=False)
    lattice: dict[int, float] = {}
    for day in range(0, 120, 3):
        chain = source.build(DEFAULT_AS_OF_MS + day * 86_400_000).options[("binance", "BTC/USDT")]
        for expiry in np.unique(chain.expiries_ms):
            strikes = chain.strikes[(chain.expiries_ms == expiry) & chain.is_call]
            step = lattice.setdefault(int(expiry), float(strikes[1] - strikes[0]))
            assert np.allclose(np.diff(strikes), step) and np.allclose(strikes % step, 0.0)
            spot = chain.underlying_price
            assert strikes.min() < spot < strikes.max()
    assert len(lattice) >= 10
