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
# Public (it is in this file): fit only for the embedded demo on a loopback address.
DEV_JWT_SECRET = "oppscan-dev-secret-change-me-32-bytes-or-more"
MIN_JWT_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
MAKE_A_SECRET = "OPPSCAN_JWT_SECRET=$(openssl rand -hex 32)"
DAY_SECONDS = 86_400


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
        default=SecretStr(DEV_JWT_SECRET),
        description="the HS256 secret, at least 32 bytes (openssl rand -hex 32); unset = a "
        "public development secret, refused except by the embedded demo on a loopback address",
    )
    jwt_public_key: str | None = Field(default=None, description="PEM; enables RS256 tokens")
    max_token_ttl_seconds: int = Field(
        default=30 * DAY_SECONDS,
        gt=0,
        le=365 * DAY_SECONDS,
        description="whole seconds, 1 to 31536000: a token whose expiry is further away is "
        "refused, and `oppscan token --ttl` may not exceed it",
    )

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

    @property
    def dev_jwt_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET

    def jwt_secret_problem(self) -> str | None:
        """Why the HS256 secret cannot guard tokens (one line, naming the variable and how to
        make a good one), or None. HS256 is always accepted, RS256 or not, so this holds for
        every process that signs or verifies tokens."""
        if self.dev_jwt_secret:
            return (
                "OPPSCAN_JWT_SECRET: unset, and the development secret is public (anyone can "
                f"forge tokens with it); set your own: {MAKE_A_SECRET}"
            )
        size = len(self.jwt_secret.get_secret_value().encode())
        if size < MIN_JWT_SECRET_BYTES:
            return (
                f"OPPSCAN_JWT_SECRET: {size} bytes is too short to sign HS256 tokens (allowed: "
                f"at least {MIN_JWT_SECRET_BYTES} bytes, e.g. {MAKE_A_SECRET})"
            )
        return None


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"not {what}") from None
