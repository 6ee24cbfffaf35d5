"""Planting functions for the derivatives strategies (owned by the derivatives engineer)."""

from __future__ import annotations

from collections.abc import Callable

from oppscan.market.synthetic.draft import MarketDraft

PLANTERS: list[Callable[[MarketDraft], None]] = []
