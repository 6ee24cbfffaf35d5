"""Status polls against 4 web workers, beside a bare FastAPI + Redis endpoint, in one run.

Also the time from ``POST /discover`` to ``complete`` (cold market, then warm). Loopback only.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from tests.integration.processes import Cluster, cluster_env, free_port, purge

from benchmarks import bare_app
from oppscan.auth import issue_token
from oppscan.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET = "benchmark-secret-of-at-least-32-bytes-long"
WRK_SECONDS = 10
RATE = 300
RATE_SECONDS = 10
TERMINAL = {"complete", "partial", "failed", "cancelled"}


def _wrk(url: str, token: str | None) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c64", f"-d{WRK_SECONDS}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    return {
        "rps": rps,
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "p50_ms": _ms(pct["50"]),
        "p99_ms": _ms(pct["99"]),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _fixed_rate(url: str, token: str, rate: int, seconds: int) -> dict[str, float]:
    """Open loop: a request every 1/rate s whatever the answers do, so queueing shows up."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=10
    ) as client:

        async def one() -> None:
            nonlocal errors
            started = time.perf_counter()
            reply = await client.get(url)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += reply.status_code != 200

        tasks = []
        begin = time.perf_counter()
        for i in range(rate * seconds):
            await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    latencies.sort()
    return {
        "rate": rate,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "max_ms": round(latencies[-1], 2),
    }


def _discover_to_complete(base: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        started = time.perf_counter()
        reply = http.post("/api/v1/opportunities/discover", json=body).json()
        while True:
            status = http.get(reply["poll_url"]).json()
            if status["status"] in TERMINAL:
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "status": status["status"],
        "strategies": status["progress"]["total_strategies"],
        "opportunities": status["progress"]["opportunities_found_so_far"],
    }


def run(logs: Path) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("make bench needs wrk (apt-get install wrk); the Makefile installs it")
    prefix = f"oppscan-bench-{uuid.uuid4().hex[:8]}"
    env = cluster_env(REDIS_URL, prefix, SECRET)
    cluster = Cluster(env=env, base_url=f"http://127.0.0.1:{free_port()}", logs=logs)
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.bare_app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(bare_port),
            "--workers",
            "4",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={**env, "BENCH_REDIS_URL": REDIS_URL},
    )
    token = issue_token(Settings(jwt_secret=SECRET), "bench-user", tier="enterprise")
    try:
        cluster.start_worker(concurrency=4)
        cluster.start_worker(concurrency=4)
        cluster.start_api(workers=4)
        _wait(f"http://127.0.0.1:{bare_port}/bare")
        body = {
            "capital_usd": 10_000,
            "portfolio": {
                "holdings": [
                    {"symbol": "BTC", "quantity": 0.5},
                    {"symbol": "ETH", "quantity": 4},
                    {"symbol": "SOL", "quantity": 50},
                ],
                "cash_usd": 2000,
            },
        }
        cold = _discover_to_complete(cluster.base_url, token, body)
        warm = [
            _discover_to_complete(
                # A new capital makes a new scan (no reuse) on the market already fetched.
                cluster.base_url,
                token,
                {**body, "capital_usd": 10_001 + i},
            )
            for i in range(5)
        ]
        scan_id = httpx.post(
            f"{cluster.base_url}/api/v1/opportunities/discover",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ).json()["scan_id"]
        status_url = f"{cluster.base_url}/api/v1/opportunities/status/{scan_id}"
        _wait_terminal(status_url, token)
        body_bytes = httpx.get(status_url, headers={"Authorization": f"Bearer {token}"}).content
        redis.Redis.from_url(REDIS_URL).set(bare_app.KEY, body_bytes)
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        rounds = []
        for _ in range(2):  # interleaved, so both see the same machine
            rounds.append({"bare": _wrk(bare_url, None), "status": _wrk(status_url, token)})
        fixed = asyncio.run(_fixed_rate(status_url, token, RATE, RATE_SECONDS))
    finally:
        bare.terminate()
        bare.wait(timeout=15)
        cluster.stop()
        purge(REDIS_URL, prefix)
        redis.Redis.from_url(REDIS_URL).delete(bare_app.KEY)
    bare_rps = statistics.mean(r["bare"]["rps"] for r in rounds)
    status_rps = statistics.mean(r["status"]["rps"] for r in rounds)
    return {
        "discover_to_complete": {
            "cold": cold,
            "warm": warm,
            "warm_median_s": statistics.median(w["seconds"] for w in warm),
        },
        "throughput": {
            "rounds": rounds,
            "body_bytes": len(body_bytes),
            "bare_rps": round(bare_rps),
            "status_rps": round(status_rps),
            "ratio": round(status_rps / bare_rps, 3),
        },
        "fixed_rate": fixed,
    }


def _wait_terminal(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(600):
        if httpx.get(url, headers=headers).json()["status"] in TERMINAL:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} never finished")


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")
