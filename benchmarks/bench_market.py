"""Market layer benchmark: synthetic snapshot build time and encoded size by universe size.

``python benchmarks/bench_market.py`` prints JSON; ``run()`` returns the same dict.
Build = base generator + planters + render (what ``SyntheticSource.fetch`` costs without
latency); encode/decode = the codec that Redis and replay files use.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from oppscan.market.codec import decode_snapshot, encode_snapshot
from oppscan.market.synthetic import SyntheticSource

SIZES = (40, 200, 1000)


def _median_seconds(action: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(sizes: tuple[int, ...] = SIZES, seed: int = 7) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for count in sizes:
        runs = 5 if count <= 200 else 3
        source = SyntheticSource(seed, symbols_count=count)
        build_s = _median_seconds(source.build, runs)
        snapshot = source.build()
        encoded = encode_snapshot(snapshot)
        results[str(count)] = {
            "symbols": len(snapshot.symbols),
            "exchanges": len(snapshot.exchanges),
            "bar_series": len(snapshot.ohlcv),
            "bars": sum(len(b) for b in snapshot.ohlcv.values()),
            "build_ms_median": round(build_s * 1000, 1),
            "encode_ms_median": round(
                _median_seconds(lambda s=snapshot: encode_snapshot(s), runs) * 1000, 1
            ),
            "decode_ms_median": round(
                _median_seconds(lambda b=encoded: decode_snapshot(b), runs) * 1000, 1
            ),
            "encoded_mb": round(len(encoded) / 1e6, 2),
            "runs": runs,
        }
    return {"benchmark": "market", "seed": seed, "results": results}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
