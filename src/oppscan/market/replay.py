"""``ReplaySource``: a recorded snapshot (``oppscan market record``), served as if live."""

from __future__ import annotations

import hashlib
from pathlib import Path

from oppscan.market.codec import decode_snapshot
from oppscan.market.snapshot import MarketSnapshot


class ReplaySource:
    """Serves the snapshot recorded in ``path`` for every fetch, with its recorded ``as_of_ms``.

    The recorded time is kept (not the time asked for): expiries, funding times and bar times
    in the file are relative to it, and strategies read time from the snapshot.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        data = self.path.read_bytes()
        self._snapshot = decode_snapshot(data)
        digest = hashlib.blake2b(data, digest_size=6).hexdigest()
        # The content hash keeps two different recordings apart in the shared cache.
        self.name = f"replay-{digest}"

    def universe(self) -> tuple[str, ...]:
        return self._snapshot.symbols

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        return self._snapshot

    async def close(self) -> None:
        return None
