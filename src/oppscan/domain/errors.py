"""Faults every layer may name: raised by an adapter, answered by an entrypoint.

They live here, beside the nouns, so the API can map a store outage to 503 without importing
the store's adapters, and a scan can end ``failed`` with a market outage's reason.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The store cannot be reached. Never to be answered as "not found"."""


class MarketDataUnavailable(RuntimeError):
    """No market snapshot could be had in time (the fetching process is stuck or the source
    fails)."""
