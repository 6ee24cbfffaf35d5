"""The strategy catalog: every strategy a scan can run, in catalog order.

Importing this module imports every strategy (and numpy with them); import it where the catalog
is built, never from ``oppscan.strategies`` itself. The strategies import scipy and statsmodels
inside the functions that use them, so listing the catalog (``oppscan strategies``) takes a
fraction of a second; a process that runs scans calls ``preload()`` at start instead, so that no
scan pays for those imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from oppscan.strategies.base import Strategy
from oppscan.strategies.derivatives.complex_strategy import STRATEGY as COMPLEX_STRATEGY
from oppscan.strategies.derivatives.funding_arbitrage import STRATEGY as FUNDING_ARBITRAGE
from oppscan.strategies.derivatives.futures_trade import STRATEGY as FUTURES_TRADE
from oppscan.strategies.derivatives.options_trade import STRATEGY as OPTIONS_TRADE
from oppscan.strategies.portfolio.hedge_position import STRATEGY as HEDGE_POSITION
from oppscan.strategies.portfolio.portfolio_optimization import (
    STRATEGY as PORTFOLIO_OPTIMIZATION,
)
from oppscan.strategies.portfolio.risk_management import STRATEGY as RISK_MANAGEMENT
from oppscan.strategies.relative_value.pairs_trading import STRATEGY as PAIRS_TRADING
from oppscan.strategies.relative_value.statistical_arbitrage import (
    STRATEGY as STATISTICAL_ARBITRAGE,
)
from oppscan.strategies.spot.market_making import STRATEGY as MARKET_MAKING
from oppscan.strategies.spot.scalping import STRATEGY as SCALPING
from oppscan.strategies.spot.spot_breakout import STRATEGY as SPOT_BREAKOUT
from oppscan.strategies.spot.spot_mean_reversion import STRATEGY as SPOT_MEAN_REVERSION
from oppscan.strategies.spot.spot_momentum import STRATEGY as SPOT_MOMENTUM

# Add a new strategy here (see README, "Adding a strategy"); the order is the catalog's.
STRATEGIES: tuple[Strategy, ...] = (
    FUNDING_ARBITRAGE,
    FUTURES_TRADE,
    OPTIONS_TRADE,
    COMPLEX_STRATEGY,
    HEDGE_POSITION,
    RISK_MANAGEMENT,
    PORTFOLIO_OPTIMIZATION,
    SPOT_MOMENTUM,
    SPOT_MEAN_REVERSION,
    SPOT_BREAKOUT,
    SCALPING,
    MARKET_MAKING,
    PAIRS_TRADING,
    STATISTICAL_ARBITRAGE,
)


# What the strategies import on first use; a strategy that imports another heavy module inside a
# function adds it here.
HEAVY_MODULES = ("scipy.optimize", "scipy.signal", "scipy.special", "statsmodels.tsa.stattools")


def preload() -> None:
    """Import what the strategies import on first use: for processes that run scans."""
    for name in HEAVY_MODULES:
        importlib.import_module(name)


def load_strategies(strategies: Iterable[Strategy] = STRATEGIES) -> dict[str, Strategy]:
    """The catalog (default: every strategy) by id, in catalog order; two strategies may not
    share an id."""
    found: dict[str, Strategy] = {}
    for strategy in strategies:
        sid = strategy.info.id
        if sid in found:
            raise ValueError(f"two strategies share the id {sid!r}")
        found[sid] = strategy
    return found
