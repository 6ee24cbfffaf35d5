"""Every planting function, in a fixed order (symbols are handed out first come, first served).

The derivatives planters run first: their candidates are few (``draft.option_symbols``, the five
largest; ``draft.future_symbols``, the ten largest), the spot planters can choose among all.
"""

from __future__ import annotations

from collections.abc import Callable

from oppscan.market.synthetic.draft import MarketDraft
from oppscan.market.synthetic.plants import derivatives, spot

Planter = Callable[[MarketDraft], None]

PLANTERS: list[Planter] = [*derivatives.PLANTERS, *spot.PLANTERS]


def plant_all(draft: MarketDraft) -> None:
    for planter in PLANTERS:
        planter(draft)
