"""The HTTP API's access and operations, in process: tokens, the rate limit, health, metrics,
docs, and a store that is down (see ``asgi_api``)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import jwt
import pytest

from oppscan.bootstrap import bootstrap
from oppscan.store.redis_store import RedisScanStore, connect
from tests.integration.asgi_api import API, SECRET, Api, api_settings, serve


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async for served in serve(api_settings()):
        yield served


# -- identity -------------------------------------------------------------------------------


async def test_no_token_or_a_bad_one_is_401_json(api: Api) -> None:
    expired = jwt.encode({"sub": "alice", "exp": int(time.time()) - 60}, SECRET, "HS256")
    forged = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6cHc="},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
    ]
    for headers in attempts:
        for method, path in (("GET", f"{API}/status/scan_x"), ("POST", f"{API}/discover")):
            r = await api.client.request(method, path, headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.json()["status"] == "unauthorized"
            assert r.json()["success"] is False
            assert r.headers["www-authenticate"].startswith("Bearer")
    r = await api.client.get(f"{API}/scans")
    assert r.status_code == 401


# -- rate limit -----------------------------------------------------------------------------


async def test_429_with_retry_after_past_the_rate_limit() -> None:
    # The limit counts per minute: stay clear of the minute's turn so the count is not reset.
    if time.time() % 60 > 55:
        await asyncio.sleep(61 - time.time() % 60)
    limits = {"basic": 2, "pro": 50, "enterprise": 50}
    async for api in serve(api_settings(scans_per_minute=limits)):
        for capital in (1000, 2000):
            assert (await api.discover("frank", capital_usd=capital)).status_code == 202
        # Reusing a running scan is not a new start: it is never refused.
        assert (await api.discover("frank", capital_usd=1000)).json()["reused"] is True
        r = await api.discover("frank", capital_usd=3000)
        assert r.status_code == 429, r.text
        assert r.json()["status"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        listed = (await api.client.get(f"{API}/scans", headers=api.auth("frank"))).json()
        assert len(listed["items"]) == 2
        assert (await api.discover("grace", capital_usd=3000)).status_code == 202


# -- operations -----------------------------------------------------------------------------


async def test_health_readiness_metrics_docs_and_page(api: Api) -> None:
    assert (await api.client.get("/healthz")).json()["status"] == "ok"
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "embedded"
    scan_id = (await api.discover()).json()["scan_id"]
    await api.client.get(f"{API}/status/{scan_id}", headers=api.auth())
    await api.client.get(f"{API}/status/{scan_id}", headers=api.auth("mallory"))
    metrics = (await api.client.get("/metrics")).text
    assert (
        'oppscan_http_requests_total{method="GET",route="/api/v1/opportunities/status/{scan_id}",'
        'status="200"} 1.0' in metrics
    )
    assert 'route="/api/v1/opportunities/status/{scan_id}",status="404"} 1.0' in metrics
    assert 'oppscan_scans_started_total{reused="false"} 1.0' in metrics
    assert "oppscan_http_request_duration_seconds_bucket" in metrics
    assert scan_id not in metrics  # labels are templates, never raw ids
    await api.wait_terminal(scan_id)
    metrics = (await api.client.get("/metrics")).text
    # The market cache's counters are served beside the API's: one fetch for this scan.
    assert 'oppscan_market_fetches_total{source="synthetic-7-40"} 1.0' in metrics
    assert 'oppscan_market_snapshot_lookups_total{outcome="fetched"} 1.0' in metrics
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    spec = (await api.client.get("/openapi.json")).json()
    assert f"{API}/discover" in spec["paths"]
    page = await api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/status/" in page.text and "EventSource" in page.text


# -- store down -----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_store_down_is_503_never_404() -> None:
    settings = api_settings()
    dead = RedisScanStore(
        connect(f"redis://127.0.0.1:{_closed_port()}/15"),
        prefix="oppscan-test-dead",
        result_ttl_seconds=settings.result_ttl_seconds,
    )
    # The real app and container, with only the store swapped: passed to bootstrap.
    async for api in serve(settings, build=lambda: bootstrap(settings, store=dead)):
        ready = await api.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "store_unavailable"
        for method, path in (
            ("GET", f"{API}/status/scan_x"),
            ("GET", f"{API}/status/scan_x/events"),
            ("GET", f"{API}/results/scan_x"),
            ("POST", f"{API}/scans/scan_x/cancel"),
            ("GET", f"{API}/scans"),
            ("POST", f"{API}/discover"),
        ):
            r = await api.client.request(method, path, headers=api.auth())
            assert r.status_code == 503, (path, r.text)
            assert r.json()["status"] == "store_unavailable"
            assert "retry-after" in r.headers
        assert (await api.client.get("/healthz")).status_code == 200
