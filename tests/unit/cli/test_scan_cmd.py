"""``oppscan scan``: one real scan in this process (embedded container, synthetic market), and
the options that choose and order what it prints."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from oppscan.bootstrap import bootstrap
from oppscan.cli.main import app
from oppscan.cli.options import SORT_KEYS, Selection, Sort
from oppscan.cli.render import COLUMNS, ScanProgress, follow
from oppscan.cli.scan_cmd import CLI_USER, progress_of, select
from oppscan.domain.models import RiskLevel
from oppscan.service.requests import DiscoverInput
from oppscan.settings import Settings
from oppscan.strategies.registry import load_strategies

# Strategies that find opportunities of several risk levels on the synthetic market.
SOME = "spot_momentum_strategy,futures_trade,funding_arbitrage,complex_strategy"
WIDE = {"COLUMNS": "250"}


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_JWT_SECRET", "cli-test-secret-of-at-least-32-bytes!!")
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", "synthetic")
    monkeypatch.delenv("OPPSCAN_REDIS_URL", raising=False)
    monkeypatch.delenv("OPPSCAN_SYNTHETIC_LATENCY_MS", raising=False)


def scan_json(*options: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["scan", "--strategies", SOME, "--json", *options])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


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
    assert result.stderr.startswith("error: --strategies: unknown value(s) ['no_such_strategy']")
    assert result.stderr.count("\n") == 1
    for strategy_id in load_strategies():
        assert strategy_id in result.stderr


def test_the_table_shows_entry_target_stop_and_the_ranking_score() -> None:
    result = CliRunner().invoke(app, ["scan", "--strategies", SOME, "--limit", "3"], env=WIDE)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "strategy" in line)
    names = [name for name, _ in COLUMNS]
    assert [n for n in names if n in header] == names
    assert header.index("entry") < header.index("target") < header.index("stop")
    assert "best first by score" in result.stdout
    assert "score = net edge bps × confidence" in result.stdout.replace("\n", " ")
    assert "target = the take-profit price" in result.stdout.replace("\n", " ")
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 3
    assert "3 of " in result.stdout


def test_the_table_says_when_nothing_matched() -> None:
    result = CliRunner().invoke(
        app, ["scan", "--strategies", SOME, "--min-profit", "1e12"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "no opportunity found (complete scan scan_" in result.stdout


def test_sort_risk_min_profit_and_limit_choose_and_order_the_results() -> None:
    body = scan_json("--sort", "profit", "--risk", "low", "--risk", "medium,high")
    profits = [o["profit_potential_usd"] for o in body["opportunities"]]
    assert profits == sorted(profits, reverse=True)
    assert {o["risk_level"] for o in body["opportunities"]} <= {"low", "medium", "high"}

    cut = scan_json("--sort", "confidence", "--min-profit", "50", "--limit", "2")
    assert len(cut["opportunities"]) == min(2, cut["total_opportunities"])
    confidences = [o["confidence_score"] for o in cut["opportunities"]]
    assert confidences == sorted(confidences, reverse=True)
    assert all(o["profit_potential_usd"] >= 50 for o in cut["opportunities"])


async def test_several_risk_levels_select_what_one_query_per_level_would() -> None:
    """The merge of one ``ResultsQuery`` per level is the unfiltered order, filtered."""
    container = bootstrap(Settings(redis_url=None))
    await container.start()
    try:
        service = container.service
        started = await service.start(CLI_USER, DiscoverInput(strategy_ids=SOME))
        scan_id = started.record.scan_id

        async def read() -> ScanProgress:
            return progress_of(await service.status(CLI_USER, scan_id))

        await follow(read, Console(file=io.StringIO()), poll_seconds=0.05)  # as the CLI waits
        levels = (RiskLevel.LOW.value, RiskLevel.HIGH.value)
        for sort in Sort:
            key = SORT_KEYS[sort]
            everything = await select(service, scan_id, Selection(sort=sort))
            expected = [o for o in everything.opportunities if o.risk_level.value in levels]
            both = await select(service, scan_id, Selection(sort=sort, risks=levels))
            assert {o.opportunity_id for o in both.opportunities} == {
                o.opportunity_id for o in expected
            }
            best = await select(service, scan_id, Selection(sort=sort, risks=levels, limit=4))
            # In the same order (equal keys may come in another order: the API's is by store)
            assert [key(o) for o in best.opportunities] == [key(o) for o in expected[:4]]
            assert best.total == both.total == len(expected)
        assert {o.risk_level for o in everything.opportunities} >= {RiskLevel.LOW, RiskLevel.HIGH}
    finally:
        await container.close()
