"""The HTTP API's access and operations, in process: tokens, the rate limit, health, metrics,
docs, and a store that is down (see ``asgi_api``)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import jwt
import pytest

from oppscan.api.body_limit import MAX_BODY_BYTES
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


async def test_the_token_is_checked_before_the_body_is_read_or_parsed(api: Api) -> None:
    pulled: list[int] = []

    async def streamed(data: bytes) -> AsyncIterator[bytes]:  # no Content-Length
        for start in range(0, len(data), 65_536):
            pulled.append(start)
            yield data[start : start + 65_536]

    json_type = {"content-type": "application/json"}
    too_big = b'{"symbols": "' + b"B" * MAX_BODY_BYTES + b'"}'
    # Without a valid token: 401, and not one byte of the body is read, whatever it is.
    for body in (b"{not json", b'{"capital_usd": 1000}', too_big):
        for headers in ({}, {"Authorization": "Bearer not.a.jwt"}):
            r = await api.client.post(
                f"{API}/discover", content=streamed(body), headers={**headers, **json_type}
            )
            assert r.status_code == 401, (body[:20], r.text)
    assert pulled == []
    # A body announced too large: the token first (401), the size (413) only with a token.
    r = await api.client.post(f"{API}/discover", content=too_big, headers=json_type)
    assert r.status_code == 401
    with_token = {**api.auth(), **json_type}
    r = await api.client.post(f"{API}/discover", content=too_big, headers=with_token)
    assert r.status_code == 413 and r.json()["status"] == "payload_too_large"
    # With a token, malformed JSON is what it is: 422.
    r = await api.client.post(f"{API}/discover", content=b"{not json", headers=with_token)
    assert r.status_code == 422 and r.json()["status"] == "invalid_request"


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


def _csp(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


async def test_every_answer_carries_the_security_headers(api: Api) -> None:
    answers = {
        "/": await api.client.get("/"),
        "/docs": await api.client.get("/docs"),
        "/healthz": await api.client.get("/healthz"),
        "/openapi.json": await api.client.get("/openapi.json"),
        "swagger css": await api.client.get("/static/swagger-ui/swagger-ui.css"),
        "401": await api.client.get(f"{API}/status/scan_x"),
        "404": await api.client.get(f"{API}/status/scan_x", headers=api.auth()),
        "404 path": await api.client.get("/nowhere"),
        "413": await api.client.post(
            f"{API}/discover", content=b"[" * (MAX_BODY_BYTES + 1), headers=api.auth()
        ),
    }
    for name, r in answers.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "no-referrer", name
        assert r.headers["x-frame-options"] == "DENY", name
        policy = _csp(r.headers["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["default-src"] == ["'none'"], name
    for page in ("/", "/docs"):
        policy = _csp(answers[page].headers["content-security-policy"])
        # Scripts: this origin's files, and the page's own inline script by its hash; nothing
        # inline else, nothing from elsewhere.
        assert "'unsafe-inline'" not in policy["script-src"], page
        assert any(s.startswith("'sha256-") for s in policy["script-src"]), page
        assert all(s == "'self'" or s.startswith("'sha256-") for s in policy["script-src"]), page
        assert policy["connect-src"] == ["'self'"], page
    assert "script-src" not in _csp(answers["401"].headers["content-security-policy"])


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
