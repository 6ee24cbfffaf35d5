"""``oppscan scan``: one real scan in this process (embedded container, synthetic market)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oppscan.cli.main import app
from oppscan.strategies.registry import load_strategies


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_JWT_SECRET", "cli-test-secret-of-at-least-32-bytes!!")
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", "synthetic")
    monkeypatch.delenv("OPPSCAN_REDIS_URL", raising=False)
    monkeypatch.delenv("OPPSCAN_SYNTHETIC_LATENCY_MS", raising=False)


def test_scan_json_is_the_results_body_of_a_finished_scan() -> None:
    strategy_ids = sorted(load_strategies())[:2]
    result = CliRunner().invoke(app, ["scan", "--strategies", ",".join(strategy_ids), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] in ("complete", "partial")
    assert body["user_id"] == "cli"
    assert body["total_opportunities"] == len(body["opportunities"])
    assert {o["strategy_id"] for o in body["opportunities"]} <= set(strategy_ids)


def test_scan_with_a_portfolio_file(tmp_path: Path) -> None:
    portfolio = tmp_path / "portfolio.json"
    portfolio.write_text('{"holdings": [{"symbol": "BTC", "quantity": 0.5}], "cash_usd": 2000}')
    result = CliRunner().invoke(app, ["scan", "--portfolio", str(portfolio), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] in ("complete", "partial")


def test_scan_refuses_an_unknown_strategy_naming_the_allowed_ones() -> None:
    result = CliRunner().invoke(app, ["scan", "--strategies", "no_such_strategy"])
    assert result.exit_code == 2
    assert "strategy_ids" in result.output
    for strategy_id in load_strategies():
        assert strategy_id in result.output.replace("\n", "")


def test_scan_prints_a_table_or_says_it_found_nothing() -> None:
    result = CliRunner().invoke(app, ["scan"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "opportunities (best first)" in result.stdout or "no opportunity found" in result.stdout
