"""A strategy job over a real Redis that stalls, or that is not there at all.

The stall is a TCP proxy in front of the test Redis that stops passing bytes for a while (what a
client sees of a Redis stuck in a slow command, a fork or a failover): the shared Redis itself is
never paused. "Not there" is a loopback port nothing listens on.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from oppscan.domain.models import RiskLevel, ScanStatus, StrategyStatus
from oppscan.market.shared import SharedMarketData
from oppscan.market.synthetic import SyntheticSource
from oppscan.service.runner import StrategyRunner
from oppscan.store.redis_snapshots import RedisSnapshotBlobs
from oppscan.store.redis_store import RedisScanStore
from oppscan.strategies.base import Strategy
from tests.conftest import TEST_REDIS_URL
from tests.contract.test_store_contract import TTL, make_scan
from tests.integration.processes import free_port
from tests.unit.fakes import Finds, FixedMarket

pytestmark = pytest.mark.redis

STALL_SECONDS = 1.0
TIMEOUT = 0.25  # the stalled client's socket timeout (production's: 5 s)


def no_retries() -> Retry:
    """redis-py retries a command 3 times by itself (about 7 s at most): these clients do not, so
    a short stall is already longer than the client's own patience, as a long one is in
    production."""
    return Retry(NoBackoff(), 0)


class StallingProxy:
    """Passes bytes between its clients and the test Redis, except while stalled: then it holds
    them (and passes them on when the stall ends, as a congested network would)."""

    def __init__(self) -> None:
        target = aioredis.Redis.from_url(TEST_REDIS_URL).connection_pool.connection_kwargs
        self.target = (target.get("host", "127.0.0.1"), int(target.get("port", 6379)))
        self.db = int(target.get("db", 0))
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> StallingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flowing.set()
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def client(self, *, decode_responses: bool = True) -> aioredis.Redis:
        return aioredis.Redis(
            host="127.0.0.1",
            port=self.port,
            db=self.db,
            decode_responses=decode_responses,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=no_retries(),
        )

    async def stall_for(self, seconds: float) -> None:
        self.flowing.clear()
        await asyncio.sleep(seconds)
        self.flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self.tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        for w in (writer, up_writer):
            w.close()

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await src.read(65536):
                await self.flowing.wait()
                dst.write(data)
                await dst.drain()


def finds() -> dict[str, Strategy]:
    return {"finds": Finds("finds", (RiskLevel.LOW,))}


async def test_a_stalled_store_is_waited_for_and_the_strategy_recorded(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    direct = RedisScanStore(redis_client, prefix=key_prefix, result_ttl_seconds=TTL)
    await make_scan(direct, strategies=("finds",), deadline=20)
    async with StallingProxy() as proxy:
        stalled = RedisScanStore(proxy.client(), prefix=key_prefix, result_ttl_seconds=TTL)
        runner = StrategyRunner(stalled, FixedMarket(), finds())
        stall = asyncio.create_task(proxy.stall_for(STALL_SECONDS))
        await asyncio.sleep(0)
        applied = await asyncio.wait_for(runner.run("scan_a", "finds"), timeout=15)
        await stall
        await stalled.close()
    assert applied is not None
    view = await direct.get_view("scan_a")
    assert view is not None
    assert view.strategies["finds"].status is StrategyStatus.DONE
    assert view.strategies["finds"].error is None
    assert view.record.status is ScanStatus.COMPLETE


async def test_a_stalled_market_cache_is_read_again_not_failed(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    direct = RedisScanStore(redis_client, prefix=key_prefix, result_ttl_seconds=TTL)
    await make_scan(direct, strategies=("finds",), deadline=20)
    async with StallingProxy() as proxy:
        blobs = RedisSnapshotBlobs(proxy.client(decode_responses=False), prefix=key_prefix)
        market = SharedMarketData(
            SyntheticSource(1, symbols_count=4), bucket_seconds=60, blobs=blobs
        )
        runner = StrategyRunner(direct, market, finds())
        stall = asyncio.create_task(proxy.stall_for(STALL_SECONDS))
        await asyncio.sleep(0)
        await asyncio.wait_for(runner.run("scan_a", "finds"), timeout=15)
        await stall
        await market.close()
    view = await direct.get_view("scan_a")
    assert view is not None
    assert view.strategies["finds"].error is None
    assert view.strategies["finds"].status is StrategyStatus.DONE


async def test_a_store_that_is_not_there_ends_the_job_and_the_deadline_the_scan(
    redis_client: aioredis.Redis, key_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    direct = RedisScanStore(redis_client, prefix=key_prefix, result_ttl_seconds=TTL)
    await make_scan(direct, strategies=("finds",), deadline=1.0)
    port = free_port()  # nothing listens on it
    client = aioredis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=TIMEOUT, retry=no_retries()
    )
    dead = RedisScanStore(client, prefix=key_prefix, result_ttl_seconds=TTL)
    runner = StrategyRunner(dead, FixedMarket(), finds(), patience_seconds=0.5)
    capsys.readouterr()
    applied = await asyncio.wait_for(runner.run("scan_a", "finds"), timeout=5)
    await dead.close()
    assert applied is None
    out, err = capsys.readouterr()
    assert "not_recorded" in out + err and f"127.0.0.1:{port}" in out + err  # in the log only
    await asyncio.sleep(1.1)
    view = await direct.get_view("scan_a")
    assert view is not None
    assert view.record.status is ScanStatus.PARTIAL
    assert view.strategies["finds"].status is StrategyStatus.TIMED_OUT
    assert view.strategies["finds"].error is None
    assert str(port) not in (view.record.error or "")
