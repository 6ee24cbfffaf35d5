"""Fakes of the ports, shared by the unit tests: each has the port's shape and records what it
was asked, so a test passes it where the real part would go (to ``bootstrap`` or a use case)."""

from __future__ import annotations

from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import StrategyInfo, StrategyRequest, build_opportunity

SNAPSHOT = MarketSnapshot(source="test", as_of_ms=1_700_000_000_000, exchanges=("x",), symbols=())


class RecordingQueue:
    """The ``JobQueue`` port: remembers each (scan, strategy) job and runs nothing, or fails
    like an unreachable Redis."""

    def __init__(self, fail: bool = False, workers: int | None = None) -> None:
        self.fail = fail
        self.workers = workers  # what live_workers() answers: None = jobs run in-process
        self.enqueued: list[str] = []  # one scan id per call
        self.jobs: list[tuple[str, str]] = []  # one (scan, strategy) per job
        self.started = self.closed = False

    async def start(self) -> None:
        self.started = True

    async def enqueue_strategies(
        self, scan_id: str, strategy_ids: tuple[str, ...], deadline_at: float
    ) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.enqueued.append(scan_id)
        self.jobs.extend((scan_id, sid) for sid in strategy_ids)

    async def abort(self, scan_id: str, strategy_ids: tuple[str, ...]) -> None:
        return None

    async def live_workers(self) -> int | None:
        return self.workers

    async def close(self) -> None:
        self.closed = True


class FixedMarket:
    """The ``MarketData`` port: a fixed snapshot, or a failure; remembers what it was asked."""

    def __init__(self, fail: bool = False, snapshot: MarketSnapshot = SNAPSHOT) -> None:
        self.fail = fail
        self.snapshot_served = snapshot
        self.asked: list[tuple[bool, float | None]] = []

    def universe(self) -> tuple[str, ...]:
        return self.snapshot_served.symbols

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        self.asked.append((force_refresh, at))
        if self.fail:
            raise RuntimeError("exchange x: timed out")
        return self.snapshot_served

    async def close(self) -> None:
        return None


class Finds:
    """A strategy that finds one BTC/USDT opportunity per risk level it is given, sized to the
    request's capital."""

    def __init__(self, sid: str, risks: tuple[RiskLevel, ...]) -> None:
        self.info = StrategyInfo(id=sid, name=sid, description="test", needs=("ohlcv",))
        self.risks = risks

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        return [
            build_opportunity(
                self.info,
                market,
                opportunity_type="spot",
                symbol="BTC/USDT",
                exchange="x",
                side="buy",
                entry_price=100,
                exit_price=101,
                profit_potential_usd=10,
                required_capital_usd=request.capital_usd,
                confidence=0.6,
                risk_level=risk,
                horizon_seconds=6 * 3_600,
                valid_for_ms=60_000,
                evidence={"z": 2.5},
                key=i,
            )
            for i, risk in enumerate(self.risks)
        ]


def an_opportunity(**fields: object) -> Opportunity:
    """A valid spot opportunity on BTC/USDT; ``fields`` replace any of its values."""
    values: dict[str, object] = {
        "opportunity_id": "opp_1",
        "strategy_id": "spot_momentum_strategy",
        "strategy_name": "Spot Momentum",
        "opportunity_type": "spot_momentum",
        "symbol": "BTC/USDT",
        "exchange": "binance",
        "side": "buy",
        "entry_price": 60_000.0,
        "exit_price": 60_600.0,
        "stop_loss": 59_000.0,
        "take_profit": 61_500.0,
        "profit_potential_usd": 100.0,
        "required_capital_usd": 10_000.0,
        "confidence_score": 0.5,
        "risk_level": RiskLevel.LOW,
        "horizon_seconds": 43_200,
        "estimated_timeframe": "hours",
        "net_edge_bps": 100.0,
        "annualized_return_pct": 730.0,
        "data_as_of": "2026-01-01T00:00:00.000Z",
        "expires_at": "2026-01-01T01:00:00.000Z",
        "discovered_at": "2026-01-01T00:00:00.000Z",
    }
    values.update(fields)
    return Opportunity.model_validate(values)
