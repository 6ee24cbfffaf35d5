"""Bearer tokens: issue (for the CLI and demos) and verify (for every ``/api/v1`` request).

HS256 with ``OPPSCAN_JWT_SECRET``; RS256 with ``OPPSCAN_JWT_PUBLIC_KEY`` when it is set. The key
is chosen by the token's declared algorithm from a fixed table, so a token cannot pick its own key
(the classic HS256-with-the-public-key confusion). A token valid for longer than
``OPPSCAN_MAX_TOKEN_TTL_SECONDS`` from now is refused: a leaked token dies within that time.
Whether the secret is strong enough is the entrypoints' check (``Settings.jwt_secret_problem``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt

from oppscan.service.principal import Principal
from oppscan.settings import Settings

TIERS = ("basic", "pro", "enterprise")
LEEWAY_SECONDS = 5  # clock skew between the machine that issued a token and this one


class TokenInvalid(Exception):  # 401: reads as what the caller answers
    """The token is missing, malformed, expired or badly signed; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_token(
    settings: Settings,
    user_id: str,
    strategies: Sequence[str] | None = None,
    tier: str | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """An HS256 token signed with the configured secret, valid for ``ttl_seconds`` (at most
    ``OPPSCAN_MAX_TOKEN_TTL_SECONDS``)."""
    if not user_id:
        raise ValueError("user_id must not be empty")
    if ttl_seconds > settings.max_token_ttl_seconds:
        raise ValueError(
            f"a lifetime of {ttl_seconds} s is above OPPSCAN_MAX_TOKEN_TTL_SECONDS "
            f"({settings.max_token_ttl_seconds} s): the API would refuse the token"
        )
    if tier is not None and tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + int(ttl_seconds)}
    if strategies is not None:
        claims["strategies"] = list(strategies)
    if tier is not None:
        claims["tier"] = tier
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _key_for(settings: Settings, algorithm: object) -> str:
    if algorithm == "HS256":
        return settings.jwt_secret.get_secret_value()
    if algorithm == "RS256" and settings.jwt_public_key:
        return settings.jwt_public_key
    accepted = ["HS256", "RS256"] if settings.jwt_public_key else ["HS256"]
    raise TokenInvalid(f"algorithm {algorithm!r} not accepted; use one of {accepted}")


def verify_token(settings: Settings, token: str) -> Principal:
    """The principal a valid token names; ``TokenInvalid`` for anything else."""
    return _verified(settings, token)[0]


class VerifiedTokens:
    """``verify_token`` with memory: a token checked once is not decoded again until it expires.

    Safe to cache: a token's claims are signed and cannot change, and its expiry is checked on
    every hit. Signature checks were a quarter of the time of a status poll (the hot path).
    """

    def __init__(
        self,
        settings: Settings,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._max_entries = max_entries
        self._clock = clock
        self._known: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        known = self._known.get(token)
        if known is not None:
            if self._clock() < known[1] + LEEWAY_SECONDS:
                return known[0]
            del self._known[token]
            raise TokenInvalid("token expired")
        principal, expires_at = _verified(self._settings, token, self._clock())
        if len(self._known) >= self._max_entries:
            self._known.clear()  # bounded; a cold start of the cache costs one decode per token
        self._known[token] = (principal, expires_at)
        return principal


def _verified(settings: Settings, token: str, now: float | None = None) -> tuple[Principal, float]:
    try:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        claims = jwt.decode(
            token,
            _key_for(settings, algorithm),
            algorithms=[str(algorithm)],
            options={"require": ["sub", "exp"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenInvalid("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenInvalid("bad signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenInvalid(f"token lacks the required claim {exc.claim!r}") from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"malformed token: {exc}") from exc
    expires_at = claims.get("exp")
    if not isinstance(expires_at, int | float):
        raise TokenInvalid("claim 'exp' must be a number")
    ahead = float(expires_at) - (time.time() if now is None else now)
    longest = settings.max_token_ttl_seconds
    if ahead > longest + LEEWAY_SECONDS:
        raise TokenInvalid(
            f"token valid for too long: it expires in {ahead:.0f} s, and this service accepts "
            f"at most {longest} s (OPPSCAN_MAX_TOKEN_TTL_SECONDS); get a shorter-lived token"
        )
    return _principal(claims), float(expires_at)


def _principal(claims: dict[str, Any]) -> Principal:
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise TokenInvalid("claim 'sub' must be a non-empty string")
    strategies = claims.get("strategies")
    if strategies is not None and (
        not isinstance(strategies, list) or not all(isinstance(s, str) for s in strategies)
    ):
        raise TokenInvalid("claim 'strategies' must be a list of strategy ids")
    tier = claims.get("tier", "basic")
    if tier not in TIERS:
        raise TokenInvalid(f"claim 'tier' must be one of {list(TIERS)}")
    return Principal(
        user_id=user_id,
        allowed_strategies=frozenset(strategies) if strategies is not None else None,
        tier=str(tier),
    )
