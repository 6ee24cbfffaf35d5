"""The old failure, made impossible: real processes, one Redis, every poll answered right.

``oppscan serve --workers 4`` and two ``oppscan worker`` processes on loopback. Every request goes
over a new connection, so the kernel spreads them over the four web workers; each response names
the process that answered (``X-Oppscan-Process``), and the test checks that all four did.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oppscan.auth import issue_token
from oppscan.domain.models import ScanView
from oppscan.settings import Settings
from oppscan.store.redis_store import RedisScanStore, connect
from tests.conftest import TEST_REDIS_URL
from tests.integration.processes import Cluster, cluster_env, free_port, purge

pytestmark = [pytest.mark.processes, pytest.mark.redis]

SECRET = "multiprocess-test-secret-of-at-least-32-bytes"
DEADLINE = 60
SPOT = "spot_momentum_strategy,spot_mean_reversion,spot_breakout_strategy"
TERMINAL = {"complete", "partial", "failed", "cancelled"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    prefix = f"oppscan-test-{uuid.uuid4().hex[:12]}"
    env = cluster_env(
        TEST_REDIS_URL,
        prefix,
        SECRET,
        OPPSCAN_SCAN_DEADLINE_SECONDS=str(DEADLINE),
        # A cold, slow market fetch keeps the first scan's strategies in flight long enough
        # to kill a worker in the middle of one.
        OPPSCAN_SYNTHETIC_LATENCY_MS="1500",
    )
    c = Cluster(
        env=env, base_url=f"http://127.0.0.1:{free_port()}", logs=tmp_path_factory.mktemp("logs")
    )
    try:
        c.start_worker(concurrency=1)
        c.start_worker(concurrency=1)
        c.start_api(workers=4)
        yield c
    finally:
        c.stop()
        purge(TEST_REDIS_URL, prefix)


def token(user: str) -> str:
    settings = Settings(jwt_secret=SECRET)
    return issue_token(settings, user, tier="enterprise", ttl_seconds=3600)


def fresh_client(user: str | None) -> httpx.Client:
    """No keep-alive: every request opens a new connection, so any web worker may take it."""
    headers = {"Connection": "close"}
    if user:
        headers["Authorization"] = f"Bearer {token(user)}"
    return httpx.Client(
        headers=headers, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    )


async def read_view(c: Cluster, scan_id: str) -> ScanView:
    store = RedisScanStore(
        connect(TEST_REDIS_URL), prefix=c.env["OPPSCAN_KEY_PREFIX"], result_ttl_seconds=600
    )
    try:
        view = await store.get_view(scan_id)
    finally:
        await store.close()
    assert view is not None
    return view


def discover(c: Cluster, user: str, **body: Any) -> dict[str, Any]:
    with fresh_client(user) as http:
        reply = http.post(f"{c.base_url}/api/v1/opportunities/discover", json=body)
    assert reply.status_code == 202, reply.text
    data: dict[str, Any] = reply.json()
    return data


def test_a_thousand_polls_over_four_web_workers_survive_a_killed_scan_worker(
    cluster: Cluster,
) -> None:
    started = discover(cluster, "alice", strategy_ids=SPOT)
    scan_id = started["scan_id"]
    status_url = f"{cluster.base_url}/api/v1/opportunities/status/{scan_id}"
    processes: set[str] = set()
    codes: dict[int, int] = {}
    last_done, last_version_time, polls, killed = -1, "", 0, False
    final: dict[str, Any] = {}
    with fresh_client("alice") as http:
        t0 = time.monotonic()
        while polls < 1000 or final.get("status") not in TERMINAL:
            assert time.monotonic() - t0 < DEADLINE + 15, f"still {final.get('status')}"
            reply = http.get(status_url)
            polls += 1
            codes[reply.status_code] = codes.get(reply.status_code, 0) + 1
            assert reply.status_code == 200, (polls, reply.status_code, reply.text)
            processes.add(reply.headers["x-oppscan-process"])
            final = reply.json()
            done = final["progress"]["strategies_completed"]
            assert done >= last_done, "progress went backwards"
            assert final["updated_at"] >= last_version_time
            last_done, last_version_time = done, final["updated_at"]
            running = [s for s, st in final["strategies"].items() if st["status"] == "running"]
            if not killed and len(running) >= 2:
                # Both workers (concurrency 1 each) hold a strategy: kill one mid-job.
                cluster.workers[0].send_signal(signal.SIGKILL)
                cluster.workers[0].wait()
                killed = True
    elapsed = time.monotonic() - t0
    assert killed, "never saw two strategies running at once"
    assert codes == {200: polls}
    assert polls >= 1000
    assert len(processes) == 4, f"only {len(processes)} web workers answered"
    assert final["status"] == "complete", final
    assert all(s["status"] == "done" for s in final["strategies"].values()), final["strategies"]
    assert elapsed < DEADLINE
    # The killed worker's strategy ran again elsewhere: one attempt more than strategies.
    view = asyncio.run(read_view(cluster, scan_id))
    assert sum(s.attempts for s in view.strategies.values()) > len(view.strategies)

    # Every web worker now serves the same results and the same status.
    bodies: dict[str, Any] = {}
    with fresh_client("alice") as http:
        for _ in range(80):
            reply = http.get(f"{cluster.base_url}/api/v1/opportunities/results/{scan_id}")
            assert reply.status_code == 200, reply.text
            bodies[reply.headers["x-oppscan-process"]] = reply.json()["opportunities"]
            status = http.get(status_url).json()
            assert status["status"] == "complete"
    assert len(bodies) == 4
    first = next(iter(bodies.values()))
    assert first, "a complete scan of the planted market finds something"
    assert all(b == first for b in bodies.values())

    # Another user's token sees nothing, exactly like an unknown id.
    with fresh_client("mallory") as http:
        theirs = http.get(status_url)
        unknown = http.get(f"{cluster.base_url}/api/v1/opportunities/status/scan_{'0' * 32}")
        results = http.get(f"{cluster.base_url}/api/v1/opportunities/results/{scan_id}")
    assert theirs.status_code == unknown.status_code == results.status_code == 404
    assert theirs.json()["status"] == unknown.json()["status"] == "not_found"


def test_the_first_poll_after_discover_answers_on_any_worker(cluster: Cluster) -> None:
    with fresh_client("bob") as http:
        for i in range(24):
            reply = http.post(
                f"{cluster.base_url}/api/v1/opportunities/discover",
                json={"strategy_ids": SPOT, "capital_usd": 1000 + i},
            )
            assert reply.status_code == 202
            poll = http.get(f"{cluster.base_url}{reply.json()['poll_url']}")
            assert poll.status_code == 200, poll.text
            assert poll.json()["scan_id"] == reply.json()["scan_id"]


def race_discover(c: Cluster, user: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Two identical requests released at the same instant, each on its own connection."""
    replies: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def go() -> None:
        with fresh_client(user) as http:
            barrier.wait()
            r = http.post(f"{c.base_url}/api/v1/opportunities/discover", json=body)
            assert r.status_code == 202, r.text
            replies.append({**r.json(), "process": r.headers["x-oppscan-process"]})

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return replies


def test_two_identical_discovers_at_once_make_one_scan(cluster: Cluster) -> None:
    races = 8
    across_processes = 0
    for i in range(races):
        replies = race_discover(cluster, "carol", {"strategy_ids": SPOT, "capital_usd": 5000 + i})
        assert len(replies) == 2
        assert replies[0]["scan_id"] == replies[1]["scan_id"]
        assert sorted(r["reused"] for r in replies) == [False, True]
        across_processes += replies[0]["process"] != replies[1]["process"]
    # Each race lands on two different web workers with probability 3/4: all 8 on one is 2e-5.
    assert across_processes >= 1
    with fresh_client("carol") as http:
        listed = http.get(f"{cluster.base_url}/api/v1/opportunities/scans?limit=100").json()
    assert len(listed["items"]) == races


def wait_terminal(c: Cluster, user: str, scan_id: str) -> dict[str, Any]:
    with fresh_client(user) as http:
        for _ in range(600):
            body: dict[str, Any] = http.get(
                f"{c.base_url}/api/v1/opportunities/status/{scan_id}"
            ).json()
            if body["status"] in TERMINAL:
                return body
            time.sleep(0.1)
    raise AssertionError(f"{scan_id} never finished")


def test_a_newer_scan_leaves_the_older_results_readable(cluster: Cluster) -> None:
    first = discover(cluster, "dave", strategy_ids=SPOT)
    assert wait_terminal(cluster, "dave", first["scan_id"])["status"] == "complete"
    again = discover(cluster, "dave", strategy_ids=SPOT)
    assert again["reused"] and again["scan_id"] == first["scan_id"]  # fresh: reused
    newer = discover(cluster, "dave", strategy_ids=SPOT, force_refresh=True)
    assert not newer["reused"] and newer["scan_id"] != first["scan_id"]
    wait_terminal(cluster, "dave", newer["scan_id"])
    with fresh_client("dave") as http:
        old = http.get(f"{cluster.base_url}/api/v1/opportunities/results/{first['scan_id']}")
        new = http.get(f"{cluster.base_url}/api/v1/opportunities/results/{newer['scan_id']}")
    assert old.status_code == new.status_code == 200
    assert old.json()["scan_id"] == first["scan_id"]
    assert new.json()["scan_id"] == newer["scan_id"]


def test_no_token_is_401_and_a_bad_body_is_422_and_starts_nothing(cluster: Cluster) -> None:
    with fresh_client(None) as http:
        assert http.get(f"{cluster.base_url}/api/v1/opportunities/scans").status_code == 401
        assert http.post(f"{cluster.base_url}/api/v1/opportunities/discover").status_code == 401
    with fresh_client("erin") as http:
        for body in (
            {"strategy_ids": ["no_such_strategy"]},
            {"capital_usd": -1},
            {"symbols": ["NOTACOIN"]},
            {"capital_usd": "lots"},
        ):
            r = http.post(f"{cluster.base_url}/api/v1/opportunities/discover", json=body)
            assert r.status_code == 422, r.text
            assert r.json()["field"]
        listed = http.get(f"{cluster.base_url}/api/v1/opportunities/scans").json()
    assert listed["items"] == []
