"""``Settings``: each variable's accepted forms, and its bad values refused when a process starts
(the CLI prints the refusal as one line: tests/unit/cli/test_errors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from oppscan.settings import Settings


def refused_field(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(f"OPPSCAN_{name}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    return str(error["loc"][0])


def test_exchanges_are_comma_separated_or_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_EXCHANGES", " binance, okx ,")
    assert Settings().exchanges == ["binance", "okx"]
    monkeypatch.setenv("OPPSCAN_EXCHANGES", '["bybit"]')
    assert Settings().exchanges == ["bybit"]
    assert refused_field(monkeypatch, "EXCHANGES", "") == "exchanges"
    assert refused_field(monkeypatch, "EXCHANGES", "[binance") == "exchanges"


def test_scans_per_minute_is_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_SCANS_PER_MINUTE", '{"basic": 2, "pro": 0}')
    assert Settings().scans_per_minute == {"basic": 2, "pro": 0}
    for bad in ("basic=2", "[1]", '{"basic": -1}', '{"basic": "many"}'):
        assert refused_field(monkeypatch, "SCANS_PER_MINUTE", bad) == "scans_per_minute"


def test_market_source_is_synthetic_ccxt_or_an_existing_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorded = tmp_path / "market.npz"
    recorded.write_bytes(b"")
    for good in ("synthetic", "ccxt", str(recorded)):
        monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", good)
        assert Settings().market_source == good
    for bad in ("synthetc", str(tmp_path / "missing.npz"), str(tmp_path)):
        assert refused_field(monkeypatch, "MARKET_SOURCE", bad) == "market_source"


def test_log_level_and_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPSCAN_LOG_LEVEL", "warning")
    assert Settings().log_level == "WARNING"
    assert refused_field(monkeypatch, "LOG_LEVEL", "chatty") == "log_level"
    monkeypatch.delenv("OPPSCAN_LOG_LEVEL")
    monkeypatch.setenv("OPPSCAN_REDIS_URL", "")
    assert Settings().embedded
    monkeypatch.setenv("OPPSCAN_REDIS_URL", "rediss://:secret@host:6380/2")
    assert not Settings().embedded
    assert refused_field(monkeypatch, "REDIS_URL", "host:6379") == "redis_url"


def test_numbers_keep_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refused_field(monkeypatch, "WORKER_CONCURRENCY", "0") == "worker_concurrency"
    monkeypatch.delenv("OPPSCAN_WORKER_CONCURRENCY")
    assert refused_field(monkeypatch, "SCAN_DEADLINE_SECONDS", "-1") == "scan_deadline_seconds"


def test_every_setting_says_what_it_allows() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
