"""The mutable parameters of a synthetic market, before ``render`` turns them into a snapshot.

``base.build_draft`` fills a :class:`MarketDraft` with an unplanted ("fair") market; planting
functions (``plants/``) then edit it in place and record what they planted as :class:`Planted`
ground truth; ``render.render_snapshot`` finally turns it into an immutable ``MarketSnapshot``.

Every planter must draw its randomness from :meth:`MarketDraft.child_rng` (or ``draft.rng``) and
pick its symbols with :meth:`MarketDraft.take_symbols`, so the market stays a pure function of the
seed and no two planters put conflicting structures on the same symbol.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oppscan.market.snapshot import TIMEFRAME_MS, Fees, FloatArray, IntArray


@dataclass(slots=True)
class Planted:
    """Ground truth: one structure a planter put into the market.

    ``strategy_id`` is the catalog id that should find it, ``exchange`` is None when the setup
    exists on every exchange (the strategy may pick any), ``profitable`` says whether it should
    survive fees and slippage, ``kind`` names the structure ("trend", "rich_basis", ...) and
    ``detail`` holds plain JSON-able facts about it (sizes, z-scores, the partner symbol...).
    """

    strategy_id: str
    symbol: str
    exchange: str | None
    profitable: bool
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


class ReturnsView:
    """``log_close`` seen as per-bar log returns; setting returns keeps the last close."""

    __slots__ = ("_log_close",)

    def __init__(self, log_close: dict[tuple[str, str], FloatArray]) -> None:
        self._log_close = log_close

    def __contains__(self, key: object) -> bool:
        return key in self._log_close

    def __getitem__(self, key: tuple[str, str]) -> FloatArray:
        returns: FloatArray = np.diff(self._log_close[key])
        return returns

    def __setitem__(self, key: tuple[str, str], returns: FloatArray) -> None:
        old = self._log_close[key]
        if returns.shape != (old.shape[0] - 1,):
            raise ValueError(f"{key}: {returns.shape[0]} returns for {old.shape[0] - 1} bars")
        cum = np.cumsum(returns)
        rebuilt = np.empty_like(old)
        rebuilt[1:] = old[-1] + cum - cum[-1]
        rebuilt[0] = rebuilt[1] - returns[0]
        self._log_close[key] = rebuilt


@dataclass(frozen=True, slots=True)
class QuoteShift:
    """Misprices one option quote: its mid is priced at the smile IV plus ``iv_shift``.

    ``expiry_index`` indexes ``MarketDraft.option_expiries_ms``, ``strike_index`` the strike grid
    (``MarketDraft.option_moneyness``; the middle index is at the money), ``is_call`` the kind.
    """

    expiry_index: int
    strike_index: int
    is_call: bool
    iv_shift: float  # absolute, annual: +0.15 = the quote is 15 vol points rich


@dataclass(slots=True)
class MarketDraft:
    """A synthetic market's parameters; every container is a plain dict, every series numpy.

    Identity and time
        ``seed``; ``rng``: the draft's generator (prefer :meth:`child_rng`); ``as_of_ms``: the
        snapshot time, a minute boundary; ``exchanges``: e.g. ``["binance", "okx", "bybit"]``;
        ``symbols``: ``"BTC/USDT"`` ... ordered by size (24h volume), largest first;
        ``bar_open_ms[tf]``: the open times of the bars shown, oldest first (1m: 600, 1h: 600,
        4h: 320, 1d: 365). Only bars that have closed by ``as_of_ms`` are shown.

    Prices and paths (latent, shared by all exchanges; ``latent`` builds them)
        ``last_price[symbol]``: the latent price now (the close of the last 1m bar);
        ``listing_price[symbol]``: the level the seed's market was listed at (fixed in time).
        ``log_close[(symbol, tf)]``: the log closes, oldest first, one more than there are bars
        (the first is the first bar's open); render prints them as they are.
        ``log_returns[(symbol, tf)]``: a view of them as per-bar log returns, one per bar:
        reading gives a fresh array; assigning one (keep the length) rebuilds the closes
        backwards from the last (``close[i] = last * exp(-sum(r[i+1:]))``), so an edit of the
        returns reshapes the bars before the last close, never the last close itself. (Such an
        edit rewrites history a snapshot earlier showed otherwise: planters that do it are not
        yet causal.) The timeframes are separate arrays (4h bars
        aggregate the latent hours, but a planter's edit of one timeframe does not reach the
        others): to plant a trend on "the 1h and 4h charts", edit both.
        ``wick_up[(symbol, tf)]`` and ``wick_down[(symbol, tf)]``: per-bar factors >= 1, the
        high over ``max(open, close)`` and ``min(open, close)`` over the low.
        ``volume[(symbol, tf)]``: base-currency volume per bar, summed over all exchanges; each
        exchange gets its ``exchange_volume_share`` of it (the ticker's 24h quote volume is the
        last 24 hourly bars' volume times their closes). ``annual_vol[symbol]``: the long-run
        volatility of the latent path (its stochastic volatility averages to it);
        ``beta[symbol]``: loading on the market
        factor; ``intrabar_range[(symbol, tf)]``: optional per-bar power of the wick factors
        (default 1; a consolidation can shrink it).

    Per exchange and symbol (keys ``(exchange, symbol)``)
        ``exchange_offset_bps``: that exchange's price = latent * (1 + offset/1e4), for bars,
        ticker, book, perp mark, futures and option underlying. ``spread_bps``: quoted spread
        of the ticker and of the book's top. ``level_step_bps``: distance between successive
        book levels. ``depth_usd``: quote notional per book level near the top (each side;
        level i holds ``depth_usd * (1 + depth_growth * i)`` times log-normal noise, 25 levels).
        ``book_imbalance``: -1..1, > 0 = more bids: bid sizes are multiplied by
        ``1 + imbalance``, ask sizes by ``1 - imbalance`` (floored at 5%). ``funding_rate``:
        perp funding per interval (fraction; longs pay when > 0); ``funding_interval_h``: 1, 4
        or 8. ``perp_premium_bps``: perp mark vs the exchange mid. ``basis_annual``: one
        annualised basis per dated future (aligned with ``future_expiry_days``); a future's mid
        is ``mid * (1 + basis * years_to_expiry)``, so it converges at expiry; only
        ``future_symbols`` have futures (expiring at ``future_expiries_ms``); their half spread
        is 1.5x the spot half spread.
        ``option_quote_shifts``: :class:`QuoteShift` list mispricing single quotes. A key absent
        from a dict means "not listed there" (no funding = no perp, and so on).

    Options (``option_symbols``, on every exchange of ``option_exchanges``)
        ``iv_atm[symbol]``: at-the-money implied vol (annual); the base sets it to the
        close-to-close vol the 600 hourly bars realised, so implied = realised on a control
        market (the future's volatility is another matter: it has its own regime).
        ``smile[symbol]``: ``{"skew": a, "curvature": b}``; the IV of a strike is
        ``iv_atm * (1 + a*m + b*m*m)`` with ``m = ln(K/S) / sqrt(T_years)`` (floored at 5%).
        ``option_expiries_ms``: a weekly, a monthly and a quarterly expiry, each a listed date
        at 08:00 UTC (``expiries``); ``option_strike_anchor[(symbol, slot)]``: the price the
        slot's strikes were listed around (fixed for the expiry's life); ``option_moneyness``:
        strikes
        are ``S * exp(k * iv_atm * sqrt(T))`` for each k, rounded to a round increment; quotes
        are Black-Scholes at the risk-free rate, ``option_half_spread`` of the premium either
        side plus a tick of 0.005% of spot. Chains are ordered expiry, strike, call then put.

    Venue
        ``fees[exchange]``: :class:`Fees` (maker, taker as fractions; one schedule per exchange
        for spot, perps and futures). ``risk_free_rate``: annual.

    Ground truth
        ``ground_truth``: the :class:`Planted` list (append with :meth:`plant`);
        ``taken[symbol]``: the purpose a symbol was handed out for.
    """

    seed: int
    rng: np.random.Generator
    as_of_ms: int
    exchanges: list[str]
    symbols: list[str]
    bar_open_ms: dict[str, IntArray]
    last_price: dict[str, float]
    listing_price: dict[str, float]
    annual_vol: dict[str, float]
    beta: dict[str, float]
    log_close: dict[tuple[str, str], FloatArray]
    wick_up: dict[tuple[str, str], FloatArray]
    wick_down: dict[tuple[str, str], FloatArray]
    volume: dict[tuple[str, str], FloatArray]
    exchange_volume_share: dict[str, float]
    exchange_offset_bps: dict[tuple[str, str], float]
    spread_bps: dict[tuple[str, str], float]
    level_step_bps: dict[tuple[str, str], float]
    depth_usd: dict[tuple[str, str], float]
    book_imbalance: dict[tuple[str, str], float]
    funding_rate: dict[tuple[str, str], float]
    funding_interval_h: dict[tuple[str, str], float]
    perp_premium_bps: dict[tuple[str, str], float]
    basis_annual: dict[tuple[str, str], list[float]]
    future_expiries_ms: tuple[int, ...]
    future_symbols: list[str]
    iv_atm: dict[str, float]
    smile: dict[str, dict[str, float]]
    option_symbols: list[str]
    option_exchanges: list[str]
    option_expiries_ms: tuple[int, ...]
    option_strike_anchor: dict[tuple[str, int], float]
    option_moneyness: tuple[float, ...]
    option_half_spread: float
    option_quote_shifts: dict[tuple[str, str], list[QuoteShift]]
    fees: dict[str, Fees]
    risk_free_rate: float = 0.04
    depth_growth: float = 0.12
    intrabar_range: dict[tuple[str, str], FloatArray] = field(default_factory=dict)
    ground_truth: list[Planted] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)
    log_returns: ReturnsView = field(init=False)

    def __post_init__(self) -> None:
        self.log_returns = ReturnsView(self.log_close)

    def close_times(self, tf: str) -> IntArray:
        """When each row of ``log_close[(symbol, tf)]`` closed: the first row is the close
        before the first bar (its open time), then each bar's close."""
        opens = self.bar_open_ms[tf]
        step = TIMEFRAME_MS[tf]
        times: IntArray = np.concatenate([opens[:1], opens + step])
        return times

    def child_rng(self, purpose: str) -> np.random.Generator:
        """A generator for one planter, derived from the seed and ``purpose`` only.

        It does not depend on which planters ran before, so adding a planter does not reshuffle
        the others' random draws; nor on the time, so a plant stays on its symbols.
        """
        return np.random.default_rng([self.seed, _stable_hash(purpose)])

    def take_symbols(
        self, n: int, purpose: str, *, candidates: Sequence[str] | None = None
    ) -> list[str]:
        """Hand out ``n`` symbols no other planter has taken, and mark them taken for ``purpose``.

        ``candidates`` restricts the pool (e.g. ``draft.symbols[:15]`` for liquid names,
        ``draft.option_symbols``, ``draft.future_symbols``); default: every symbol. The choice is
        a seeded shuffle of the free candidates (by ``purpose``), so it is deterministic for a
        seed. Raises ``ValueError`` when fewer than ``n`` are free.
        """
        pool = [s for s in (candidates if candidates is not None else self.symbols)]
        free = [s for s in pool if s not in self.taken and s in self.last_price]
        if len(free) < n:
            raise ValueError(
                f"take_symbols({n}, {purpose!r}): only {len(free)} free of {len(pool)} candidates"
            )
        order = self.child_rng(f"take:{purpose}").permutation(len(free))
        chosen = [free[i] for i in order[:n]]
        for symbol in chosen:
            self.taken[symbol] = purpose
        return chosen

    def plant(self, planted: Planted) -> None:
        """Record one planted structure as ground truth."""
        self.ground_truth.append(planted)


def _stable_hash(text: str) -> int:
    # Python's hash() is salted per process; a planter's stream must be the same everywhere.
    return zlib.crc32(text.encode())
