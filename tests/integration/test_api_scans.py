"""The HTTP API's scan flows end to end, in process: discover, status, results, events,
cancel and list, through the real app over an embedded container (see ``asgi_api``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.asgi_api import API, TERMINAL, Api, api_settings, serve


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async for served in serve(api_settings()):
        yield served


# -- discover and status --------------------------------------------------------------------


async def test_discover_then_the_first_poll_finds_the_scan(api: Api) -> None:
    r = await api.discover(capital_usd=5000)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["success"] is True and started["reused"] is False
    scan_id = started["scan_id"]
    assert started["poll_url"] == f"{API}/status/{scan_id}"
    assert started["events_url"] == f"{API}/status/{scan_id}/events"
    assert started["results_url"] == f"{API}/results/{scan_id}"
    assert started["estimated_completion_seconds"] > 0
    assert started["polling_interval_seconds"] > 0

    r = await api.client.get(started["poll_url"], headers=api.auth())
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["scan_id"] == scan_id
    assert status["status"] in ("queued", "scanning")
    catalog = (await api.client.get(f"{API}/strategies", headers=api.auth())).json()
    ids = {s["id"] for s in catalog["strategies"]}
    assert set(status["strategies"]) == ids
    assert status["progress"]["total_strategies"] == len(ids)
    assert status["created_at"].endswith("Z")

    final = await api.wait_terminal(scan_id)
    assert final["progress"]["strategies_completed"] == len(ids)
    assert final["progress"]["percentage"] == 100.0
    assert final["finished_at"] is not None
    assert all(s["status"] != "queued" for s in final["strategies"].values())


async def test_the_same_request_reuses_the_running_scan(api: Api) -> None:
    first = (await api.discover(capital_usd=7000, strategy_ids=None)).json()
    again = await api.discover(capital_usd=7000)
    assert again.status_code == 202
    assert again.json()["reused"] is True
    assert again.json()["scan_id"] == first["scan_id"]
    other_user = (await api.discover("bob", capital_usd=7000)).json()
    assert other_user["scan_id"] != first["scan_id"]


async def test_another_users_scan_answers_exactly_like_an_unknown_one(api: Api) -> None:
    scan_id = (await api.discover("alice")).json()["scan_id"]
    unknown = "scan_" + "0" * 32
    for method, template in (
        ("GET", "/status/{}"),
        ("GET", "/status/{}/events"),
        ("GET", "/results/{}"),
        ("POST", "/scans/{}/cancel"),
    ):
        theirs = await api.client.request(
            method, API + template.format(scan_id), headers=api.auth("mallory")
        )
        missing = await api.client.request(
            method, API + template.format(unknown), headers=api.auth("mallory")
        )
        assert theirs.status_code == missing.status_code == 404, template
        assert theirs.json() == {
            "success": False,
            "status": "not_found",
            "message": f"scan {scan_id} not found",
        }
        assert missing.json()["message"] == f"scan {unknown} not found"
        assert theirs.headers.keys() == missing.headers.keys()
    # ... and the owner still sees it, not cancelled by the other user's attempt.
    r = await api.client.get(f"{API}/status/{scan_id}", headers=api.auth("alice"))
    assert r.status_code == 200 and r.json()["status"] != "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy_ids": ["no_such_strategy"]}, "strategy_ids"),
        ({"strategy_ids": "no_such_strategy,other"}, "strategy_ids"),
        ({"symbols": ["NOTACOIN"]}, "symbols"),
        ({"capital_usd": -5}, "capital_usd"),
        ({"capital_usd": "lots"}, "capital_usd"),
        ({"filter_by_risk_level": "extreme"}, "filter_by_risk_level"),
        ({"strategy_idz": ["x"]}, "strategy_idz"),
        ({"portfolio": {"holdings": [{"symbol": "BTC", "quantity": -1}]}}, "portfolio"),
        # Bounded: every list, string and number (docs/api.md, "Limits").
        ({"opportunity_type": ["spot"] * 10_000}, "opportunity_type"),
        ({"opportunity_type": "x" * 900_000}, "opportunity_type.0"),
        ({"symbols": ["BTC"] * 257}, "symbols"),
        ({"capital_usd": 1e13}, "capital_usd"),
        ({"portfolio": {"holdings": [{"symbol": "BTC", "quantity": 1e308}]}}, "portfolio"),
        ({"portfolio": {"holdings": [{"symbol": "BTC", "quantity": 1}] * 501}}, "portfolio"),
        ({"portfolio": {"cash_usd": False}}, "portfolio.cash_usd"),
    ],
)
async def test_a_bad_body_is_422_naming_the_field_and_starts_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    r = await api.client.post(f"{API}/discover", json=body, headers=api.auth("carol"))
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["success"] is False and error["status"] == "invalid_request"
    assert error["field"].startswith(field)
    assert error["allowed"], error
    listed = await api.client.get(f"{API}/scans", headers=api.auth("carol"))
    assert listed.status_code == 200
    assert listed.json()["items"] == []


async def test_a_strategy_the_token_does_not_allow_is_422_with_the_allowed_ones(api: Api) -> None:
    catalog = (await api.client.get(f"{API}/strategies", headers=api.auth())).json()
    ids = [s["id"] for s in catalog["strategies"]]
    assert len(ids) >= 2, "needs two registered strategies"
    headers = api.auth("dave", strategies=[ids[0]])
    r = await api.client.post(f"{API}/discover", json={"strategy_ids": [ids[1]]}, headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "strategy_ids"
    assert r.json()["allowed"] == [ids[0]]
    mine = (await api.client.get(f"{API}/strategies", headers=headers)).json()["strategies"]
    assert [s["id"] for s in mine if s["allowed"]] == [ids[0]]
    # Without strategy_ids, the scan runs exactly what the token allows.
    r = await api.client.post(f"{API}/discover", json={}, headers=headers)
    assert r.status_code == 202
    status = (await api.client.get(r.json()["poll_url"], headers=headers)).json()
    assert list(status["strategies"]) == [ids[0]]


async def test_discover_without_a_body_runs_the_defaults(api: Api) -> None:
    r = await api.client.post(f"{API}/discover", headers=api.auth())
    assert r.status_code == 202, r.text


# -- results --------------------------------------------------------------------------------


async def test_results_are_202_while_running_then_200(api: Api) -> None:
    scan_id = (await api.discover()).json()["scan_id"]
    early = await api.client.get(f"{API}/results/{scan_id}", headers=api.auth())
    assert early.status_code == 202, early.text
    assert early.json()["partial"] is True
    assert early.json()["status"] in ("queued", "scanning")

    final = await api.wait_terminal(scan_id)
    r = await api.client.get(f"{API}/results/{scan_id}", headers=api.auth())
    assert r.status_code == 200
    body = r.json()
    assert body["user_id"] == "alice"
    assert body["status"] == final["status"]
    assert body["partial"] is (final["status"] != "complete")
    assert body["total_opportunities"] == len(body["opportunities"]) or body[
        "total_opportunities"
    ] > len(body["opportunities"])
    assert body["execution_time_ms"] > 0
    counted = sum(p["count"] for p in body["strategy_performance"].values())
    assert counted == final["progress"]["opportunities_found_so_far"]
    for o in body["opportunities"]:
        assert 0 <= o["confidence_score"] <= 1
        assert o["risk_level"] in ("low", "medium", "high", "very_high")
        assert o["profit_potential_usd"] > 0


async def test_results_query_filters_sorts_and_pages(api: Api) -> None:
    scan_id = (await api.discover()).json()["scan_id"]
    await api.wait_terminal(scan_id)
    url = f"{API}/results/{scan_id}"
    everything = (await api.client.get(url, params={"limit": 1000}, headers=api.auth())).json()
    opportunities = everything["opportunities"]
    if len(opportunities) < 2:
        pytest.skip("the synthetic market gave fewer than two opportunities")
    by_profit = (
        await api.client.get(url, params={"sort": "profit", "limit": 1000}, headers=api.auth())
    ).json()["opportunities"]
    profits = [o["profit_potential_usd"] for o in by_profit]
    assert profits == sorted(profits, reverse=True)
    page = (
        await api.client.get(
            url, params={"sort": "profit", "limit": 1, "offset": 1}, headers=api.auth()
        )
    ).json()
    assert page["opportunities"][0]["opportunity_id"] == by_profit[1]["opportunity_id"]
    assert page["total_opportunities"] == len(opportunities)
    strategy = opportunities[0]["strategy_id"]
    only = (
        await api.client.get(url, params={"strategy": strategy, "limit": 1000}, headers=api.auth())
    ).json()
    assert {o["strategy_id"] for o in only["opportunities"]} == {strategy}
    floor = sorted(o["confidence_score"] for o in opportunities)[len(opportunities) // 2]
    confident = (
        await api.client.get(
            url, params={"min_confidence": floor, "limit": 1000}, headers=api.auth()
        )
    ).json()["opportunities"]
    assert confident and all(o["confidence_score"] >= floor for o in confident)
    bad = await api.client.get(url, params={"sort": "best"}, headers=api.auth())
    assert bad.status_code == 422 and bad.json()["field"] == "sort"
    bad = await api.client.get(url, params={"limit": 1001}, headers=api.auth())
    assert bad.status_code == 422 and bad.json()["field"] == "limit"


# -- events ---------------------------------------------------------------------------------


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


async def test_events_stream_growing_progress_and_closes_at_the_terminal_status(api: Api) -> None:
    scan_id = (await api.discover()).json()["scan_id"]
    r = await api.client.get(f"{API}/status/{scan_id}/events", headers=api.auth(), timeout=60)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = _sse(r.text)
    assert len(events) >= 2, events
    assert all(name == "status" for name, _ in events)
    percentages = [e["progress"]["percentage"] for _, e in events]
    assert percentages == sorted(percentages)
    assert percentages[0] < percentages[-1] == 100.0
    assert events[0][1]["status"] in ("queued", "scanning")
    assert events[-1][1]["status"] in TERMINAL
    assert all(e["status"] not in TERMINAL for _, e in events[:-1])  # closes right after


# -- cancel and list ------------------------------------------------------------------------


async def test_cancel_a_running_scan(api: Api) -> None:
    scan_id = (await api.discover()).json()["scan_id"]
    r = await api.client.post(f"{API}/scans/{scan_id}/cancel", headers=api.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["finished_at"] is not None
    await asyncio.sleep(1.0)  # the market data arrives: nothing may run for a cancelled scan
    later = (await api.client.get(f"{API}/status/{scan_id}", headers=api.auth())).json()
    assert later["status"] == "cancelled"
    assert all(s["status"] in ("cancelled", "skipped") for s in later["strategies"].values())
    again = await api.client.post(f"{API}/scans/{scan_id}/cancel", headers=api.auth())
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    results = await api.client.get(f"{API}/results/{scan_id}", headers=api.auth())
    assert results.status_code == 200 and results.json()["partial"] is True


async def test_list_scans_newest_first_with_a_cursor(api: Api) -> None:
    started = []
    for capital in (1000, 2000, 3000):
        started.append((await api.discover("erin", capital_usd=capital)).json()["scan_id"])
        await asyncio.sleep(0.01)
    headers = api.auth("erin")
    first = (await api.client.get(f"{API}/scans", params={"limit": 2}, headers=headers)).json()
    assert [i["scan_id"] for i in first["items"]] == started[::-1][:2]
    assert first["next_cursor"]
    second = (
        await api.client.get(
            f"{API}/scans", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert [i["scan_id"] for i in second["items"]] == [started[0]]
    assert second["next_cursor"] is None
    item = second["items"][0]
    assert item["status_url"] == f"{API}/status/{started[0]}"
    bad = await api.client.get(f"{API}/scans", params={"cursor": "nonsense"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
