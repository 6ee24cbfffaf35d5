"""Planting functions for the spot and statistical strategies (owned by the spot engineer)."""

from __future__ import annotations

from collections.abc import Callable

from oppscan.market.synthetic.draft import MarketDraft

PLANTERS: list[Callable[[MarketDraft], None]] = []
