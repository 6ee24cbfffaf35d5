"""The strategy catalog: every strategy a scan can run, in catalog order."""

from __future__ import annotations

from oppscan.strategies.base import Strategy

# Each strategy module exposes STRATEGY; add a new one here (see README, "Adding a strategy").
_STRATEGY_MODULES: tuple[str, ...] = (
    "funding_arbitrage",
    "futures_trade",
    "options_trade",
    "complex_strategy",
    "hedge_position",
    "risk_management",
    "portfolio_optimization",
    "spot_momentum",
    "spot_mean_reversion",
    "spot_breakout",
    "scalping",
    "market_making",
    "pairs_trading",
    "statistical_arbitrage",
)


def load_strategies() -> dict[str, Strategy]:
    import importlib

    found: dict[str, Strategy] = {}
    for name in _STRATEGY_MODULES:
        strategy: Strategy = importlib.import_module(f"oppscan.strategies.{name}").STRATEGY
        found[strategy.info.id] = strategy
    return found
