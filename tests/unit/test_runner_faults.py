"""One strategy job when the store or the market cache blips: a transient fault is retried within
the scan's deadline, never recorded as the strategy's failure, and no error a user reads names a
host, a port, a URL or a file."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oppscan.domain.errors import StoreUnavailable
from oppscan.domain.models import Opportunity, RiskLevel, ScanStatus, StrategyStatus
from oppscan.market.ccxt_source import ExchangeFetchError
from oppscan.market.snapshot import MarketSnapshot
from oppscan.service.runner import StrategyRunner
from oppscan.strategies.base import Strategy, StrategyInfo, StrategyRequest
from tests.unit.fakes import Finds, FixedMarket
from tests.unit.test_runner import Raises, scan_with

# What redis-py said in the incident, as the Redis store wraps it.
BLIP = StoreUnavailable("redis unavailable: TimeoutError('Timeout reading from 127.0.0.1:6391')")
FOREVER = 10**9


class FlakyStore:
    """A store whose named methods fail ``n`` times with ``BLIP`` before they work again."""

    def __init__(self, inner: Any, **failures: int) -> None:
        self._inner = inner
        self.failures = failures
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in self.failures:
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.failures[name] > 0:
                self.failures[name] -= 1
                raise BLIP
            return await method(*args, **kwargs)

        return call


class FlakyMarket(FixedMarket):
    """The market cache whose shared blobs (Redis) blip ``n`` times, then answer."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        if self.failures > 0:
            self.failures -= 1
            self.asked.append((force_refresh, at))
            raise BLIP
        return await super().snapshot(force_refresh, at)


class FailingMarket(FixedMarket):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def snapshot(
        self, force_refresh: bool = False, at: float | None = None
    ) -> MarketSnapshot:
        raise self.error


def logged(capsys: pytest.CaptureFixture[str]) -> str:
    """The log lines written so far (JSON once logging is configured, key=value before)."""
    out, err = capsys.readouterr()
    return out + err


def finds() -> dict[str, Strategy]:
    return {"finds": Finds("finds", (RiskLevel.LOW,))}


async def test_a_store_that_blips_at_every_step_still_records_the_strategy_once() -> None:
    inner, _ = await scan_with(finds(), FixedMarket())
    flaky = FlakyStore(inner, start_strategy=2, get_view=2, now=2, complete_strategy=3)
    runner = StrategyRunner(flaky, FixedMarket(), finds())
    applied = await asyncio.wait_for(runner.run("scan_1", "finds"), timeout=10)
    assert applied is not None and applied.changed
    view = await inner.get_view("scan_1")
    assert view is not None
    state = view.strategies["finds"]
    assert (state.status, state.error, state.attempts) == (StrategyStatus.DONE, None, 1)
    assert view.record.status is ScanStatus.COMPLETE
    assert flaky.calls["complete_strategy"] == 4


async def test_a_market_cache_that_blips_is_read_again_not_failed() -> None:
    market = FlakyMarket(failures=3)
    store, runner = await scan_with(finds(), market)
    await asyncio.wait_for(runner.run("scan_1", "finds"), timeout=10)
    view = await store.get_view("scan_1")
    assert view is not None
    assert view.strategies["finds"].status is StrategyStatus.DONE
    assert view.strategies["finds"].error is None
    assert len(market.asked) == 4


async def test_a_store_that_stays_down_ends_the_job_without_recording_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    inner, _ = await scan_with(finds(), FixedMarket(), deadline=0.6)
    runner = StrategyRunner(FlakyStore(inner, complete_strategy=FOREVER), FixedMarket(), finds())
    capsys.readouterr()
    applied = await asyncio.wait_for(runner.run("scan_1", "finds"), timeout=5)
    assert applied is None
    log = logged(capsys)
    await asyncio.sleep(0.7)
    view = await inner.get_view("scan_1")
    assert view is not None
    # The deadline ended it, honestly: nothing claims the strategy failed.
    assert view.record.status is ScanStatus.PARTIAL
    assert view.strategies["finds"].status is StrategyStatus.TIMED_OUT
    assert view.strategies["finds"].error is None
    assert "not_recorded" in log and "the scan store was unreachable" in log
    assert "127.0.0.1:6391" in log  # the detail is for the log, not the user


async def test_a_failing_exchange_is_named_and_its_address_kept_in_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = ExchangeFetchError(
        "binance",
        "fetch_tickers",
        "NetworkError after 4 attempts: binance GET https://api.binance.com/api/v3/ticker/24hr "
        "(connect to 10.1.2.3:443 timed out)",
    )
    store, runner = await scan_with(finds(), FailingMarket(error))
    capsys.readouterr()
    await runner.run("scan_1", "finds")
    view = await store.get_view("scan_1")
    assert view is not None
    assert view.strategies["finds"].status is StrategyStatus.FAILED
    assert view.strategies["finds"].error == "market data unavailable: binance"
    assert "https://api.binance.com" in logged(capsys)


async def test_a_strategy_error_shows_no_host_port_url_or_path() -> None:
    strategies: dict[str, Strategy] = {
        "reads_file": Raises(
            "reads_file", FileNotFoundError(2, "No such file", "/srv/oppscan/cache/x.npz")
        ),
        "connects": Raises(
            "connects", ConnectionError("Error 111 connecting to redis.internal:6379. Refused.")
        ),
        "fetches": Raises("fetches", ValueError("bad reply from http://10.0.0.7:8080/v1/x?k=1")),
    }
    store, runner = await scan_with(strategies, FixedMarket())
    for sid in strategies:
        await runner.run("scan_1", sid)
    view = await store.get_view("scan_1")
    assert view is not None
    errors = {sid: s.error for sid, s in view.strategies.items()}
    assert errors == {
        "reads_file": "FileNotFoundError: [Errno 2] No such file: '<path>'",
        "connects": "ConnectionError: Error 111 connecting to <address>. Refused.",
        "fetches": "ValueError: bad reply from <url>",
    }


class Sees:
    """A strategy that records it ran (so a test can tell a retried job from a refused one)."""

    info = StrategyInfo(id="sees", name="sees", description="test", needs=())

    def __init__(self) -> None:
        self.runs = 0

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        self.runs += 1
        return []


async def test_a_view_that_blips_after_the_start_runs_the_strategy_once() -> None:
    sees = Sees()
    inner, _ = await scan_with({"sees": sees}, FixedMarket())
    runner = StrategyRunner(FlakyStore(inner, get_view=3), FixedMarket(), {"sees": sees})
    await asyncio.wait_for(runner.run("scan_1", "sees"), timeout=10)
    view = await inner.get_view("scan_1")
    assert view is not None and view.record.status is ScanStatus.COMPLETE
    assert sees.runs == 1
