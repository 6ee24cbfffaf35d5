"""Every bad setting or argument: one line on stderr naming it and what is allowed, exit code 2,
no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import SettingsError
from typer.testing import CliRunner

from oppscan.cli.errors import settings_problems
from oppscan.cli.main import app


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "MARKET_SOURCE", "TOKEN", "SERVER", "SYNTHETIC_LATENCY_MS"):
        monkeypatch.delenv(f"OPPSCAN_{name}", raising=False)
    monkeypatch.setenv("OPPSCAN_JWT_SECRET", "cli-test-secret-of-at-least-32-bytes!!")


def refused(args: list[str], env: dict[str, str] | None = None) -> str:
    """The one line a refused command prints (it must exit 2 with nothing else)."""
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr.removeprefix("error: ").strip()


@pytest.mark.parametrize(
    ("variable", "value", "command", "expected"),
    [
        (
            "MARKET_SOURCE",
            "synthetc",
            ["scan"],
            "OPPSCAN_MARKET_SOURCE: 'synthetc' is neither synthetic, ccxt nor an existing file "
            "(allowed: synthetic | ccxt | the path of a recorded snapshot file)",
        ),
        (
            "WORKER_CONCURRENCY",
            "0",
            ["serve"],
            "OPPSCAN_WORKER_CONCURRENCY: Input should be greater than 0 (allowed: an integer > 0)",
        ),
        ("EXCHANGES", "", ["scan"], "OPPSCAN_EXCHANGES: List should have at least 1 item"),
        (
            "SCANS_PER_MINUTE",
            "basic=10",
            ["serve"],
            "OPPSCAN_SCANS_PER_MINUTE: not a JSON object (allowed: a JSON object of tier to "
            'scans per minute, e.g. {"basic":10,"pro":30})',
        ),
        ("SCANS_PER_MINUTE", '{"pro": -1}', ["serve"], "OPPSCAN_SCANS_PER_MINUTE: pro: Input"),
        ("LOG_LEVEL", "loud", ["token", "--user", "a"], "OPPSCAN_LOG_LEVEL: Input should be"),
        ("REDIS_URL", "localhost:6379", ["worker"], "OPPSCAN_REDIS_URL: not a Redis URL"),
        ("SCAN_DEADLINE_SECONDS", "soon", ["scan"], "OPPSCAN_SCAN_DEADLINE_SECONDS: Input"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    variable: str, value: str, command: list[str], expected: str
) -> None:
    line = refused(command, env={f"OPPSCAN_{variable}": value})
    assert line.startswith(expected), line
    assert "(allowed: " in line


def test_a_secret_is_never_echoed() -> None:
    line = refused(["worker"], env={"OPPSCAN_REDIS_URL": "http://user:hunter2@host"})
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scan", "--sort", "best"], "'best' is not one of 'score', 'profit', 'confidence'"),
        (["scan", "--risk", "low,extreme"], "'extreme' is not a risk level (allowed: low, "),
        (["results", "s", "--token", "t", "--risk", "none"], "'none' is not a risk level"),
        (["scan", "--limit", "0"], "Invalid value for '--limit'"),
        (["scan", "--limit", "1001"], "Invalid value for '--limit'"),
        (["scan", "--min-profit", "-5"], "Invalid value for '--min-profit'"),
        (["scan", "--capital", "nan"], "Invalid value for --capital: capital_usd: "),
        (["scan", "--no-such-option"], "No such option: --no-such-option"),
        (["nosuch"], "No such command 'nosuch'"),
        (["token"], "Missing option '--user'"),
        (["token", "--user", " "], "--user: must not be empty"),
        (["serve", "--port", "70000"], "Invalid value for '--port'"),
        (["status"], "Missing argument 'SCAN_ID'"),
    ],
)
def test_a_bad_argument_is_one_line_naming_it(args: list[str], expected: str) -> None:
    assert expected.lower() in refused(args).lower()


def test_a_bad_portfolio_file_is_one_line(tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"holdings": [{"symbol": "BTC", "quantity": -1}]}')
    line = refused(["scan", "--portfolio", str(invalid)])
    assert line.startswith(f"Invalid value for --portfolio: {invalid}: holdings.0.quantity: ")

    garbled = tmp_path / "garbled.json"
    garbled.write_text("holdings: BTC")
    assert "Invalid JSON" in refused(["scan", "--portfolio", str(garbled)])

    missing = tmp_path / "missing.json"
    assert "does not exist" in refused(["scan", "--portfolio", str(missing)])

    extra = tmp_path / "extra.json"
    extra.write_text('{"holdings": [], "cash": 5}')
    assert "cash: Extra inputs are not permitted" in refused(["scan", "--portfolio", str(extra)])


def test_a_server_command_without_a_token_says_how_to_get_one() -> None:
    line = refused(["status", "scan_x"])
    assert line.startswith("no token: get one with `oppscan token --user ID`")
    assert "OPPSCAN_TOKEN" in line


def test_a_server_url_that_is_not_http_is_refused() -> None:
    line = refused(["results", "scan_x", "--token", "t"], env={"OPPSCAN_SERVER": "localhost"})
    assert line.startswith("--server: 'localhost' is not an http(s) URL")


def test_a_setting_the_environment_source_cannot_parse_is_named_too() -> None:
    # What pydantic-settings raises for a complex field it cannot decode (none is left that it
    # decodes itself, but a new one could be).
    problem = SettingsError('error parsing value for field "exchanges" from source "Env"')
    assert settings_problems(problem) == [
        "OPPSCAN_EXCHANGES: cannot parse the value "
        "(allowed: comma-separated exchange ids, e.g. binance,okx,bybit)"
    ]
    assert settings_problems(ValueError("something else")) is None
