"""Following a trade on the continuous synthetic market: entry as stated, exit as a trader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oppscan.cli.main import app
from oppscan.domain.models import Leg, Opportunity
from oppscan.evaluation.follow import DataEnds, Unfollowable, close_price, follow, follow_grid
from oppscan.evaluation.run import (
    LaterMarket,
    RecordedMarket,
    evaluate,
    evaluate_recorded,
    summary,
)
from oppscan.market.codec import write_snapshot
from oppscan.market.synthetic import DEFAULT_AS_OF_MS, SyntheticSource
from tests.unit.fakes import an_opportunity

HOUR = 3_600_000


@pytest.fixture(scope="module")
def source() -> SyntheticSource:
    return SyntheticSource(17, plant=False)


def test_the_grid_is_aligned_and_covers_the_horizon() -> None:
    opportunity = an_opportunity(horizon_seconds=20 * 3_600, estimated_timeframe="hours")
    grid = follow_grid(opportunity, DEFAULT_AS_OF_MS + 61_000)
    assert grid[0] == DEFAULT_AS_OF_MS + HOUR and all(t % HOUR == 0 for t in grid)
    # Through the opportunity's own horizon: the last mark is the first at or after it.
    assert grid[-1] >= DEFAULT_AS_OF_MS + 61_000 + 20 * HOUR > grid[-2]


def test_a_spot_buy_with_no_target_in_reach_exits_at_its_horizon_net_of_costs(
    source: SyntheticSource,
) -> None:
    entry = source.build(DEFAULT_AS_OF_MS)
    ask = entry.tickers[("binance", "BTC/USDT")].ask
    size = 0.1
    opportunity = an_opportunity(
        entry_price=ask,
        take_profit=ask * 10,
        stop_loss=ask / 10,
        required_capital_usd=ask * size,
        legs=[Leg(exchange="binance", symbol="BTC/USDT", side="buy", price=ask, size=size)],
    )
    later = LaterMarket(source)
    outcome = follow(opportunity, entry, later)
    last = later(follow_grid(opportunity, entry.as_of_ms)[-1])
    sell = close_price(last, opportunity.legs[0])
    fee = entry.fees["binance"].taker
    expected = (sell - ask) * size - fee * ask * size - fee * sell * size
    assert outcome.reason == "horizon"
    assert outcome.pnl_usd == pytest.approx(expected)
    assert outcome.return_on_capital == pytest.approx(expected / (ask * size))
    assert sell < last.tickers[("binance", "BTC/USDT")].bid + 1e-9  # a sale gets the bid or less


def test_a_target_in_reach_ends_the_trade_early(source: SyntheticSource) -> None:
    entry = source.build(DEFAULT_AS_OF_MS)
    mid = entry.tickers[("binance", "BTC/USDT")].mid
    # A target a hair above the price and a stop far below: the first hourly mark above it ends
    # the trade (on this seed, the first mark).
    opportunity = an_opportunity(
        entry_price=mid, take_profit=mid * 1.000001, stop_loss=mid / 2, required_capital_usd=mid
    )
    outcome = follow(opportunity, entry, LaterMarket(source))
    assert outcome.reason == "target"
    assert outcome.exit_ms < follow_grid(opportunity, entry.as_of_ms)[-1]
    # The take-profit is a resting limit order: one unit bought at the mid (the taker fee) and
    # sold at the target (the maker fee), whatever the mark that reached it shows.
    fees = entry.fees["binance"]
    target = mid * 1.000001
    expected = (target - mid) - fees.taker * mid - fees.maker * target
    assert outcome.pnl_usd == pytest.approx(expected)


def test_a_short_perp_receives_positive_funding(source: SyntheticSource) -> None:
    entry = source.build(DEFAULT_AS_OF_MS)
    funding = entry.funding[("okx", "BTC/USDT")]
    assert funding.rate > 0 and funding.interval_hours == 8.0
    leg = Leg(
        exchange="okx",
        symbol="BTC/USDT",
        side="sell",
        price=funding.mark_price,
        size=1.0,
        instrument="perp",
    )
    opportunity = an_opportunity(
        exchange="okx",
        entry_price=funding.mark_price * 3,  # not a spot price: only the horizon applies
        required_capital_usd=funding.mark_price,
        legs=[leg],
    )
    later = LaterMarket(source)
    outcome = follow(opportunity, entry, later)
    last = later(follow_grid(opportunity, entry.as_of_ms)[-1])
    fee = entry.fees["okx"].taker
    price_pnl = (leg.price - close_price(last, leg)) * leg.size
    fees = fee * leg.price + fee * close_price(last, leg)
    received = outcome.pnl_usd - (price_pnl - fees)
    # Three 8-hourly settlements in 24-25 hours, each ~0.01% of the notional.
    assert received == pytest.approx(3 * 0.0001 * funding.mark_price, rel=0.5)


def test_an_instrument_no_venue_lists_is_unfollowable(source: SyntheticSource) -> None:
    entry = source.build(DEFAULT_AS_OF_MS)
    leg = Leg(
        exchange="binance",
        symbol="BTC-261225-1-C",  # listed nowhere, and not yet expired
        side="buy",
        price=1.0,
        size=1.0,
        instrument="option",
    )
    with pytest.raises(Unfollowable, match="no"):
        follow(an_opportunity(legs=[leg]), entry, LaterMarket(source))


def test_an_evaluation_reports_every_published_opportunity() -> None:
    result = summary(evaluate(5, DEFAULT_AS_OF_MS, 1.0, 30))
    assert result["scans"] == 2
    rows = result["strategies"]
    assert rows and all(
        {"published", "realised_mean_return", "hit_rate"} <= set(r) for r in rows.values()
    )
    # Calibration covers every followed opportunity: trades and risk reductions alike.
    reductions = result["risk_reductions"].values()
    followed = sum(r["followed"] for r in [*rows.values(), *reductions])
    assert sum(b["n"] for b in result["calibration"]) == followed > 0
    assert 0.0 <= result["brier"] <= 1.0 and 0.0 <= result["base_rate_brier"] <= 0.25
    for row in result["calibration"]:
        assert row["low"] <= row["mean_confidence"] <= row["high"]


def test_the_cli_prints_the_evaluation_as_one_json_object() -> None:
    result = CliRunner().invoke(
        app,
        ["evaluate", "--seed", "5", "--start", "2026-01-01T12:00:00Z", "--hours", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {"strategies", "calibration", "brier", "base_rate_brier"} <= set(body)


def test_the_cli_refuses_a_start_before_the_market_had_a_year() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--start", "2020-06-01T00:00:00Z"])
    assert result.exit_code == 2 and "--start" in result.output


def _record(folder: Path, source: SyntheticSource, moments: list[int]) -> None:
    for k, moment in enumerate(moments):
        write_snapshot(folder / f"{k:03d}.snap", source.build(moment))


def test_a_recorded_sequence_is_scanned_and_followed_until_it_ends(tmp_path: Path) -> None:
    source = SyntheticSource(5)
    moments = [DEFAULT_AS_OF_MS + k * 30 * 60_000 for k in range(6)]
    snapshots = [source.build(t) for t in moments]
    evaluation = evaluate_recorded(list(reversed(snapshots)))  # any order: sorted by moment
    assert evaluation.scans == 6 and evaluation.every_minutes is None
    traded = [f for f in evaluation.followed if f.outcome is not None]
    assert traded
    for f in traded:
        assert f.outcome is not None and f.outcome.exit_ms <= moments[-1]
    # The last recording has nothing after it: what it published cannot be followed.
    last = [f for f in evaluation.followed if f.scan_ms == moments[-1]]
    assert last and all(f.outcome is None for f in last)
    # Within the sequence, a day-long horizon runs into the end of the data.
    assert any(f.outcome is not None and f.outcome.reason == "data_end" for f in traded)


def test_recorded_marks_are_the_latest_recording_made_by_then() -> None:
    source = SyntheticSource(5, plant=False)
    first, second = source.build(DEFAULT_AS_OF_MS), source.build(DEFAULT_AS_OF_MS + HOUR)
    later = RecordedMarket([first, second])
    assert later(DEFAULT_AS_OF_MS + HOUR // 2).tickers == first.tickers
    assert later(DEFAULT_AS_OF_MS + HOUR).tickers == second.tickers
    with pytest.raises(DataEnds):
        later(DEFAULT_AS_OF_MS + HOUR + 1)


def test_the_cli_evaluates_a_folder_of_recordings(tmp_path: Path) -> None:
    _record(tmp_path, SyntheticSource(5), [DEFAULT_AS_OF_MS + k * HOUR for k in range(3)])
    result = CliRunner().invoke(app, ["evaluate", "--recorded", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["market"] == "recorded: 3 snapshots" and body["scans"] == 3


def test_the_cli_names_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    _record(tmp_path, SyntheticSource(5), [DEFAULT_AS_OF_MS])
    (tmp_path / "notes.txt").write_text("not a snapshot")
    result = CliRunner().invoke(app, ["evaluate", "--recorded", str(tmp_path)])
    assert result.exit_code == 2 and "notes.txt" in result.output


def test_a_resting_quote_fills_only_when_the_market_comes_to_it() -> None:
    """A market maker's two quotes: neither is reached, so nothing fills and nothing is lost;
    both reached, the round trip earns the quoted spread less two maker fees."""
    entry = SyntheticSource(3, plant=False).build(DEFAULT_AS_OF_MS)
    ticker = entry.tickers[("okx", "BTC/USDT")]
    fees = entry.fees["okx"]

    def quotes(bid: float, ask: float) -> Opportunity:
        legs = [
            Leg(exchange="okx", symbol="BTC/USDT", side=side, price=price, size=0.1,
                post_only=True)
            for side, price in (("buy", bid), ("sell", ask))
        ]  # fmt: skip
        return an_opportunity(
            exchange="okx", side="both", entry_price=bid, exit_price=ask, legs=legs,
            stop_loss=None, take_profit=None, horizon_seconds=600,
            estimated_timeframe="minutes",
        )  # fmt: skip

    far = quotes(ticker.mid * 0.5, ticker.mid * 2.0)
    untouched = follow(far, entry, LaterMarket(SyntheticSource(3, plant=False)))
    assert untouched.pnl_usd == 0.0
    # Quotes the market has already crossed: both fill at the first mark, and net out.
    crossed = quotes(ticker.mid * 1.5, ticker.mid * 0.75)
    both = follow(crossed, entry, LaterMarket(SyntheticSource(3, plant=False)))
    gross = (ticker.mid * 0.75 - ticker.mid * 1.5) * 0.1
    maker = fees.maker * (ticker.mid * 1.5 + ticker.mid * 0.75) * 0.1
    assert both.pnl_usd == pytest.approx(gross - maker)
