"""Commands that need no scientific stack start without importing it: what ``oppscan`` imports
to start, and what listing the strategy catalog imports. (How long that takes is measured by
``benchmarks/bench_cli.py``, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "statsmodels", "pandas")


def imported_after(statement: str) -> set[str]:
    """The modules (and their top-level packages) a fresh interpreter has imported after
    ``statement``."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    modules: list[str] = json.loads(run.stdout)
    return {name.split(".")[0] for name in modules} | set(modules)


def test_starting_the_cli_imports_none_of_what_commands_need() -> None:
    loaded = imported_after("import oppscan.cli.main")
    for package in (*HEAVY, "httpx", "jwt", "fastapi", "uvicorn", "redis", "pydantic_settings"):
        assert package not in loaded, package
    assert "oppscan.bootstrap" not in loaded and "oppscan.cli.market_cmd" in loaded


def test_the_catalog_imports_neither_scipy_nor_statsmodels() -> None:
    loaded = imported_after("from oppscan.strategies.registry import load_strategies as s; s()")
    assert not {"scipy", "statsmodels", "pandas"} & loaded


def test_a_process_that_runs_scans_loads_them_at_start() -> None:
    loaded = imported_after(
        "from oppscan.bootstrap import bootstrap; from oppscan.settings import Settings; "
        "bootstrap(Settings(redis_url=None))"
    )
    assert {"scipy.optimize", "scipy.signal", "scipy.special", "statsmodels.tsa.stattools"} <= (
        loaded
    )
