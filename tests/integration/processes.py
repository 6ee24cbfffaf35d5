"""Starting real oppscan processes on loopback: a Redis cluster of them, or one embedded server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import redis

OPPSCAN = str(Path(sys.executable).parent / "oppscan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """``oppscan serve --workers N`` and some ``oppscan worker`` processes sharing one Redis."""

    env: dict[str, str]
    base_url: str
    logs: Path
    api: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _outputs: list[IO[bytes]] = field(default_factory=list)

    def start_api(self, workers: int) -> None:
        port = self.base_url.rsplit(":", 1)[1]
        cmd = [OPPSCAN, "serve", "--host", "127.0.0.1", "--port", port, "--workers", str(workers)]
        self.api = self._spawn(cmd, "api")
        self.wait_ready()

    def start_worker(self, concurrency: int = 1, *args: str) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        command = [OPPSCAN, "worker", "--concurrency", str(concurrency), *args]
        proc = self._spawn(command, f"worker{n}")
        self.workers.append(proc)
        return proc

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        self._outputs.append(out)
        return subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120.0) -> None:
        # Four processes importing numpy, scipy, pandas and statsmodels on two cores take a while.
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.api is not None and self.api.poll() is None, self.log("api")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"api not ready in {timeout}s\n{self.log('api')}")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        procs = [p for p in [self.api, *self.workers] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for out in self._outputs:
            out.close()


def cluster_env(redis_url: str, prefix: str, secret: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_REDIS_URL=redis_url,
        OPPSCAN_KEY_PREFIX=prefix,
        OPPSCAN_JWT_SECRET=secret,
        OPPSCAN_LOG_LEVEL="INFO",
        **extra,
    )
    return env


def purge(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    # SAQ keeps its queue under saq:<name>:* and its job records under saq:job:<name>:*.
    for pattern in (f"{prefix}:*", f"saq:{prefix}:*", f"saq:job:{prefix}:*"):
        for key in client.scan_iter(match=pattern, count=1000):
            client.delete(key)
    client.close()


@dataclass
class EmbeddedServer:
    """``oppscan serve --print-demo-token`` without Redis, as a user's ``make run`` starts it."""

    base_url: str
    banner: str  # what `serve` wrote before uvicorn started, and after
    demo_token: str
    stderr_path: Path
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def serving_embedded(logs: Path, secret: str | None, latency_ms: int) -> Iterator[EmbeddedServer]:
    """``secret`` None: OPPSCAN_JWT_SECRET unset, the loopback demo of ``make run``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_SYNTHETIC_LATENCY_MS=str(latency_ms),  # a fresh scan waits for its market data
        OPPSCAN_LOG_LEVEL="INFO",
    )
    if secret is not None:
        env["OPPSCAN_JWT_SECRET"] = secret
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [OPPSCAN, "serve", "--host", "127.0.0.1", "--port", str(port), "--print-demo-token"],
            env=env,
            stdout=out,
            stderr=err,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a busy machine imports the scientific stack slowly
        while True:
            assert proc.poll() is None, err_path.read_text()
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)  # polling for readiness, not synchronising a test
        stdout = out_path.read_text()
        token = stdout.rsplit("demo token: ", 1)[1].strip()
        yield EmbeddedServer(base_url, err_path.read_text() + stdout, token, err_path, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
