"""The public surface of ``oppscan.strategies`` is exactly ``__all__``; the registry is sound."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import oppscan.strategies
from oppscan.strategies import registry
from oppscan.strategies.base import StrategyInfo

CATALOG_IDS = (
    "funding_arbitrage",
    "futures_trade",
    "options_trade",
    "complex_strategy",
    "hedge_position",
    "risk_management",
    "portfolio_optimization",
    "spot_momentum_strategy",
    "spot_mean_reversion",
    "spot_breakout_strategy",
    "scalping_strategy",
    "market_making",
    "pairs_trading",
    "statistical_arbitrage",
)


def test_all_public_members_are_exported() -> None:
    # Submodules and subpackages become attributes of the package once imported: not exports.
    public = {
        name
        for name in dir(oppscan.strategies)
        if not name.startswith("_")
        and not isinstance(getattr(oppscan.strategies, name), types.ModuleType)
    }
    assert public == set(oppscan.strategies.__all__)


def test_all_exports_exist_and_are_unique() -> None:
    exported = oppscan.strategies.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(oppscan.strategies, name), name


def test_importing_the_package_loads_no_strategy() -> None:
    # The API imports oppscan.strategies.base; that must not pull in the catalog and its deps.
    code = (
        "import sys, oppscan.strategies; "
        "loaded = sorted(m for m in sys.modules if m.startswith('oppscan.strategies.')); "
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert out.split(",") == [
        "oppscan.strategies.base",
        "oppscan.strategies.calibration",
        "oppscan.strategies.costs",
    ]


def test_registry_holds_the_catalog_in_order() -> None:
    ids = tuple(s.info.id for s in registry.STRATEGIES)
    assert ids == CATALOG_IDS
    assert len(set(ids)) == len(ids)
    assert tuple(registry.load_strategies()) == CATALOG_IDS


def test_every_registered_object_satisfies_the_strategy_protocol() -> None:
    for sid, strategy in registry.load_strategies().items():
        assert isinstance(strategy.info, StrategyInfo), sid
        assert strategy.info.id == sid
        assert callable(strategy.scan), sid


def test_load_strategies_rejects_a_duplicate_id() -> None:
    first = registry.STRATEGIES[0]
    with pytest.raises(ValueError, match=first.info.id):
        registry.load_strategies((*registry.STRATEGIES, first))
