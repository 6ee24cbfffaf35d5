"""``oppscan serve`` as a real process: uvicorn (uvloop, httptools) on a free loopback port.

What only a real server shows: the start banner, the demo token, and an SSE stream that arrives
event by event while the scan runs (not buffered to the end).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import TEST_REDIS_URL
from tests.integration.processes import (
    OPPSCAN,
    EmbeddedServer,
    cluster_env,
    free_port,
    serving_embedded,
)

pytestmark = pytest.mark.processes

API = "/api/v1/opportunities"
TERMINAL = {"complete", "partial", "failed", "cancelled"}
SECRET = "server-test-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with serving_embedded(tmp_path_factory.mktemp("serve"), SECRET, latency_ms=1500) as running:
        yield running


def test_serve_says_it_runs_embedded_and_prints_a_working_demo_token(
    server: EmbeddedServer,
) -> None:
    assert "one process holds the store and runs scans in itself" in server.banner
    assert "Redis" not in server.banner.replace("(no Redis)", "")
    assert "development secret" not in server.banner  # it has a secret of its own
    assert f"open {server.base_url}/ — demo token: " in server.banner
    r = httpx.get(
        f"{server.base_url}{API}/strategies",
        headers={"Authorization": f"Bearer {server.demo_token}"},
    )
    assert r.status_code == 200
    assert r.json()["strategies"]
    # One process, embedded: the server process itself answered.
    assert r.headers["x-oppscan-process"].endswith(f":{server.process.pid}")
    # It does not say which server software answered.
    assert "server" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_loopback_demo_runs_on_the_dev_secret_and_says_so(tmp_path: Path) -> None:
    # `make run`: no OPPSCAN_JWT_SECRET, embedded, 127.0.0.1.
    with serving_embedded(tmp_path, None, latency_ms=0) as demo:
        assert "public development secret" in demo.banner
        assert "openssl rand -hex 32" in demo.banner
        r = httpx.get(
            f"{demo.base_url}{API}/strategies",
            headers={"Authorization": f"Bearer {demo.demo_token}"},
        )
        assert r.status_code == 200


@pytest.mark.redis
def test_serve_over_redis_on_the_dev_secret_exits_2_before_it_listens(key_prefix: str) -> None:
    # The defect: Redis configured, no OPPSCAN_JWT_SECRET, `serve --workers 2`, then a token
    # forged with the public secret was accepted. Now the process stops before binding.
    env = cluster_env(TEST_REDIS_URL, key_prefix, "unused")
    del env["OPPSCAN_JWT_SECRET"]
    port = free_port()
    command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    done = subprocess.run([OPPSCAN, *command], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2, done.stderr
    line = done.stderr.decode()
    assert line.startswith("error: OPPSCAN_JWT_SECRET") and line.count("\n") == 1, line
    assert "openssl rand -hex 32" in line
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing ever listened there
    with redis.Redis.from_url(TEST_REDIS_URL) as client:
        assert not list(client.scan_iter(match=f"*{key_prefix}*"))


def test_web_page_and_docs_are_served(server: EmbeddedServer) -> None:
    page = httpx.get(f"{server.base_url}/")
    assert page.status_code == 200
    assert "<title>oppscan</title>" in page.text
    assert httpx.get(f"{server.base_url}/docs").status_code == 200


def test_sse_arrives_while_the_scan_runs_and_closes_at_the_end(server: EmbeddedServer) -> None:
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


def test_access_log_is_one_json_line_per_request_with_the_route_and_user(
    server: EmbeddedServer,
) -> None:
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
    with serving_embedded(tmp_path, SECRET, latency_ms=30_000) as server:
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
        server.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        reader.join(timeout=5)
        assert not reader.is_alive()
        assert time.monotonic() - t0 < 10
        assert events[0] == "status" and events[-1] == "reconnect", events
        log = server.stderr_path.read_text()
        assert "ASGI callable returned without completing response" not in log
        assert "Traceback" not in log
