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

from oppscan.market.snapshot import Fees, FloatArray


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


@dataclass(frozen=True, slots=True)
class QuoteShift:
    """Misprices one option quote: its mid is priced at the smile IV plus ``iv_shift``.

    ``expiry_index`` indexes ``MarketDraft.option_expiry_days``, ``strike_index`` the strike grid
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
        snapshot time (the close of the last bar of every timeframe is the price at this time);
        ``exchanges``: e.g. ``["binance", "okx", "bybit"]``; ``symbols``: ``"BTC/USDT"`` ...
        ordered by size (24h volume), largest first; ``timeframe_bars[tf]``: bars per timeframe
        (1m: 600, 1h: 600, 4h: 320, 1d: 365). The last bar is the one in progress at ``as_of_ms``.

    Prices and paths (latent, shared by all exchanges)
        ``last_price[symbol]``: the latent price now. ``log_returns[(symbol, tf)]``: per-bar log
        returns, oldest first, one per bar (keep the length); render builds closes backwards from
        ``last_price`` so the path always ENDS at ``last_price``
        (``close[i] = last * exp(-sum(r[i+1:]))``, ``open[0] = close[0] * exp(-r[0])``, other
        opens are the previous close). The timeframes are separate paths with the same
        volatility (not aggregates of each other): to plant a trend on "the 1h and 4h charts",
        edit both. ``volume[(symbol, tf)]``: base-currency volume per bar, summed over all
        exchanges; each exchange gets its ``exchange_volume_share`` of it (the ticker's 24h
        quote volume is the last 24 hourly bars' volume times their closes).
        ``annual_vol[symbol]``: the realised vol of every base path; ``beta[symbol]``:
        loading on the market factor; ``intrabar_range[(symbol, tf)]``: optional per-bar
        multiplier of the high/low wick size (default 1; a consolidation can shrink it).

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
        ``future_symbols`` have futures; their half spread is 1.5x the spot half spread.
        ``option_quote_shifts``: :class:`QuoteShift` list mispricing single quotes. A key absent
        from a dict means "not listed there" (no funding = no perp, and so on).

    Options (``option_symbols``, on every exchange of ``option_exchanges``)
        ``iv_atm[symbol]``: at-the-money implied vol (annual); the base sets it to
        ``annual_vol``, which is exactly the realised close-to-close vol of every base path
        (each timeframe's path is rescaled to it), so implied ≈ realised on a control market.
        ``smile[symbol]``: ``{"skew": a, "curvature": b}``; the IV of a strike is
        ``iv_atm * (1 + a*m + b*m*m)`` with ``m = ln(K/S) / sqrt(T_years)`` (floored at 5%).
        ``option_expiry_days``: (7, 30, 90), expiring 08:00 UTC; ``option_moneyness``: strikes
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
    timeframe_bars: dict[str, int]
    last_price: dict[str, float]
    annual_vol: dict[str, float]
    beta: dict[str, float]
    log_returns: dict[tuple[str, str], FloatArray]
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
    future_expiry_days: tuple[int, ...]
    future_symbols: list[str]
    iv_atm: dict[str, float]
    smile: dict[str, dict[str, float]]
    option_symbols: list[str]
    option_exchanges: list[str]
    option_expiry_days: tuple[int, ...]
    option_moneyness: tuple[float, ...]
    option_half_spread: float
    option_quote_shifts: dict[tuple[str, str], list[QuoteShift]]
    fees: dict[str, Fees]
    risk_free_rate: float = 0.04
    depth_growth: float = 0.12
    intrabar_range: dict[tuple[str, str], FloatArray] = field(default_factory=dict)
    ground_truth: list[Planted] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)

    def child_rng(self, purpose: str) -> np.random.Generator:
        """A generator for one planter, derived from the seed and ``purpose`` only.

        It does not depend on which planters ran before, so adding a planter does not reshuffle
        the others' random draws.
        """
        return np.random.default_rng([self.seed, self.as_of_ms // 60_000, _stable_hash(purpose)])

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
