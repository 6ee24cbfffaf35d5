"""``oppscan serve`` as a real process: uvicorn (uvloop, httptools) on a free loopback port.

What only a real server shows: the start banner, the demo token, and an SSE stream that arrives
event by event while the scan runs (not buffered to the end).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.processes

OPPSCAN = str(Path(sys.executable).parent / "oppscan")
API = "/api/v1/opportunities"
TERMINAL = {"complete", "partial", "failed", "cancelled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass
class Server:
    base_url: str
    banner: str  # what `serve` wrote before uvicorn started
    demo_token: str
    stderr_path: Path
    pid: int


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    logs = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_JWT_SECRET="server-test-secret-of-at-least-32-bytes",
        OPPSCAN_SYNTHETIC_LATENCY_MS="1500",  # the first scan waits for its market snapshot
        OPPSCAN_LOG_LEVEL="INFO",
    )
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
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, err_path.read_text()
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)
        stdout = out_path.read_text()
        token = stdout.rsplit("demo token: ", 1)[1].strip()
        yield Server(base_url, err_path.read_text() + stdout, token, err_path, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_says_it_runs_embedded_and_prints_a_working_demo_token(server: Server) -> None:
    assert "one process holds the store and runs scans in itself" in server.banner
    assert f"open {server.base_url}/ — demo token: " in server.banner
    r = httpx.get(
        f"{server.base_url}{API}/strategies",
        headers={"Authorization": f"Bearer {server.demo_token}"},
    )
    assert r.status_code == 200
    assert r.json()["strategies"]
    # One process, embedded: the server process itself answered.
    assert r.headers["x-oppscan-process"].endswith(f":{server.pid}")


def test_web_page_and_docs_are_served(server: Server) -> None:
    page = httpx.get(f"{server.base_url}/")
    assert page.status_code == 200
    assert "<title>oppscan</title>" in page.text
    assert httpx.get(f"{server.base_url}/docs").status_code == 200


def test_sse_arrives_while_the_scan_runs_and_closes_at_the_end(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.demo_token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        started = client.post(f"{API}/discover", json={"force_refresh": True})
        assert started.status_code == 202, started.text
        t0 = time.monotonic()
        arrivals: list[tuple[float, dict[str, object]]] = []
        with client.stream("GET", started.json()["events_url"]) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    arrivals.append((time.monotonic() - t0, json.loads(line[5:])))
        # The loop ended: the server closed the stream.
    statuses = [str(event["status"]) for _, event in arrivals]
    assert statuses[-1] in TERMINAL and all(s not in TERMINAL for s in statuses[:-1])
    assert len(arrivals) >= 2
    first_at, last_at = arrivals[0][0], arrivals[-1][0]
    # The first event came at once, long before the end: streamed, not buffered.
    assert first_at < 0.5 < last_at, arrivals
    percentages = [float(e["progress"]["percentage"]) for _, e in arrivals]  # type: ignore[index]
    assert percentages == sorted(percentages) and percentages[-1] == 100.0


def test_access_log_is_one_json_line_per_request_with_the_route_and_user(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.demo_token}"}
    httpx.get(f"{server.base_url}{API}/status/scan_nope", headers=headers)
    time.sleep(0.2)
    lines = [
        json.loads(line)
        for line in server.stderr_path.read_text().splitlines()
        if line.startswith("{") and '"http.request"' in line
    ]
    mine = [line for line in lines if line["path"] == f"{API}/status/scan_nope"]
    assert mine, lines[-5:]
    assert mine[-1]["route"] == f"{API}/status/{{scan_id}}"
    assert mine[-1]["status"] == 404
    assert mine[-1]["user_id"] == "demo"
    assert mine[-1]["duration_ms"] >= 0
