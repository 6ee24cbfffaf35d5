"""Starting real oppscan processes on loopback for the multi-process tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
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

    def start_worker(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        proc = self._spawn([OPPSCAN, "worker", "--concurrency", str(concurrency)], f"worker{n}")
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
