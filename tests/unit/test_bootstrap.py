"""The whole app built by ``bootstrap`` with fakes passed in, and nothing patched.

The fakes are the ports' own shapes: a queue that records jobs (the test plays the worker), a
market source that serves one small snapshot, a frozen clock, a one-strategy catalog and a
registry of the test's own. The app is the real one, over real HTTP semantics (httpx over
ASGI): routes, auth, service, runner and the in-process store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from oppscan.api.app import create_app
from oppscan.auth import issue_token
from oppscan.bootstrap import Container, bootstrap
from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.settings import Settings
from oppscan.strategies import StrategyInfo, StrategyRequest, build_opportunity

NOW = 1_767_268_815.0
SECRET = "bootstrap-test-secret-of-32-bytes-or-more"
API = "/api/v1/opportunities"


class RecordingQueue:
    """The ``JobQueue`` port: remembers each (scan, strategy) job, runs nothing."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []
        self.started = self.closed = False

    async def start(self) -> None:
        self.started = True

    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        self.jobs.extend((scan_id, sid) for sid in strategy_ids)

    async def abort(self, scan_id: str, strategy_ids: tuple[str, ...]) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


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


class OneIdea:
    """A strategy that finds one opportunity per symbol of whatever market it is given."""

    info = StrategyInfo(id="one_idea", name="One idea", description="test", needs=())

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return [
            build_opportunity(
                self.info,
                market,
                opportunity_type="test",
                symbol=symbol,
                exchange="x",
                side="buy",
                entry_price=100.0,
                exit_price=101.0,
                profit_potential_usd=10.0,
                required_capital_usd=request.capital_usd,
                confidence=0.5,
                risk_level=RiskLevel.LOW,
                timeframe="1h",
                net_edge_bps=100.0,
                valid_for_ms=60_000,
                evidence={"why": "a test"},
            )
            for symbol in market.symbols
        ]


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
            strategies={"one_idea": OneIdea()},
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
    assert fakes.queue.jobs == [(scan_id, "one_idea")]  # the fake queue got the job

    status = (await client.get(f"{API}/status/{scan_id}", headers=auth)).json()
    assert status["status"] == "queued"
    assert status["created_at"] == "2026-01-01T12:00:15.000Z"  # the frozen clock's moment

    assert fakes.container is not None
    for job_scan, strategy_id in fakes.queue.jobs:  # the test is the worker
        await fakes.container.runner.run(job_scan, strategy_id)

    results = (await client.get(f"{API}/results/{scan_id}", headers=auth)).json()
    assert results["status"] == "complete"
    assert sorted(o["symbol"] for o in results["opportunities"]) == ["BTC/USDT", "ETH/USDT"]
    assert all(o["required_capital_usd"] == 500 for o in results["opportunities"])
    # The market read the fake source once, at the frozen clock's bucket.
    assert fakes.source.fetched == [int(NOW // 60 * 60 * 1000)]
    metrics = (await client.get("/metrics")).text
    assert 'oppscan_market_fetches_total{source="fake"} 1.0' in metrics
    assert fakes.registry.get_sample_value("oppscan_market_fetches_total", {"source": "fake"})
