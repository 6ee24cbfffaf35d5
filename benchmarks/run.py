"""``make bench``: every benchmark in one run, written to ``docs/benchmarks.md``.

Run from the repository root: ``python -m benchmarks.run --out docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import bench_cli, bench_market, bench_poll_cpu, bench_polls, bench_strategies

POLL_RATIO_TARGET = 0.70
P99_TARGET_MS = 20.0
STRATEGIES_TARGET_MS = 1000.0


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average before the run {os.getloadavg()[0]:.2f}"
    )


def ok(good: bool) -> str:
    return "met" if good else "**missed**"


def render(results: dict[str, Any]) -> str:
    polls, strategies, market = results["polls"], results["strategies"], results["market"]
    t, f, d = polls["throughput"], polls["fixed_rate"], polls["discover_to_complete"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} by `make bench` on {results['machine']}.",
        "Every process (4 API workers, 2 scan workers, Redis, the load generator) shares them.",
        "",
        "## Status polls: 4 web workers vs a bare FastAPI endpoint doing one Redis read",
        "",
        f"wrk, 2 threads, 64 connections, {bench_polls.WRK_SECONDS} s per round, "
        "rounds interleaved. Both answer the same body: the bare endpoint returns a copy of "
        f"the scan's status ({t['body_bytes']} bytes: ten opportunities with their evidence) "
        "read from Redis.",
        "",
        "| round | bare req/s | status req/s | bare p99 ms | status p99 ms |",
        "|---|---|---|---|---|",
    ]
    for i, r in enumerate(t["rounds"], 1):
        lines.append(
            f"| {i} | {r['bare']['rps']:.0f} | {r['status']['rps']:.0f} | "
            f"{r['bare']['p99_ms']:.1f} | {r['status']['p99_ms']:.1f} |"
        )
    lines += [
        "",
        f"Status polls reach **{t['ratio']:.0%}** of the bare endpoint's throughput "
        f"(target {POLL_RATIO_TARGET:.0%}: {ok(t['ratio'] >= POLL_RATIO_TARGET)}). Where a "
        "poll's CPU goes, what was cut and what is left: "
        "`docs/decisions/0004-status-poll-read-path.md`.",
        "",
        f"At a fixed {f['rate']} polls/s for {bench_polls.RATE_SECONDS} s (open loop, "
        f"{f['requests']} requests, {f['errors']} errors): p50 {f['p50_ms']} ms, "
        f"**p99 {f['p99_ms']} ms** (target < {P99_TARGET_MS:.0f} ms: "
        f"{ok(f['p99_ms'] < P99_TARGET_MS)}), max {f['max_ms']} ms.",
        "",
        "Where a poll's CPU goes, in one API process (ASGI calls, process time, median of 3 "
        f"rounds of {results['poll_cpu']['requests']}; `benchmarks/bench_poll_cpu.py`): the "
        f"status route {results['poll_cpu']['status_route_us']} µs, the same app's `/healthz` "
        f"{results['poll_cpu']['healthz_us']} µs (framework, middleware, the access line), the "
        f"bare route {results['poll_cpu']['bare_route_us']} µs.",
        "",
        "## POST /discover to complete (all 14 strategies, 40 symbols, 3 exchanges, a portfolio)",
        "",
        f"- cold market (first fetch of the bucket): {d['cold']['seconds']} s, "
        f"{d['cold']['status']}, {d['cold']['opportunities']} opportunities",
        f"- warm market, median of {len(d['warm'])}: **{d['warm_median_s']} s** "
        f"({', '.join(str(w['seconds']) for w in d['warm'])})",
        "",
        "## Strategy CPU time on a warm snapshot (one thread; median of "
        f"{strategies['runs']} runs after a warm-up)",
        "",
        "| symbols | all 14 strategies, CPU ms | slowest |",
        "|---|---|---|",
    ]
    for size, r in strategies["results"].items():
        slow = sorted(r["per_strategy_cpu_ms"].items(), key=lambda kv: -kv[1])[:3]
        lines.append(
            f"| {size} | {r['total_cpu_ms_median']} | "
            + ", ".join(f"{k} {v}" for k, v in slow)
            + " |"
        )
    cpu40 = strategies["results"]["40"]["total_cpu_ms_median"]
    lines += [
        "",
        f"Target at 40 symbols: under {STRATEGIES_TARGET_MS:.0f} ms: "
        f"{ok(cpu40 < STRATEGIES_TARGET_MS)}.",
        "",
        "## Market snapshot build (synthetic source), encode and decode",
        "",
        "| symbols | bar series | build ms | encode ms | decode ms | encoded MB |",
        "|---|---|---|---|---|---|",
    ]
    for size, r in market["results"].items():
        lines.append(
            f"| {size} | {r['bar_series']} | {r['build_ms_median']} | "
            f"{r['encode_ms_median']} | {r['decode_ms_median']} | {r['encoded_mb']} |"
        )
    lines += render_cli(results["cli"])
    lines += ["", "Raw figures: `docs/benchmarks.json`.", ""]
    return "\n".join(lines)


def render_cli(cli: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## CLI start-up (`benchmarks/bench_cli.py`)",
        "",
        f"Wall time of the whole `oppscan` process, median of {cli['runs']} runs after a warm-up. "
        "Commands that need no scientific stack do not import it.",
        "",
        "| command | median s | target |",
        "|---|---|---|",
    ]
    for command, r in cli["results"].items():
        target = cli["targets_s"].get(command)
        verdict = f"< {target:.0f} s: {ok(r['median_s'] < target)}" if target else ""
        lines.append(f"| `oppscan {command}` | {r['median_s']} | {verdict} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/benchmarks.md")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
    }
    results["poll_cpu"] = bench_poll_cpu.run()
    results["strategies"] = bench_strategies.run()
    results["market"] = bench_market.run()
    results["cli"] = bench_cli.run()
    with tempfile.TemporaryDirectory() as logs:
        results["polls"] = bench_polls.run(Path(logs))
    out = Path(args.out)
    out.write_text(render(results))
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
