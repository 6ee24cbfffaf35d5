"""CPU time of every strategy on a warm snapshot, by universe size (one core, one thread)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from oppscan.domain.models import Holding, Portfolio
from oppscan.market.synthetic import SyntheticSource
from oppscan.strategies.base import StrategyRequest, StrategySkipped
from oppscan.strategies.registry import load_strategies

SIZES = (40, 200, 1000)
PORTFOLIO = Portfolio(
    holdings=(
        Holding(symbol="BTC/USDT", quantity=0.5),
        Holding(symbol="ETH/USDT", quantity=4),
        Holding(symbol="SOL/USDT", quantity=50),
    ),
    cash_usd=2000,
)


def run(sizes: tuple[int, ...] = SIZES, seed: int = 7, runs: int = 3) -> dict[str, Any]:
    strategies = load_strategies()
    request = StrategyRequest(capital_usd=10_000, portfolio=PORTFOLIO)
    results: dict[str, Any] = {}
    for count in sizes:
        snapshot = SyntheticSource(seed, symbols_count=count).build()
        per_strategy: dict[str, list[float]] = {sid: [] for sid in strategies}
        found: dict[str, int] = {}
        totals = []
        for _ in range(runs + 1):  # the first run warms caches and lazy imports; not counted
            total = 0.0
            for sid, strategy in strategies.items():
                started = time.process_time()
                try:
                    found[sid] = len(strategy.scan(snapshot, request))
                except StrategySkipped:
                    found[sid] = 0
                spent = time.process_time() - started
                per_strategy[sid].append(spent)
                total += spent
            totals.append(total)
        results[str(count)] = {
            "symbols": len(snapshot.symbols),
            "exchanges": len(snapshot.exchanges),
            "total_cpu_ms_median": round(statistics.median(totals[1:]) * 1000, 1),
            "per_strategy_cpu_ms": {
                sid: round(statistics.median(t[1:]) * 1000, 1) for sid, t in per_strategy.items()
            },
            "opportunities": found,
        }
    return {"benchmark": "strategies", "seed": seed, "runs": runs, "results": results}
