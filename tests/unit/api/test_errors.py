"""Every refusal's status code and JSON shape, through a small app with the real handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import FastAPI, Query

from oppscan.api.errors import install_error_handlers
from oppscan.auth import TokenInvalid
from oppscan.domain.errors import StoreUnavailable
from oppscan.service.errors import InvalidRequest, RateLimited, ScanNotFound
from oppscan.service.requests import DiscoverInput


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    raised: dict[str, Exception] = {
        "token": TokenInvalid("token expired"),
        "missing": ScanNotFound("scan_x"),
        "invalid": InvalidRequest("strategy_ids", "unknown value(s) ['x']", ["a", "b"]),
        "rate": RateLimited(retry_after=17, limit=10),
        "store": StoreUnavailable("connection refused to 127.0.0.1:1"),
        "bug": RuntimeError("secret internals: password=hunter2"),
    }

    @app.get("/raise/{name}")
    async def raise_it(name: str) -> None:
        raise raised[name]

    @app.post("/body")
    async def body(payload: DiscoverInput) -> dict[str, bool]:
        return {"ok": True}

    @app.get("/query")
    async def query(
        sort: Literal["score", "profit", "confidence"] = "score",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_bad_token_is_401_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/token")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json() == {"success": False, "status": "unauthorized", "message": "token expired"}


async def test_not_found_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/missing")
    assert r.status_code == 404
    assert r.json() == {"success": False, "status": "not_found", "message": "scan scan_x not found"}


async def test_invalid_request_names_field_and_allowed(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/invalid")
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == "invalid_request"
    assert body["field"] == "strategy_ids"
    assert body["allowed"] == ["a", "b"]


async def test_rate_limited_has_retry_after(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/rate")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "17"
    assert r.json()["status"] == "rate_limited"


async def test_store_down_is_503_never_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/store")
    assert r.status_code == 503
    assert r.json()["status"] == "store_unavailable"
    assert "127.0.0.1" not in r.text  # how the store is reached is not the caller's business


async def test_unexpected_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    r = await client.get("/raise/bug")
    assert r.status_code == 500
    assert r.json()["status"] == "internal_error"
    assert "hunter2" not in r.text and "RuntimeError" not in r.text


async def test_unknown_body_field_lists_the_known_ones(client: httpx.AsyncClient) -> None:
    r = await client.post("/body", json={"strategy_idz": ["a"]})
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "strategy_idz"
    assert "strategy_ids" in body["allowed"]


async def test_wrong_type_in_body_names_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/body", json={"capital_usd": "lots"})
    assert r.status_code == 422
    assert r.json()["field"] == "capital_usd"
    assert r.json()["allowed"] == ["a number"]


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/body", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["status"] == "invalid_request"


async def test_query_literal_lists_allowed_values(client: httpx.AsyncClient) -> None:
    r = await client.get("/query", params={"sort": "best"})
    assert r.status_code == 422
    assert r.json()["field"] == "sort"
    assert r.json()["allowed"] == ["score", "profit", "confidence"]


async def test_query_bound_says_the_bound(client: httpx.AsyncClient) -> None:
    r = await client.get("/query", params={"limit": 0})
    assert r.status_code == 422
    assert r.json()["field"] == "limit"
    assert r.json()["allowed"] == [">= 1"]


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/nowhere")
    assert r.status_code == 404
    assert r.json()["success"] is False


@pytest.mark.parametrize(
    ("payload", "field", "allowed"),
    [
        ({"opportunity_type": ["spot"] * 65}, "opportunity_type", ["at most 64 items"]),
        ({"opportunity_type": ["x" * 65]}, "opportunity_type.0", ["at most 64 characters"]),
        ({"capital_usd": 1e13}, "capital_usd", ["<= 1000000000000"]),
        ({"portfolio": {"cash_usd": False}}, "portfolio.cash_usd", ["a number"]),
        (
            {"portfolio": {"holdings": [{"symbol": "BTC", "quantity": 1e308}]}},
            "portfolio.holdings.0.quantity",
            ["<= 1000000000000000"],
        ),
    ],
)
async def test_a_bound_names_the_field_and_the_limit(
    client: httpx.AsyncClient, payload: dict[str, object], field: str, allowed: list[str]
) -> None:
    r = await client.post("/body", json=payload)
    assert r.status_code == 422
    body = r.json()
    assert (body["field"], body["allowed"]) == (field, allowed)
    assert body["errors"] == [{"field": field, "message": body["message"], "allowed": allowed}]
