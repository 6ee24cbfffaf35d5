"""The synthetic market: a seeded generator, the planters' ground truth, and its source."""

from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS, build_draft
from oppscan.market.synthetic.draft import MarketDraft, Planted, QuoteShift
from oppscan.market.synthetic.render import render_snapshot
from oppscan.market.synthetic.source import SyntheticSource

__all__ = [
    "DEFAULT_AS_OF_MS",
    "MarketDraft",
    "Planted",
    "QuoteShift",
    "SyntheticSource",
    "build_draft",
    "render_snapshot",
]
