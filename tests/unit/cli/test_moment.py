"""``--at``: the market of a given moment, shown (``market show``), recorded (``market record``)
and scanned (``scan``), so any scan can be reproduced and its data inspected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oppscan.cli.main import app
from oppscan.market.codec import read_snapshot
from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS

AT = "2026-01-01T12:00:30Z"  # within the minute DEFAULT_AS_OF_MS starts
EARLIER = "2025-12-31T09:00:00Z"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPPSCAN_REDIS_URL", "OPPSCAN_SYNTHETIC_LATENCY_MS", "OPPSCAN_EXCHANGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", "synthetic")
    monkeypatch.setenv("OPPSCAN_LOG_LEVEL", "WARNING")


def bars(*args: str) -> list[list[float]]:
    result = CliRunner().invoke(app, ["market", "show", *args, "--json"])
    assert result.exit_code == 0, result.output
    rows: list[list[float]] = json.loads(result.stdout)
    return rows


def test_show_prints_the_bars_a_scan_at_that_moment_saw() -> None:
    rows = bars("BTC", "--at", AT, "--timeframe", "1h")
    assert rows and all(len(row) == 6 for row in rows)
    times = [row[0] for row in rows]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(t % 3_600_000 == 0 for t in times)
    assert times[-1] <= DEFAULT_AS_OF_MS  # nothing opens after the snapshot's moment
    for _, open_, high, low, close, volume in rows:
        assert low <= min(open_, close) <= max(open_, close) <= high and volume >= 0
    assert bars("BTC/USDT", "--at", AT, "--timeframe", "1h") == rows  # reproducible
    assert bars("BTC", "--at", EARLIER, "--timeframe", "1h")[-1][0] < times[-1]


def test_show_picks_the_exchange_and_timeframe_asked() -> None:
    okx = bars("ETH", "--at", AT, "--exchange", "okx", "--timeframe", "1d")
    assert all(row[0] % 86_400_000 == 0 for row in okx)
    assert okx != bars("ETH", "--at", AT, "--exchange", "binance", "--timeframe", "1d")


def test_show_prints_a_table_of_the_last_bars() -> None:
    result = CliRunner().invoke(
        app, ["market", "show", "SOL", "--at", AT, "--limit", "3"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "SOL on binance, 1h bars (market as of 2026-01-01 12:00 UTC)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ 2026-")]
    # Only bars that have closed by 12:00:30: the last opened at 11:00.
    assert [row.split("│")[1].strip() for row in rows] == [
        "2026-01-01 09:00",
        "2026-01-01 10:00",
        "2026-01-01 11:00",
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["NOPE"], "SYMBOL: NOPE/USDT is not in the market"),
        (["BTC", "--exchange", "kraken"], "--exchange: kraken is not in the market"),
        (["BTC", "--at", "yesterday"], "--at: 'yesterday' is not an ISO 8601 time"),
        (["BTC", "--at", "2999-01-01T00:00:00Z"], "is in the future"),
        (["BTC", "--timeframe", "2h"], "'2h' is not one of"),
    ],
)
def test_show_refuses_bad_input_in_one_line(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["market", "show", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_at_needs_a_market_that_can_be_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = tmp_path / "m.npz"
    assert CliRunner().invoke(app, ["market", "record", str(recorded), "--at", AT]).exit_code == 0
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", str(recorded))
    result = CliRunner().invoke(app, ["market", "show", "BTC", "--at", AT])
    assert result.exit_code == 2
    assert "only the synthetic market can be rebuilt" in result.output


def test_record_at_a_moment_writes_that_moments_market(tmp_path: Path) -> None:
    target = tmp_path / "recorded.npz"
    result = CliRunner().invoke(app, ["market", "record", str(target), "--at", AT])
    assert result.exit_code == 0, result.output
    assert read_snapshot(target).as_of_ms == DEFAULT_AS_OF_MS  # the synthetic minute's start


def test_scan_at_a_moment_is_reproducible() -> None:
    def scan() -> dict[str, object]:
        command = ["scan", "--strategies", "futures_trade,funding_arbitrage", "--at", AT, "--json"]
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
        body: dict[str, object] = json.loads(result.stdout)
        return body

    first, second = scan(), scan()
    opportunities = first["opportunities"]
    assert isinstance(opportunities, list) and opportunities
    assert {o["data_as_of"] for o in opportunities} == {"2026-01-01T12:00:00Z"}
    assert opportunities == second["opportunities"]
