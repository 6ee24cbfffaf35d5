"""``oppscan serve`` as a real process: uvicorn (uvloop, httptools) on a free loopback port.

What only a real server shows: the start banner, the demo token, and an SSE stream that arrives
event by event while the scan runs (not buffered to the end).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
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


@dataclass
class Running:
    server: Server
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def _serving(logs: Path, latency_ms: int) -> Iterator[Running]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_JWT_SECRET="server-test-secret-of-at-least-32-bytes",
        OPPSCAN_SYNTHETIC_LATENCY_MS=str(latency_ms),  # a fresh scan waits for its market data
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
        deadline = time.monotonic() + 60  # a busy machine imports the scientific stack slowly
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
        server = Server(base_url, err_path.read_text() + stdout, token, err_path, proc.pid)
        yield Running(server, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _serving(tmp_path_factory.mktemp("serve"), latency_ms=1500) as running:
        yield running.server


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


def test_stopping_the_server_ends_open_streams_cleanly_with_a_reconnect_event(
    tmp_path: Path,
) -> None:
    with _serving(tmp_path, latency_ms=30_000) as running:
        server = running.server
        headers = {"Authorization": f"Bearer {server.demo_token}"}
        started = httpx.post(f"{server.base_url}{API}/discover", json={}, headers=headers)
        assert started.status_code == 202
        events: list[str] = []
        opened = threading.Event()

        def read_stream() -> None:
            url = server.base_url + started.json()["events_url"]
            with httpx.stream("GET", url, headers=headers, timeout=30) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        events.append(line[6:].strip())
                        opened.set()

        reader = threading.Thread(target=read_stream)
        reader.start()
        assert opened.wait(10), "no first event"
        t0 = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert running.process.wait(timeout=15) in (0, -signal.SIGTERM)
        reader.join(timeout=5)
        assert not reader.is_alive()
        assert time.monotonic() - t0 < 10
        assert events[0] == "status" and events[-1] == "reconnect", events
        log = server.stderr_path.read_text()
        assert "ASGI callable returned without completing response" not in log
        assert "Traceback" not in log
