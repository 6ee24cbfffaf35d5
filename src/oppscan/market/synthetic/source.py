"""``SyntheticSource``: a seeded, deterministic market with the ground truth it planted."""

from __future__ import annotations

import asyncio

import numpy as np

from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic.base import DEFAULT_AS_OF_MS, DEFAULT_EXCHANGES, build_draft
from oppscan.market.synthetic.draft import MarketDraft, Planted
from oppscan.market.synthetic.listing import build_listing
from oppscan.market.synthetic.plants import plant_all
from oppscan.market.synthetic.render import render_snapshot


class SyntheticSource:
    """A ``MarketSource``: one continuous market per ``seed``, shown at the minute of ``as_of_ms``
    (a later minute shows the same closed bars and more; see ``latent``).

    ``plant=False`` is the control market: the latent random walks, fair funding and basis,
    options on the smile around realised volatility, no planted opportunity. ``latency_ms`` is
    slept by every kind of market data fetched (concurrently: a fetch takes about
    ``latency_ms``), to act out slow exchanges.
    """

    def __init__(
        self,
        seed: int,
        symbols_count: int = 40,
        exchanges: tuple[str, ...] | list[str] = DEFAULT_EXCHANGES,
        latency_ms: float = 0.0,
        plant: bool = True,
    ) -> None:
        self.seed = seed
        self.symbols_count = symbols_count
        self.exchanges = tuple(exchanges)
        self.latency_ms = latency_ms
        self.plant = plant
        self.name = f"synthetic-{seed}-{symbols_count}{'' if plant else '-control'}"
        listing = build_listing(symbols_count, np.random.default_rng([seed, 0]))
        self._universe = tuple(listing.symbols)
        self._last_as_of_ms: int | None = None

    def universe(self) -> tuple[str, ...]:
        return self._universe

    def draft(self, as_of_ms: int = DEFAULT_AS_OF_MS) -> MarketDraft:
        """The planted (or control) draft for ``as_of_ms``, before rendering.

        The synthetic market ticks once a minute: ``as_of_ms`` is floored to its minute, so any
        time within a minute gives the same snapshot, timestamp included.
        """
        draft = build_draft(
            self.seed,
            symbols_count=self.symbols_count,
            exchanges=self.exchanges,
            as_of_ms=as_of_ms - as_of_ms % 60_000,
        )
        if self.plant:
            plant_all(draft)
        return draft

    def build(self, as_of_ms: int = DEFAULT_AS_OF_MS, *, bars: bool = True) -> MarketSnapshot:
        """The snapshot, synchronously and without latency (tests, benchmarks, recording)."""
        self._last_as_of_ms = as_of_ms
        return render_snapshot(self.draft(as_of_ms), self.name, bars=bars)

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        if self.latency_ms > 0:
            # Every kind of data is fetched concurrently: the whole fetch takes about one latency.
            await asyncio.sleep(self.latency_ms / 1000.0)
        return await asyncio.to_thread(self.build, as_of_ms)

    def ground_truth(self, as_of_ms: int | None = None) -> list[Planted]:
        """What was planted at ``as_of_ms`` (default: the last fetch, else the default time)."""
        if not self.plant:
            return []
        when = as_of_ms if as_of_ms is not None else self._last_as_of_ms or DEFAULT_AS_OF_MS
        return list(self.draft(when).ground_truth)

    async def close(self) -> None:
        return None
