"""What the OpenAPI document shows a caller works: every example request it documents succeeds
against the real app, and every refusal the service writes is the body the document declares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from oppscan.api import error_bodies
from oppscan.api.body_limit import MAX_BODY_BYTES
from tests.integration.asgi_api import API, Api, api_settings, serve


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async for served in serve(api_settings(synthetic_latency_ms=0.0)):
        yield served


async def test_every_documented_example_request_succeeds(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    scan_id = (await api.discover()).json()["scan_id"]
    tried = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            examples = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("examples", {})
            )
            for name, example in examples.items():
                r = await api.client.request(
                    method,
                    path.replace("{scan_id}", scan_id),
                    json=example["value"],
                    headers=api.auth(),
                )
                assert r.status_code < 300, (path, name, r.text)
                tried += 1
    assert tried >= 4  # the discover examples, at least


async def test_every_operation_answers_without_optional_input(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    scan_id = (await api.discover()).json()["scan_id"]
    await api.wait_terminal(scan_id)
    for path, operations in spec["paths"].items():
        for method in operations:
            r = await api.client.request(
                method, path.replace("{scan_id}", scan_id), headers=api.auth()
            )
            assert r.status_code < 300, (method, path, r.text)


def declared(model: type[error_bodies.Refusal], body: dict[str, Any]) -> None:
    """``body`` is exactly ``model``: no field missing, none extra."""
    assert model.model_validate(body).model_dump(mode="json") == body


async def test_each_refusal_is_the_declared_body(api: Api) -> None:
    r = await api.client.get(f"{API}/status/scan_x")
    assert r.status_code == 401
    declared(error_bodies.Unauthorized, r.json())
    r = await api.client.get(f"{API}/status/scan_x", headers=api.auth())
    assert r.status_code == 404
    declared(error_bodies.NotFound, r.json())
    r = await api.discover(capital_usd=-1)
    assert r.status_code == 422 and r.json()["field"] == "capital_usd"
    declared(error_bodies.InvalidRequest, r.json())
    r = await api.discover(strategy_ids=["nope"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "strategy_ids"
    declared(error_bodies.InvalidRequest, r.json())
    r = await api.client.get(f"{API}/scans", params={"limit": 0}, headers=api.auth())
    assert r.status_code == 422 and r.json()["field"] == "limit"
    declared(error_bodies.InvalidRequest, r.json())


async def test_a_body_over_the_limit_is_413_and_starts_nothing(api: Api) -> None:
    huge = b'{"symbols": "' + b"B" * MAX_BODY_BYTES + b'"}'
    headers = {**api.auth(), "content-type": "application/json"}
    announced = await api.client.post(f"{API}/discover", content=huge, headers=headers)
    assert announced.status_code == 413
    declared(error_bodies.PayloadTooLarge, announced.json())

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(huge), 65_536):
            yield huge[start : start + 65_536]

    streamed = await api.client.post(f"{API}/discover", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["limit_bytes"] == MAX_BODY_BYTES
    listed = (await api.client.get(f"{API}/scans", headers=api.auth())).json()
    assert listed["items"] == []
    # A body under the limit is read whole and passed on, streamed or not.
    small = b'{"capital_usd": 1234}'

    async def one_chunk() -> AsyncIterator[bytes]:
        yield small

    ok = await api.client.post(f"{API}/discover", content=one_chunk(), headers=headers)
    assert ok.status_code == 202, ok.text


async def test_a_store_outage_is_the_declared_body() -> None:
    # The 503 body, through the handler, for a route that reaches the store.
    from oppscan.bootstrap import bootstrap
    from oppscan.store.redis_store import RedisScanStore, connect

    settings = api_settings()
    dead = RedisScanStore(
        connect("redis://127.0.0.1:1/15"), prefix="oppscan-test-dead", result_ttl_seconds=60
    )
    async for api in serve(settings, build=lambda: bootstrap(settings, store=dead)):
        r = await api.client.get(f"{API}/status/scan_x", headers=api.auth())
        assert r.status_code == 503 and r.headers["retry-after"]
        declared(error_bodies.StoreUnavailable, r.json())


async def test_rate_limited_is_the_declared_body() -> None:
    settings = api_settings(scans_per_minute={"basic": 1, "pro": 1, "enterprise": 1})
    async for api in serve(settings):
        assert (await api.discover("ivan", capital_usd=1000)).status_code == 202
        r = await api.discover("ivan", capital_usd=2000)
        if r.status_code == 202:  # the minute turned between the two: try once more
            r = await api.discover("ivan", capital_usd=3000)
        assert r.status_code == 429
        declared(error_bodies.RateLimited, r.json())


def test_httpx_sends_no_length_for_a_generator() -> None:
    # The streamed case above relies on it: a body of unknown length goes chunked.
    request = httpx.Request("POST", "http://x/", content=iter([b"a"]))
    assert "content-length" not in request.headers
