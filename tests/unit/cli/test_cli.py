"""The command line through typer's runner: commands that need no server or Redis."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oppscan.auth import TIERS as AUTH_TIERS
from oppscan.auth import verify_token
from oppscan.cli.main import TIERS, app
from oppscan.settings import Settings
from oppscan.strategies.registry import load_strategies

SECRET = "cli-test-secret-of-at-least-32-bytes!!"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_JWT_SECRET", SECRET)
    monkeypatch.delenv("OPPSCAN_REDIS_URL", raising=False)


def test_token_prints_a_token_the_api_accepts() -> None:
    result = CliRunner().invoke(
        app, ["token", "--user", "alice", "--strategies", "a, b", "--tier", "pro", "--ttl", "120"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    who = verify_token(Settings(), token)
    assert who.user_id == "alice"
    assert who.allowed_strategies == frozenset({"a", "b"})
    assert who.tier == "pro"


def test_token_refuses_an_unknown_tier() -> None:
    result = CliRunner().invoke(app, ["token", "--user", "alice", "--tier", "gold"])
    assert result.exit_code == 2
    assert (
        result.stderr == "error: --tier: 'gold' is not a tier (allowed: basic, pro, enterprise)\n"
    )


def test_the_cli_knows_the_tiers_the_api_knows() -> None:
    # The CLI names them without importing oppscan.auth (and jwt) when it starts.
    assert TIERS == AUTH_TIERS


def test_token_needs_a_user() -> None:
    result = CliRunner().invoke(app, ["token"])
    assert result.exit_code != 0


def test_strategies_lists_the_catalog() -> None:
    result = CliRunner().invoke(app, ["strategies"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    catalog = load_strategies()
    for strategy_id in catalog:
        assert strategy_id in result.stdout


def test_serve_with_several_workers_needs_redis() -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "OPPSCAN_REDIS_URL" in result.output


DEV_SECRET_HINT = "openssl rand -hex 32"


def _one_line(result: object, *needles: str) -> None:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    line = result.stderr  # type: ignore[attr-defined]
    assert line.startswith("error: ") and line.count("\n") == 1, line
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize(
    ("env", "args"),
    [
        # The reported defect: Redis configured, no secret, several API processes.
        ({"OPPSCAN_REDIS_URL": "redis://127.0.0.1:6379/15"}, ["serve", "--workers", "2"]),
        ({"OPPSCAN_REDIS_URL": "redis://127.0.0.1:6379/15"}, ["serve"]),
        # Embedded, but reachable from other machines: not the loopback demo.
        ({}, ["serve", "--host", "0.0.0.0"]),
        ({}, ["serve", "--host", "192.168.1.10"]),
        ({}, ["token", "--user", "alice"]),
    ],
)
def test_the_public_dev_secret_is_refused_outside_the_loopback_demo(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], args: list[str]
) -> None:
    monkeypatch.delenv("OPPSCAN_JWT_SECRET")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _one_line(CliRunner().invoke(app, args), "OPPSCAN_JWT_SECRET", DEV_SECRET_HINT)


@pytest.mark.parametrize("args", [["serve"], ["token", "--user", "alice"]])
def test_a_short_secret_is_refused_even_on_loopback(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("OPPSCAN_JWT_SECRET", "too-short")
    _one_line(CliRunner().invoke(app, args), "OPPSCAN_JWT_SECRET", "32 bytes", DEV_SECRET_HINT)


def test_token_ttl_above_the_cap_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    thirty_days = str(30 * 86_400)
    assert CliRunner().invoke(app, ["token", "--user", "a", "--ttl", thirty_days]).exit_code == 0
    year_3000 = CliRunner().invoke(app, ["token", "--user", "a", "--ttl", str(10**10)])
    _one_line(year_3000, "--ttl", "OPPSCAN_MAX_TOKEN_TTL_SECONDS", thirty_days)
    monkeypatch.setenv("OPPSCAN_MAX_TOKEN_TTL_SECONDS", "3600")
    assert CliRunner().invoke(app, ["token", "--user", "a", "--ttl", "3600"]).exit_code == 0
    _one_line(CliRunner().invoke(app, ["token", "--user", "a", "--ttl", "3601"]), "3600")


def test_worker_needs_redis() -> None:
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "OPPSCAN_REDIS_URL" in result.output


def test_scan_refuses_an_unreadable_portfolio(tmp_path: Path) -> None:
    bad = tmp_path / "portfolio.json"
    bad.write_text('{"holdings": [{"symbol": "BTC", "quantity": -1}]}')
    result = CliRunner().invoke(app, ["scan", "--portfolio", str(bad)])
    assert result.exit_code == 2
    assert "quantity" in result.output


def test_every_command_is_registered_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    commands = ("serve", "worker", "token", "scan", "status", "results", "strategies", "market")
    for command in commands:
        assert re.search(rf"^\W*{command}\s{{2,}}\w", result.stdout, re.MULTILINE), command
    # "market" alone is in the app's own description; `market record` must answer by itself.
    record = CliRunner().invoke(app, ["market", "record", "--help"], env={"COLUMNS": "200"})
    assert record.exit_code == 0, record.output
    assert "Fetch one snapshot from the configured source" in record.stdout


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"oppscan {version('oppscan')}\n"


def test_the_remote_commands_read_server_and_token_from_the_environment() -> None:
    for command in ("status", "results"):
        shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        assert "OPPSCAN_SERVER" in shown.stdout and "OPPSCAN_TOKEN" in shown.stdout
        assert "http://127.0.0.1:8000" in shown.stdout
