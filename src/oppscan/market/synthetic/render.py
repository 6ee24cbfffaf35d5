"""Draft -> ``MarketSnapshot``: bars from the latent paths, books, funding, futures, options.

Render noise (book sizes) comes from its own generator derived from the seed and the minute, so
whatever the planters drew, the same draft always renders the same arrays.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import (
    TIMEFRAMES,
    Bars,
    DatedFuture,
    FloatArray,
    Funding,
    MarketSnapshot,
    OptionChain,
    OrderBook,
    Ticker,
)
from oppscan.market.synthetic.draft import MarketDraft
from oppscan.market.synthetic.expiries import tenor_days

BOOK_LEVELS = 25
_YEAR_MS = 365.0 * 86_400_000
_MIN_IV = 0.05


def render_snapshot(draft: MarketDraft, source: str, *, bars: bool = True) -> MarketSnapshot:
    """The snapshot of ``draft``; without its bars when ``bars`` is False (a state to trade
    on, not to scan: the forward tests' later marks)."""
    rng = np.random.default_rng([draft.seed, 2, draft.as_of_ms // 60_000])
    symbols = [s for s in draft.symbols if s in draft.last_price]
    return MarketSnapshot(
        source=source,
        as_of_ms=draft.as_of_ms,
        exchanges=tuple(draft.exchanges),
        symbols=tuple(symbols),
        ohlcv=_render_bars(draft, symbols) if bars else {},
        tickers=_render_tickers(draft, symbols),
        books=_render_books(draft, symbols, rng),
        funding=_render_funding(draft, symbols),
        futures=_render_futures(draft),
        options=_render_options(draft),
        fees=dict(draft.fees),
        risk_free_rate=draft.risk_free_rate,
    )


def exchange_mid(draft: MarketDraft, exchange: str, symbol: str) -> float:
    """The price an exchange quotes for the latent price now."""
    offset = draft.exchange_offset_bps.get((exchange, symbol), 0.0)
    return draft.last_price[symbol] * (1.0 + offset / 1e4)


def _render_bars(draft: MarketDraft, symbols: list[str]) -> dict[tuple[str, str, str], Bars]:
    out: dict[tuple[str, str, str], Bars] = {}
    for tf in TIMEFRAMES:
        prices = np.exp(np.stack([draft.log_close[(s, tf)] for s in symbols]))  # (S, n + 1)
        open_, close = prices[:, :-1], prices[:, 1:]
        n = close.shape[1]
        range_scale = np.stack([draft.intrabar_range.get((s, tf), np.ones(n)) for s in symbols])
        up = np.stack([draft.wick_up[(s, tf)] for s in symbols]) ** range_scale
        down = np.stack([draft.wick_down[(s, tf)] for s in symbols]) ** range_scale
        high = np.maximum(open_, close) * up
        low = np.minimum(open_, close) / down
        volume = np.stack([draft.volume[(s, tf)] for s in symbols])
        ts = draft.bar_open_ms[tf]
        for exchange in draft.exchanges:
            # Every exchange prints the latent bars, offset by its own premium.
            share = draft.exchange_volume_share.get(exchange, 1.0 / len(draft.exchanges))
            for j, symbol in enumerate(symbols):
                factor = 1.0 + draft.exchange_offset_bps.get((exchange, symbol), 0.0) / 1e4
                out[(exchange, symbol, tf)] = Bars(
                    ts=ts.copy(),
                    open=open_[j] * factor,
                    high=high[j] * factor,
                    low=low[j] * factor,
                    close=close[j] * factor,
                    volume=volume[j] * share,
                )
    return out


def _render_tickers(draft: MarketDraft, symbols: list[str]) -> dict[tuple[str, str], Ticker]:
    out: dict[tuple[str, str], Ticker] = {}
    for symbol in symbols:
        hourly_volume = draft.volume[(symbol, "1h")][-24:]
        closes = np.exp(draft.log_close[(symbol, "1h")][-24:])  # the last 24 hourly closes
        base_quote_volume = float((hourly_volume * closes).sum())
        for exchange in draft.exchanges:
            mid = exchange_mid(draft, exchange, symbol)
            half = draft.spread_bps[(exchange, symbol)] / 2e4
            share = draft.exchange_volume_share.get(exchange, 1.0 / len(draft.exchanges))
            out[(exchange, symbol)] = Ticker(
                bid=mid * (1 - half),
                ask=mid * (1 + half),
                last=mid,
                quote_volume_24h=base_quote_volume * share,
            )
    return out


def _render_books(
    draft: MarketDraft, symbols: list[str], rng: np.random.Generator
) -> dict[tuple[str, str], OrderBook]:
    out: dict[tuple[str, str], OrderBook] = {}
    level = np.arange(BOOK_LEVELS, dtype=np.float64)
    growth = 1.0 + draft.depth_growth * level
    for symbol in symbols:
        for exchange in draft.exchanges:
            key = (exchange, symbol)
            mid = exchange_mid(draft, exchange, symbol)
            half = draft.spread_bps[key] / 2e4
            step = draft.level_step_bps[key] / 1e4
            imbalance = draft.book_imbalance.get(key, 0.0)
            notional = draft.depth_usd[key] * growth
            bid_px = mid * (1 - half) * (1 - step * level)
            ask_px = mid * (1 + half) * (1 + step * level)
            noise = np.exp(rng.normal(0.0, 0.2, size=(2, BOOK_LEVELS)))
            bid_qty = notional * max(0.05, 1 + imbalance) * noise[0] / bid_px
            ask_qty = notional * max(0.05, 1 - imbalance) * noise[1] / ask_px
            out[key] = OrderBook(
                bids=np.column_stack([bid_px, bid_qty]), asks=np.column_stack([ask_px, ask_qty])
            )
    return out


def _render_funding(draft: MarketDraft, symbols: list[str]) -> dict[tuple[str, str], Funding]:
    out: dict[tuple[str, str], Funding] = {}
    for symbol in symbols:
        for exchange in draft.exchanges:
            key = (exchange, symbol)
            if key not in draft.funding_rate:
                continue
            hours = draft.funding_interval_h[key]
            period = int(hours * 3_600_000)
            mid = exchange_mid(draft, exchange, symbol)
            out[key] = Funding(
                rate=draft.funding_rate[key],
                interval_hours=hours,
                next_funding_ms=(draft.as_of_ms // period + 1) * period,
                mark_price=mid * (1 + draft.perp_premium_bps.get(key, 0.0) / 1e4),
                index_price=draft.last_price[symbol],
            )
    return out


def _render_futures(draft: MarketDraft) -> dict[tuple[str, str], tuple[DatedFuture, ...]]:
    out: dict[tuple[str, str], tuple[DatedFuture, ...]] = {}
    for (exchange, symbol), bases in draft.basis_annual.items():
        if symbol not in draft.last_price:
            continue
        mid = exchange_mid(draft, exchange, symbol)
        half = 1.5 * draft.spread_bps[(exchange, symbol)] / 2e4
        contracts = []
        for expiry, basis in zip(draft.future_expiries_ms, bases, strict=True):
            years = (expiry - draft.as_of_ms) / _YEAR_MS
            fair = mid * (1 + basis * years)
            stamp = datetime.fromtimestamp(expiry / 1000, tz=UTC).strftime("%y%m%d")
            contracts.append(
                DatedFuture(
                    instrument=f"{symbol}:USDT-{stamp}",
                    expiry_ms=expiry,
                    bid=fair * (1 - half),
                    ask=fair * (1 + half),
                )
            )
        out[(exchange, symbol)] = tuple(contracts)
    return out


def smile_iv(
    draft: MarketDraft, symbol: str, strikes: FloatArray, spot: float, years: float
) -> FloatArray:
    """The fair IV of each strike, from an SSVI surface (Gatheral and Jacquier): total variance
    ``w(k) = theta/2 * (1 + rho*phi*k + sqrt((phi*k + rho)^2 + 1 - rho^2))`` with
    ``k = ln(K/S)``, ``theta = iv_atm^2 * T`` (so the money strike is at ``iv_atm``) and
    ``phi = eta / sqrt(theta)``; ``rho`` < 0 is the skew, ``eta`` the wings' steepness. Its
    wings are straight lines in ``k``, not the parabola the options scanner fits."""
    params = draft.smile.get(symbol, {})
    rho, eta = params.get("rho", 0.0), params.get("eta", 0.0)
    theta = draft.iv_atm[symbol] ** 2 * years
    phi = eta / np.sqrt(theta)
    k = np.log(strikes / spot)
    total = theta / 2.0 * (1.0 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1.0 - rho**2))
    iv: FloatArray = np.maximum(_MIN_IV, np.sqrt(total / years))
    return iv


_GRID_TENOR_DAYS = 30  # four grid steps are one 30-day move at most: every strike stays > 0


def strike_grid(draft: MarketDraft, symbol: str, slot: int, spot: float) -> FloatArray:
    """The strikes shown: nine points of the expiry's strike lattice around spot, two grid
    steps per ``option_moneyness`` unit.

    The lattice is set when the expiry is listed (``option_strike_anchor``: the price then):
    a step is a quarter of the move of its tenor (capped at 30 days) at the symbol's long-run
    volatility, rounded to a round increment. The window centres on the lattice point nearest
    spot and slides by whole steps, so a strike keeps its name for the expiry's life and stays
    quoted while spot is within four steps of it (strikes stay positive: a window that would
    reach zero starts at one step instead)."""
    anchor = draft.option_strike_anchor[(symbol, slot)]
    tenor = min(tenor_days(draft.option_expiries_ms[slot]), _GRID_TENOR_DAYS)
    width = 0.25 * anchor * draft.annual_vol[symbol] * np.sqrt(tenor / 365.0)
    increment = 10.0 ** np.floor(np.log10(width))
    step = max(1.0, round(width / increment)) * increment
    centre = round(spot / step) * step
    strikes: FloatArray = centre + 2.0 * np.array(draft.option_moneyness) * step
    # Far below the listing price, the window starts at the lowest positive lattice point.
    shifted: FloatArray = strikes + max(0.0, float(np.ceil((step - strikes[0]) / step))) * step
    return shifted


def _render_options(draft: MarketDraft) -> dict[tuple[str, str], OptionChain]:
    out: dict[tuple[str, str], OptionChain] = {}
    for symbol in draft.option_symbols:
        if symbol not in draft.iv_atm or symbol not in draft.last_price:
            continue
        for exchange in draft.option_exchanges:
            spot = exchange_mid(draft, exchange, symbol)
            shifts = {
                (q.expiry_index, q.strike_index, q.is_call): q.iv_shift
                for q in draft.option_quote_shifts.get((exchange, symbol), [])
            }
            strikes_col, expiry_col, call_col, iv_col, years_col = [], [], [], [], []
            for e_index, expiry in enumerate(draft.option_expiries_ms):
                years = (expiry - draft.as_of_ms) / _YEAR_MS
                strikes = strike_grid(draft, symbol, e_index, draft.last_price[symbol])
                ivs = smile_iv(draft, symbol, strikes, spot, years)
                for k_index, (strike, iv) in enumerate(zip(strikes, ivs, strict=True)):
                    for is_call in (True, False):
                        shift = shifts.get((e_index, k_index, is_call), 0.0)
                        strikes_col.append(float(strike))
                        expiry_col.append(expiry)
                        call_col.append(is_call)
                        iv_col.append(max(_MIN_IV, float(iv) + shift))
                        years_col.append(years)
            strike_arr = np.array(strikes_col)
            call_arr = np.array(call_col, dtype=np.bool_)
            iv_arr = np.array(iv_col)
            mid = bs_price(
                spot, strike_arr, np.array(years_col), draft.risk_free_rate, iv_arr, call_arr
            )
            tick = 5e-5 * spot
            half = draft.option_half_spread
            out[(exchange, symbol)] = OptionChain(
                underlying_price=spot,
                strikes=strike_arr,
                expiries_ms=np.array(expiry_col, dtype=np.int64),
                is_call=call_arr,
                bids=np.maximum(0.0, mid * (1 - half) - tick),
                asks=mid * (1 + half) + tick,
                iv=iv_arr,
            )
    return out
