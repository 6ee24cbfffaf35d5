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


def test_the_jwt_secret_must_be_strong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPPSCAN_JWT_SECRET", raising=False)
    unset = Settings().jwt_secret_problem()
    assert unset is not None
    assert "OPPSCAN_JWT_SECRET" in unset and "openssl rand -hex 32" in unset
    short = Settings(jwt_secret="s" * 31).jwt_secret_problem()
    assert short is not None and "32 bytes" in short and "openssl rand -hex 32" in short
    # Bytes, not characters: 16 two-byte characters are 32 bytes.
    assert Settings(jwt_secret="é" * 16).jwt_secret_problem() is None
    assert Settings(jwt_secret="s" * 32).jwt_secret_problem() is None


def test_max_token_ttl_is_thirty_days_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_token_ttl_seconds == 30 * 86_400
    monkeypatch.setenv("OPPSCAN_MAX_TOKEN_TTL_SECONDS", "3600")
    assert Settings().max_token_ttl_seconds == 3600
    for bad in ("0", "-1", str(365 * 86_400 + 1), "forever"):
        assert refused_field(monkeypatch, "MAX_TOKEN_TTL_SECONDS", bad) == "max_token_ttl_seconds"
