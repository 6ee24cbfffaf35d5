"""Start-up time of ``oppscan`` commands that need no scientific stack, as a user meets it: the
wall time of the whole process, median of 5 runs after one warm-up (which fills the disk cache).

``python -m benchmarks.bench_cli`` prints JSON; ``run()`` returns the same dict.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OPPSCAN = str(Path(sys.executable).parent / "oppscan")
COMMANDS = (("--version",), ("strategies",), ("--help",), ("token", "--user", "bench"))
TARGET_SECONDS = {"--version": 1.0, "strategies": 1.0}  # the commands with a target


def _seconds(args: tuple[str, ...], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([OPPSCAN, *args], env=env, capture_output=True, check=True, timeout=60)
    return time.perf_counter() - started


def run(runs: int = 5) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env["COLUMNS"] = "200"
    env["OPPSCAN_JWT_SECRET"] = "benchmark-secret-of-at-least-32-bytes-long"  # `token` needs one
    results: dict[str, Any] = {}
    for args in COMMANDS:
        _seconds(args, env)  # warm-up: not counted
        times = [_seconds(args, env) for _ in range(runs)]
        results[" ".join(args)] = {
            "median_s": round(statistics.median(times), 3),
            "runs_s": [round(t, 3) for t in times],
        }
    return {"benchmark": "cli", "runs": runs, "results": results, "targets_s": TARGET_SECONDS}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
