"""The layer contracts in ``.importlinter`` hold on this tree, and each one fails on an import
against the direction it states (a copy of the package with one wrong import added)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package under ``src`` (first on the import path)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / ".importlinter"), "--no-cache"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_tree_keeps_every_contract() -> None:
    run = lint_imports(ROOT / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


LAYERS = "Layers run one way, from the entrypoints down to the domain"
PORTS = "The use cases see ports, never an adapter (bootstrap wires them)"
API = "The HTTP API reaches scans and markets only through the service"
APART = "The CLI and the HTTP API share no code but through the layers below them"
PURE = "Strategies are pure: no I/O, no web, no queue, no clock of their own"
DOMAIN = "The domain imports nothing of ours"
LEAVES = "settings and logs import nothing of ours"


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("domain/models.py", "import oppscan.service.scans", LAYERS),
        ("store/port.py", "import oppscan.engine.local", LAYERS),
        ("market/snapshot.py", "import oppscan.strategies.costs", LAYERS),
        ("service/scans.py", "import oppscan.bootstrap", LAYERS),
        ("service/scans.py", "import oppscan.store.redis_store", PORTS),
        ("api/scan_routes.py", "import oppscan.store.port", API),
        ("cli/scan_cmd.py", "import oppscan.api.app", APART),
        ("strategies/costs.py", "import redis", PURE),
        ("domain/models.py", "import oppscan.settings", DOMAIN),
        ("settings.py", "import oppscan.domain.models", LEAVES),
    ],
)
def test_an_import_against_the_direction_breaks_its_contract(
    tmp_path: Path, module: str, wrong_import: str, contract: str
) -> None:
    package = tmp_path / "oppscan"
    shutil.copytree(ROOT / "src" / "oppscan", package, ignore=shutil.ignore_patterns("__pycache__"))
    target = package / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert contract in broken_contracts(run.stdout), run.stdout


def broken_contracts(report: str) -> list[str]:
    """The names of the contracts the report says are broken (a name may wrap over lines)."""
    summary = report.split("dependencies.", 1)[1].split("Contracts:", 1)[0]
    verdicts = re.findall(r"(.+?) (KEPT|BROKEN)", " ".join(summary.replace("-", " ").split()))
    return [name.strip() for name, verdict in verdicts if verdict == "BROKEN"]
