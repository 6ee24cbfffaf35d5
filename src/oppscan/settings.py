"""Configuration: every ``OPPSCAN_*`` variable of the contract, read once at start."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPPSCAN_", extra="ignore")

    redis_url: str | None = Field(
        default=None, description="Shared store and job queue; unset = the embedded default."
    )
    key_prefix: str = Field(default="oppscan", description="Prefix of every Redis key.")
    jwt_secret: SecretStr = Field(
        default=SecretStr("oppscan-dev-secret-change-me-32-bytes-or-more"),
        description="HS256 signing secret.",
    )
    jwt_public_key: str | None = Field(default=None, description="PEM; enables RS256 tokens.")

    scan_deadline_seconds: float = Field(default=120.0, gt=0)
    result_ttl_seconds: int = Field(default=86_400, gt=0)
    fresh_seconds: float = Field(default=300.0, ge=0)

    market_source: str = Field(default="synthetic", description="synthetic | ccxt | a file path")
    synthetic_seed: int = 7
    synthetic_latency_ms: float = Field(default=0.0, ge=0)
    exchanges: list[str] = Field(default_factory=lambda: ["binance", "okx", "bybit"])
    market_bucket_seconds: int = Field(
        default=60, gt=0, description="A market snapshot is shared within this time bucket."
    )

    scans_per_minute: dict[str, int] = Field(
        default_factory=lambda: {"basic": 10, "pro": 30, "enterprise": 120},
        description="Scans a user may start per minute, by tier; over it answers 429.",
    )
    worker_concurrency: int = Field(default=4, gt=0)
    log_level: str = "INFO"

    @field_validator("exchanges", mode="before")
    @classmethod
    def _split_exchanges(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def embedded(self) -> bool:
        return not self.redis_url
