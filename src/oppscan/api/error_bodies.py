"""The JSON of every refusal, as models: the handlers build their bodies from them, and the
OpenAPI document declares them, so the two cannot differ."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(description="dotted path, e.g. `portfolio.holdings.0.quantity`")
    message: str
    allowed: list[Any] | None = Field(description="what the field accepts, when it can be said")


class Refusal(BaseModel):
    success: Literal[False] = False
    message: str = Field(description="what went wrong, for a person")


class Unauthorized(Refusal):
    """401: the bearer token is missing, malformed, expired or badly signed."""

    status: Literal["unauthorized"] = "unauthorized"


class NotFound(Refusal):
    """404: no such scan for this user (another user's scan answers exactly the same)."""

    status: Literal["not_found"] = "not_found"


class PayloadTooLarge(Refusal):
    """413: the request body is larger than the service accepts."""

    status: Literal["payload_too_large"] = "payload_too_large"
    limit_bytes: int


class InvalidRequest(Refusal):
    """422: a field is wrong; ``field``, ``allowed`` and ``message`` describe the first."""

    status: Literal["invalid_request"] = "invalid_request"
    field: str = Field(description="the first wrong field, as a dotted path")
    allowed: list[Any] | None = Field(description="what that field accepts, when it can be said")
    errors: list[FieldError] = Field(description="every wrong field")


class RateLimited(Refusal):
    """429: too many scans started this minute; ``Retry-After`` says when to try again."""

    status: Literal["rate_limited"] = "rate_limited"
    retry_after: int = Field(description="seconds until a new scan may start")
    limit: int = Field(description="scans per minute allowed for the token's tier")


class StoreUnavailable(Refusal):
    """503: the scan store cannot be reached; nothing is lost, try again (``Retry-After``)."""

    status: Literal["store_unavailable"] = "store_unavailable"


def body(model: Refusal) -> dict[str, Any]:
    return model.model_dump(mode="json")
