"""Builds the configured market source from settings (``OPPSCAN_MARKET_SOURCE``)."""

from __future__ import annotations

from pathlib import Path

from oppscan.market.port import MarketSource
from oppscan.market.replay import ReplaySource
from oppscan.market.synthetic import SyntheticSource
from oppscan.settings import Settings


def build_source(settings: Settings) -> MarketSource:
    """``synthetic`` | ``ccxt`` | a path to a recorded snapshot (``OPPSCAN_MARKET_SOURCE``)."""
    choice = settings.market_source.strip()
    if choice == "synthetic":
        return SyntheticSource(
            seed=settings.synthetic_seed,
            exchanges=tuple(settings.exchanges),
            latency_ms=settings.synthetic_latency_ms,
        )
    if choice == "ccxt":
        from oppscan.market.ccxt_source import CcxtSource  # ccxt is an optional extra

        return CcxtSource(exchanges=tuple(settings.exchanges))
    path = Path(choice).expanduser()
    if path.is_file():
        return ReplaySource(path)
    raise ValueError(
        f"OPPSCAN_MARKET_SOURCE={choice!r}: expected 'synthetic', 'ccxt' or the path of a "
        "recorded snapshot file (no such file)"
    )
