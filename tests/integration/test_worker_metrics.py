"""Over Redis the workers fetch the market, so its counters live in them: ``oppscan worker
--metrics-port`` serves them. A real API process and a real worker, on loopback."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from oppscan.auth import issue_token
from oppscan.settings import Settings
from tests.conftest import TEST_REDIS_URL
from tests.integration.processes import Cluster, cluster_env, free_port, purge

pytestmark = [pytest.mark.processes, pytest.mark.redis]

SECRET = "worker-metrics-test-secret-of-32-bytes-plus"


def test_a_worker_serves_the_market_cache_counters(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    prefix = f"oppscan-test-{uuid.uuid4().hex[:12]}"
    cluster = Cluster(
        env=cluster_env(TEST_REDIS_URL, prefix, SECRET),
        base_url=f"http://127.0.0.1:{free_port()}",
        logs=tmp_path_factory.mktemp("logs"),
    )
    metrics_port = free_port()
    try:
        cluster.start_worker(1, "--metrics-port", str(metrics_port), "--metrics-host", "127.0.0.1")
        cluster.start_api(workers=1)
        token = issue_token(Settings(jwt_secret=SECRET), "metrics", tier="enterprise")
        with httpx.Client(
            base_url=cluster.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as http:
            started = http.post(
                "/api/v1/opportunities/discover", json={"strategy_ids": ["spot_momentum_strategy"]}
            ).json()
            deadline = time.monotonic() + 50
            while http.get(started["poll_url"]).json()["status"] not in ("complete", "partial"):
                assert time.monotonic() < deadline, cluster.log("worker0")
                time.sleep(0.1)
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'oppscan_market_fetches_total{source="synthetic-7-40"} 1.0' in text
        assert 'oppscan_market_snapshot_lookups_total{outcome="fetched"} 1.0' in text
    finally:
        cluster.stop()
        purge(TEST_REDIS_URL, prefix)
