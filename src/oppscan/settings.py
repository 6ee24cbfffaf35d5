"""Configuration: every ``OPPSCAN_*`` variable of the contract, read once at start.

A bad value fails here, when a process starts, with a ``ValidationError`` naming the field; each
field's description says what it allows (the CLI prints it beside the error).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
MARKET_SOURCES = ("synthetic", "ccxt")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPPSCAN_", extra="ignore")

    redis_url: str | None = Field(
        default=None,
        description="a redis://, rediss:// or unix:// URL; unset = the embedded default",
    )
    key_prefix: str = Field(
        default="oppscan", min_length=1, description="a non-empty prefix of every Redis key"
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr("oppscan-dev-secret-change-me-32-bytes-or-more"),
        description="the HS256 signing secret",
    )
    jwt_public_key: str | None = Field(default=None, description="PEM; enables RS256 tokens")

    scan_deadline_seconds: float = Field(default=120.0, gt=0, description="seconds > 0")
    result_ttl_seconds: int = Field(default=86_400, gt=0, description="whole seconds > 0")
    fresh_seconds: float = Field(default=300.0, ge=0, description="seconds >= 0")

    market_source: str = Field(
        default="synthetic",
        description="synthetic | ccxt | the path of a recorded snapshot file",
    )
    synthetic_seed: int = Field(default=7, description="an integer")
    synthetic_latency_ms: float = Field(default=0.0, ge=0, description="milliseconds >= 0")
    # NoDecode: the environment's value reaches the validator as it is (comma-separated).
    exchanges: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["binance", "okx", "bybit"],
        min_length=1,
        description="comma-separated exchange ids, e.g. binance,okx,bybit",
    )
    market_bucket_seconds: int = Field(
        default=60,
        gt=0,
        description="whole seconds > 0: a market snapshot is shared within this time bucket",
    )

    scans_per_minute: Annotated[dict[str, Annotated[int, Field(ge=0)]], NoDecode] = Field(
        default_factory=lambda: {"basic": 10, "pro": 30, "enterprise": 120},
        description='a JSON object of tier to scans per minute, e.g. {"basic":10,"pro":30}',
    )
    worker_concurrency: int = Field(default=4, gt=0, description="an integer > 0")
    log_level: LogLevel = Field(default="INFO", description=" | ".join(get_args(LogLevel)))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None  # OPPSCAN_REDIS_URL= (empty) means unset
        if value is not None and not value.startswith(REDIS_SCHEMES):
            raise ValueError(f"not a Redis URL: it must start with {', '.join(REDIS_SCHEMES)}")
        return value

    @field_validator("market_source")
    @classmethod
    def _market_source(cls, value: str) -> str:
        choice = value.strip()
        if choice == "ccxt" and importlib.util.find_spec("ccxt") is None:
            raise ValueError("ccxt is not installed: pip install 'oppscan[ccxt]'")
        if choice in MARKET_SOURCES or Path(choice).expanduser().is_file():
            return choice
        raise ValueError(f"{choice!r} is neither synthetic, ccxt nor an existing file")

    @field_validator("exchanges", mode="before")
    @classmethod
    def _split_exchanges(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, str):
            return _json(value, "a JSON list")
        return value

    @field_validator("scans_per_minute", mode="before")
    @classmethod
    def _parse_limits(cls, value: object) -> object:
        return _json(value, "a JSON object") if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def embedded(self) -> bool:
        return not self.redis_url


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"not {what}") from None
