"""Market data: the snapshot schema, the port, its sources, and the one shared fetch.

- ``snapshot``: ``MarketSnapshot`` (immutable column arrays) and its parts.
- ``port``: ``MarketSource`` (builds a snapshot) and ``MarketData`` (what scans read).
- ``synthetic``: a seeded market with planted opportunities and their ground truth.
- ``ccxt_source``: live exchanges (optional ``ccxt`` extra); ``replay``: a recorded file.
- ``sources.build_source(settings)`` picks one from ``OPPSCAN_MARKET_SOURCE``.
- ``shared.SharedMarketData``: one fetch per (source, universe, time bucket) for every scan, in
  one process and, through Redis, across processes; ``codec``: snapshot <-> bytes (no pickle),
  also the replay file format.
"""
