"""Who is asking: the verified claims of a token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    allowed_strategies: frozenset[str] | None = None  # None: every strategy
    tier: str = "basic"
