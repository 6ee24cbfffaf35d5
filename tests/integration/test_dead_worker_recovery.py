"""All of a dead worker's jobs come back together, not one per five seconds.

A real worker takes the eight jobs of a scan (the market is slow, so they are all in flight) and
is SIGKILLed; another worker then finishes the scan. SAQ's sweep waited up to 5 s per stuck job
for an abort nobody would acknowledge, one job after another.
"""

from __future__ import annotations

import signal
import time
import uuid

import httpx
import pytest

from oppscan.auth import issue_token
from oppscan.settings import Settings
from tests.conftest import TEST_REDIS_URL
from tests.integration.processes import Cluster, cluster_env, free_port, purge

pytestmark = [pytest.mark.processes, pytest.mark.redis]

SECRET = "dead-worker-recovery-test-secret-of-32-bytes"
EIGHT = (
    "spot_momentum_strategy,spot_mean_reversion,spot_breakout_strategy,scalping_strategy,"
    "market_making,pairs_trading,statistical_arbitrage,futures_trade"
)


# Its own bounds (30 s for the jobs to start, 60 s to recover, and starting three processes)
# exceed the suite's 60 s default; the claim is that recovery takes under 30 s, asserted below.
@pytest.mark.timeout(150)
def test_a_dead_workers_jobs_all_come_back_within_seconds(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    prefix = f"oppscan-test-{uuid.uuid4().hex[:12]}"
    env = cluster_env(
        TEST_REDIS_URL,
        prefix,
        SECRET,
        OPPSCAN_SYNTHETIC_LATENCY_MS="2000",
        OPPSCAN_SCAN_DEADLINE_SECONDS="90",
    )
    cluster = Cluster(
        env=env, base_url=f"http://127.0.0.1:{free_port()}", logs=tmp_path_factory.mktemp("logs")
    )
    token = issue_token(Settings(jwt_secret=SECRET), "recovery", tier="enterprise")
    try:
        doomed = cluster.start_worker(8)
        cluster.start_api(workers=1)
        with httpx.Client(
            base_url=cluster.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as http:
            started = http.post(
                "/api/v1/opportunities/discover", json={"strategy_ids": EIGHT}
            ).json()
            poll = started["poll_url"]
            deadline = time.monotonic() + 30
            while True:  # every job taken by the doomed worker
                states = http.get(poll).json()["strategies"]
                if all(s["status"] == "running" for s in states.values()):
                    break
                assert time.monotonic() < deadline, states
                time.sleep(0.05)
            doomed.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            cluster.start_worker(8)
            while (status := http.get(poll).json())["status"] not in ("complete", "partial"):
                assert time.monotonic() - killed_at < 60, status["strategies"]
                time.sleep(0.1)
            recovered_in = time.monotonic() - killed_at
        assert status["status"] == "complete", status["strategies"]
        # Heartbeat stale (4 s) + a sweep (2 s) + the dead holder's market lock (up to 10 s) +
        # the slow fetch (2 s): well under 30 s; one job per 5 s would take over 40 s.
        assert recovered_in < 30, f"recovered in {recovered_in:.1f} s"
        assert all(s["status"] == "done" for s in status["strategies"].values())
    finally:
        cluster.stop()
        purge(TEST_REDIS_URL, prefix)
