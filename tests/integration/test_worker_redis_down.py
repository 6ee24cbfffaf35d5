"""A scan worker whose Redis goes away waits for it, quietly, and works again when it is back.

A Redis of the test's own on a free loopback port (so stopping it disturbs nobody), and a real
``oppscan worker`` on it. SAQ retries a failed dequeue at once; before the backoff a worker spun
at 0.4-1.0 core of failed connects for as long as Redis was down.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from oppscan.engine.saq_queue import SaqJobQueue, job_key, saq_queue
from tests.integration.processes import OPPSCAN, cluster_env, free_port

pytestmark = [pytest.mark.processes]

SECRET = "worker-redis-down-test-secret-of-32-bytes"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"redis-server on {port} did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = start_redis(port, tmp_path)
    try:
        yield port, tmp_path
    finally:
        proc.kill()
        proc.wait()


def test_a_worker_backs_off_while_redis_is_down_and_resumes(
    own_redis: tuple[int, Path], tmp_path: Path
) -> None:
    port, workdir = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    prefix = f"oppscan-test-{uuid.uuid4().hex[:12]}"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [OPPSCAN, "worker", "--concurrency", "4"],
        env=cluster_env(url, prefix, SECRET),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while b"worker.start" not in (tmp_path / "worker.log").read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)

        redis.Redis(port=port).shutdown(nosave=True)
        time.sleep(1.0)  # the first failures, and the backoff reaching its ceiling
        before, started = cpu_seconds(worker.pid), time.monotonic()
        time.sleep(4.0)
        share = (cpu_seconds(worker.pid) - before) / (time.monotonic() - started)
        assert worker.poll() is None
        assert share < 0.15, f"the worker used {share:.2f} of a core while Redis was down"

        restarted = start_redis(port, workdir)
        try:
            assert asyncio.run(a_job_runs(url, prefix)) == "complete"
        finally:
            restarted.kill()
            restarted.wait()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert '"outcome": "store_unavailable"' in text or "store_unavailable" in text


async def a_job_runs(url: str, prefix: str) -> str:
    """A job for a scan nobody created: the worker takes it and finds nothing to run."""
    queue = SaqJobQueue(saq_queue(url, prefix))
    await queue.start()
    try:
        await queue.enqueue_strategies("scan_gone", ("spot_momentum_strategy",), time.time() + 30)
        raw = saq_queue(url, prefix)
        async with asyncio.timeout(20):
            while True:
                job = await raw.job(job_key("scan_gone", "spot_momentum_strategy"))
                if job is not None and job.status in ("complete", "failed", "aborted"):
                    await raw.disconnect()
                    return str(job.status.value)
                await asyncio.sleep(0.2)
    finally:
        await queue.close()
