"""Following one published opportunity through the market's later states, as a trader would.

Entry is at the opportunity's moment, every leg at its stated price and size, paying the leg's
fee (a trade on one instrument that lists no legs is its side, at its entry price, for its
required capital). A post-only leg (a market maker's quote) rests instead: it fills, at its price
and the maker fee, at the first mark whose mid has come to it, and is cancelled if none has by
the exit. Legs in the same instrument are netted before closing. At each later moment of its
follow grid the trade is marked at what closing every leg would fetch then (a spot leg walks
the book at its size; a perp closes at its mark price across the spot half spread; a future and
an option at their quotes, an option whose strike the chain's window no longer shows at the
implied vol of the nearest shown strike; an expired one settles at intrinsic value against the
underlying's mid), closing fees included, with perp funding accrued in between. The trade
exits at the first moment its main price reaches its target or its stop, else at the first mark
at or after its ``horizon_seconds``. A one-leg trade that reaches its take-profit closes at that
price and the maker fee (a take-profit is a resting limit order); a stop closes at the market.

The marks are taken on a grid of ``STEP_MS`` (by the horizon's ``estimated_timeframe``) aligned
to the epoch, so that every opportunity of a run shares the same later snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from oppscan.domain.models import Leg, Opportunity
from oppscan.market.black_scholes import bs_price
from oppscan.market.snapshot import MarketSnapshot, OptionChain
from oppscan.strategies.costs import walk_book
from oppscan.strategies.options_math import option_fee, option_symbol

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
STEP_MS = {"minutes": 5 * MINUTE_MS, "hours": HOUR_MS, "days": 4 * HOUR_MS, "weeks": DAY_MS}
# Targets and stops are prices of the main instrument when the entry price is within this
# fraction of its mid; otherwise (an option premium, a spread) only the horizon applies.
_PRICE_MATCH = 0.10


class Later(Protocol):
    """The market after a scan: its state at a moment, and the moments a trade is marked at."""

    def __call__(self, ms: int) -> MarketSnapshot: ...

    def grid(self, opportunity: Opportunity, entry_ms: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What following one opportunity realised."""

    pnl_usd: float  # after every fee, slippage at size and funding
    return_on_capital: float  # pnl over the opportunity's required capital
    exit_ms: int
    reason: str  # target | stop | horizon | data_end (a recorded sequence ran out)


class Unfollowable(Exception):
    """The opportunity cannot be traded as stated (no legs, an instrument no venue lists)."""


class DataEnds(Exception):
    """The market's later states end before the moment asked for (a recorded sequence)."""


def follow_grid(opportunity: Opportunity, entry_ms: int) -> list[int]:
    """The later moments the trade is marked at: grid points after entry, through its horizon."""
    step = STEP_MS.get(opportunity.estimated_timeframe, HOUR_MS)
    first = (entry_ms // step + 1) * step
    return list(range(first, entry_ms + horizon_ms(opportunity) + step, step))


def horizon_ms(opportunity: Opportunity) -> int:
    return opportunity.horizon_seconds * 1000


def follow(opportunity: Opportunity, entry: MarketSnapshot, later: Later) -> Outcome:
    """Trade ``opportunity`` from ``entry`` (its snapshot) through ``later(ms)`` snapshots."""
    capital = opportunity.required_capital_usd
    if not capital > 0:
        raise Unfollowable("no required capital")
    stated = opportunity.legs or _main_leg(opportunity)
    # Taker legs fill at entry; a resting (post-only) quote waits for the market to reach it.
    legs = [leg for leg in stated if not leg.post_only]
    resting = [leg for leg in stated if leg.post_only]
    entry_fees = sum(_fee(entry, leg, leg.price) for leg in legs)
    main = _main_price(entry, opportunity)
    funding = 0.0
    previous = entry
    outcome_ms, reason, value = entry.as_of_ms, "horizon", None
    for ms in later.grid(opportunity, entry.as_of_ms):
        try:
            snapshot = later(ms)
        except DataEnds:
            reason = "data_end"
            break
        funding += sum(_funding(previous, snapshot, leg) for leg in legs)
        previous = snapshot
        for leg in [leg for leg in resting if _reached(snapshot, leg)]:
            resting.remove(leg)
            legs.append(leg)
            entry_fees += _fee(snapshot, leg, leg.price, maker=True)
        value = _close_value(snapshot, legs)
        outcome_ms, reason = ms, _price_exit(opportunity, snapshot, main)
        if reason == "target" and len(legs) == 1 and opportunity.take_profit is not None:
            # A take-profit is a resting limit order: it fills at its price, as a maker.
            value = _limit_close(snapshot, legs[0], opportunity.take_profit)
        if reason != "horizon":
            break
    if value is None:
        raise Unfollowable("the market's data ends before its first mark")
    pnl = value + funding - entry_fees
    return Outcome(pnl, pnl / capital, outcome_ms, reason)


def _main_leg(opportunity: Opportunity) -> list[Leg]:
    """A single-instrument trade states no legs: its main leg is its side, entry and capital."""
    if opportunity.side not in ("buy", "sell") or not opportunity.entry_price > 0:
        raise Unfollowable(f"no legs, and side {opportunity.side!r} is not a spot order")
    return [
        Leg(
            exchange=opportunity.exchange,
            symbol=opportunity.symbol,
            side=opportunity.side,
            price=opportunity.entry_price,
            size=opportunity.required_capital_usd / opportunity.entry_price,
        )
    ]


def _main_price(snapshot: MarketSnapshot, opportunity: Opportunity) -> bool:
    """Whether the opportunity's prices are prices of its main instrument (so targets apply)."""
    ticker = snapshot.tickers.get((opportunity.exchange, opportunity.symbol))
    if ticker is None or not opportunity.entry_price > 0:
        return False
    return abs(opportunity.entry_price / ticker.mid - 1.0) <= _PRICE_MATCH


def _price_exit(opportunity: Opportunity, snapshot: MarketSnapshot, main: bool) -> str:
    ticker = snapshot.tickers.get((opportunity.exchange, opportunity.symbol))
    if not main or ticker is None:
        return "horizon"
    long = opportunity.side == "buy"
    price = ticker.mid
    target, stop = opportunity.take_profit, opportunity.stop_loss
    if target is not None and (price >= target if long else price <= target):
        return "target"
    if stop is not None and (price <= stop if long else price >= stop):
        return "stop"
    return "horizon"


def _sign(leg: Leg) -> float:
    return 1.0 if leg.side == "buy" else -1.0


def _limit_close(snapshot: MarketSnapshot, leg: Leg, price: float) -> float:
    return _sign(leg) * (price - leg.price) * leg.size - _fee(snapshot, leg, price, maker=True)


def _reached(snapshot: MarketSnapshot, leg: Leg) -> bool:
    """Whether a resting quote has filled: the market's mid has come to its price. A real queue
    fills some quotes sooner (a seller hitting our bid inside the spread), so this undercounts
    fills; it never counts one the market did not reach."""
    ticker = snapshot.tickers.get((leg.exchange, leg.symbol))
    if ticker is None:
        return False
    return ticker.mid <= leg.price if leg.side == "buy" else ticker.mid >= leg.price


def _close_value(snapshot: MarketSnapshot, legs: list[Leg]) -> float:
    """What closing every leg would fetch, legs in the same instrument netted first: a quote's
    buy and sell that both filled are a round trip already, with nothing left to close."""
    groups: dict[tuple[str, str, str], list[Leg]] = {}
    for leg in legs:
        groups.setdefault((leg.exchange, leg.symbol, leg.instrument), []).append(leg)
    total = 0.0
    for group in groups.values():
        if len(group) == 1:
            total += _close_pnl(snapshot, group[0])
            continue
        net = sum(_sign(leg) * leg.size for leg in group)
        paid = sum(_sign(leg) * leg.size * leg.price for leg in group)
        if abs(net) <= 1e-12 * sum(leg.size for leg in group):
            total -= paid  # flat: what the sells brought in less what the buys cost
            continue
        first = group[0]
        position = Leg(
            exchange=first.exchange,
            symbol=first.symbol,
            side="buy" if net > 0 else "sell",
            price=paid / net,
            size=abs(net),
            instrument=first.instrument,
        )
        total += _close_pnl(snapshot, position)
    return total


def _close_pnl(snapshot: MarketSnapshot, leg: Leg) -> float:
    """The leg's profit if closed in ``snapshot`` (after the closing fee)."""
    price = close_price(snapshot, leg)
    return _sign(leg) * (price - leg.price) * leg.size - _fee(snapshot, leg, price)


def close_price(snapshot: MarketSnapshot, leg: Leg) -> float:
    """The price closing ``leg`` fetches in ``snapshot``; ``Unfollowable`` if none is listed."""
    closing = "sell" if leg.side == "buy" else "buy"
    if leg.instrument == "option":
        return _option_close(snapshot, leg, closing)
    if leg.instrument == "future":
        return _future_close(snapshot, leg, closing)
    ticker = snapshot.tickers.get((leg.exchange, leg.symbol))
    if ticker is None:
        raise Unfollowable(f"{leg.exchange} lists no {leg.symbol}")
    if leg.instrument == "perp":
        funding = snapshot.funding.get((leg.exchange, leg.symbol))
        mark = funding.mark_price if funding is not None else ticker.mid
        half = (ticker.ask - ticker.bid) / 2.0 / ticker.mid
        return mark * (1.0 - half if closing == "sell" else 1.0 + half)
    book = snapshot.books.get((leg.exchange, leg.symbol))
    if book is None:
        return ticker.bid if closing == "sell" else ticker.ask
    fill = walk_book(book, closing, leg.size * ticker.mid)
    if fill.complete:
        return fill.avg_price
    # Past the visible depth the rest goes at the book's far end, a further 1% away.
    far = (book.bids if closing == "sell" else book.asks)[-1, 0]
    return float(far * (0.99 if closing == "sell" else 1.01))


def _future_close(snapshot: MarketSnapshot, leg: Leg, closing: str) -> float:
    underlying = leg.symbol.split(":")[0]
    for contract in snapshot.futures.get((leg.exchange, underlying), ()):
        if contract.instrument == leg.symbol:
            return contract.bid if closing == "sell" else contract.ask
    ticker = snapshot.tickers.get((leg.exchange, underlying))
    expiry = _settlement_ms(leg.symbol.rsplit("-", 1)[-1])
    if ticker is not None and expiry is not None and snapshot.as_of_ms >= expiry:
        return ticker.mid  # settled at the index
    raise Unfollowable(f"{leg.exchange} lists no {leg.symbol}")


def _settlement_ms(stamp: str) -> int | None:
    """08:00 UTC on the ``yymmdd`` day of an instrument's name (futures and options settle
    then); None when ``stamp`` is not a date."""
    from datetime import UTC, datetime

    try:
        day = datetime.strptime(stamp, "%y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(day.timestamp() * 1000) + 8 * HOUR_MS


def _option_close(snapshot: MarketSnapshot, leg: Leg, closing: str) -> float:
    base, stamp, strike_text, kind = leg.symbol.split("-")
    underlying = f"{base}/USDT"
    chain = snapshot.options.get((leg.exchange, underlying))
    expiry = _settlement_ms(stamp)
    if chain is not None:
        row = _option_row(chain, base, leg.symbol)
        if row is not None:
            return float(chain.bids[row] if closing == "sell" else chain.asks[row])
    ticker = snapshot.tickers.get((leg.exchange, underlying))
    if ticker is None or expiry is None:
        raise Unfollowable(f"{leg.exchange} quotes no {leg.symbol}")
    strike, is_call = float(strike_text), kind == "C"
    if snapshot.as_of_ms >= expiry:
        spot = ticker.mid
        return max(0.0, spot - strike) if is_call else max(0.0, strike - spot)
    if chain is None:
        raise Unfollowable(f"{leg.exchange} quotes no {leg.symbol}")
    return _off_window(snapshot, chain, expiry, strike, is_call, closing)


def _off_window(
    snapshot: MarketSnapshot,
    chain: OptionChain,
    expiry: int,
    strike: float,
    is_call: bool,
    closing: str,
) -> float:
    """A listed strike the chain's window no longer shows (spot moved away from it): marked at
    the implied vol of the nearest shown strike of its expiry and kind, less (or plus) that
    quote's relative half spread."""
    rows = np.flatnonzero((chain.expiries_ms == expiry) & (chain.is_call == is_call))
    if rows.size == 0:
        raise Unfollowable(f"the chain shows no {expiry} expiry any more")
    near = int(rows[np.argmin(np.abs(chain.strikes[rows] - strike))])
    years = (expiry - snapshot.as_of_ms) / (365.0 * DAY_MS)
    value = float(
        bs_price(
            chain.underlying_price,
            np.array([strike]),
            np.array([years]),
            snapshot.risk_free_rate,
            np.array([float(chain.iv[near])]),
            np.array([is_call]),
        )[0]
    )
    mid = (chain.bids[near] + chain.asks[near]) / 2.0
    half = float((chain.asks[near] - chain.bids[near]) / 2.0 / mid) if mid > 0 else 0.0
    return value * (1.0 - half if closing == "sell" else 1.0 + half)


def _option_row(chain: OptionChain, base: str, name: str) -> int | None:
    for i in range(len(chain)):
        symbol = option_symbol(
            base, int(chain.expiries_ms[i]), float(chain.strikes[i]), bool(chain.is_call[i])
        )
        if symbol == name:
            return i
    return None


def _fee(snapshot: MarketSnapshot, leg: Leg, price: float, *, maker: bool = False) -> float:
    if leg.instrument == "option":
        base = leg.symbol.split("-", 1)[0]
        ticker = snapshot.tickers.get((leg.exchange, f"{base}/USDT"))
        underlying = ticker.mid if ticker is not None else price
        return float(option_fee(underlying, price)) * leg.size
    fees = snapshot.fees.get(leg.exchange)
    rate = 0.001 if fees is None else fees.maker if maker else fees.taker
    return rate * price * leg.size


def _funding(before: MarketSnapshot, after: MarketSnapshot, leg: Leg) -> float:
    """Funding a perp leg paid (< 0) or received between two snapshots: every settlement in
    between, at the rate ``before`` showed for its running period."""
    if leg.instrument != "perp":
        return 0.0
    funding = before.funding.get((leg.exchange, leg.symbol))
    if funding is None:
        return 0.0
    period = int(funding.interval_hours * HOUR_MS)
    settlements = 0
    if funding.next_funding_ms <= after.as_of_ms:
        settlements = 1 + (after.as_of_ms - funding.next_funding_ms) // period
    # Longs pay shorts when the rate is positive.
    return -_sign(leg) * funding.rate * funding.mark_price * leg.size * settlements
