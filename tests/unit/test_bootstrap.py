"""The whole app built by ``bootstrap`` with fakes passed in, and nothing patched.

The fakes are the ports' own shapes (``tests/unit/fakes.py``, and a market source here): a queue
that records jobs (the test plays the worker), a source that serves one small snapshot, a frozen
clock, a one-strategy catalog and a registry of the test's own. The app is the real one, over
real HTTP semantics (httpx over ASGI): routes, auth, service, runner and the in-process store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from oppscan.api.app import create_app
from oppscan.auth import issue_token
from oppscan.bootstrap import Container, bootstrap, web_app
from oppscan.domain.models import RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.settings import Settings
from tests.unit.fakes import Finds, RecordingQueue

NOW = 1_767_268_815.0
SECRET = "bootstrap-test-secret-of-32-bytes-or-more"
API = "/api/v1/opportunities"


class OneSnapshotSource:
    """The ``MarketSource`` port: a two-symbol market at whatever moment is asked."""

    name = "fake"

    def __init__(self) -> None:
        self.fetched: list[int] = []

    def universe(self) -> tuple[str, ...]:
        return ("BTC/USDT", "ETH/USDT")

    async def fetch(self, as_of_ms: int) -> MarketSnapshot:
        self.fetched.append(as_of_ms)
        return MarketSnapshot(
            source=self.name, as_of_ms=as_of_ms, exchanges=("x",), symbols=self.universe()
        )

    async def close(self) -> None:
        return None


class Fakes:
    def __init__(self) -> None:
        self.queue = RecordingQueue()
        self.source = OneSnapshotSource()
        self.registry = CollectorRegistry()
        self.settings = Settings(redis_url=None, jwt_secret=SECRET, log_level="WARNING")
        self.container: Container | None = None

    def build(self) -> Container:
        self.container = bootstrap(
            self.settings,
            queue=self.queue,
            source=self.source,
            clock=lambda: NOW,
            strategies={"finds": Finds("finds", (RiskLevel.LOW, RiskLevel.HIGH))},
            registry=self.registry,
        )
        return self.container


@pytest.fixture
async def served() -> AsyncIterator[tuple[Fakes, httpx.AsyncClient]]:
    fakes = Fakes()
    app = create_app(fakes.settings, build=fakes.build)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield fakes, client
    assert fakes.queue.closed  # the app closed the container it built


async def test_the_app_runs_on_the_parts_passed_to_bootstrap(
    served: tuple[Fakes, httpx.AsyncClient],
) -> None:
    fakes, client = served
    auth = {"Authorization": f"Bearer {issue_token(fakes.settings, 'alice')}"}
    assert fakes.queue.started

    started = await client.post(f"{API}/discover", json={"capital_usd": 500}, headers=auth)
    assert started.status_code == 202, started.text
    scan_id = started.json()["scan_id"]
    assert fakes.queue.jobs == [(scan_id, "finds")]  # the fake queue got the job

    status = (await client.get(f"{API}/status/{scan_id}", headers=auth)).json()
    assert status["status"] == "queued"
    assert status["created_at"] == "2026-01-01T12:00:15.000Z"  # the frozen clock's moment

    assert fakes.container is not None
    for job_scan, strategy_id in fakes.queue.jobs:  # the test is the worker
        await fakes.container.runner.run(job_scan, strategy_id)

    results = (await client.get(f"{API}/results/{scan_id}", headers=auth)).json()
    assert results["status"] == "complete"
    assert sorted(o["risk_level"] for o in results["opportunities"]) == ["high", "low"]
    assert all(o["required_capital_usd"] == 500 for o in results["opportunities"])
    # The market read the fake source once, at the frozen clock's bucket.
    assert fakes.source.fetched == [int(NOW // 60 * 60 * 1000)]
    metrics = (await client.get("/metrics")).text
    assert 'oppscan_market_fetches_total{source="fake"} 1.0' in metrics
    assert fakes.registry.get_sample_value("oppscan_market_fetches_total", {"source": "fake"})


def test_an_api_process_over_redis_refuses_the_public_dev_secret() -> None:
    # `oppscan serve` refuses first; an API process started another way refuses too.
    over_redis = Settings(redis_url="redis://127.0.0.1:6379/15")
    with pytest.raises(RuntimeError, match="OPPSCAN_JWT_SECRET"):
        web_app(over_redis)
    assert web_app(Settings(redis_url=over_redis.redis_url, jwt_secret=SECRET)) is not None
