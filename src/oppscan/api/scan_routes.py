"""``/api/v1/opportunities``: parse, call a use case, render. Nothing about a scan lives here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.openapi.models import Example

from oppscan.api import error_bodies as bodies
from oppscan.api.auth_dep import AuthenticatedRoute, Caller, Service
from oppscan.api.events import status_events
from oppscan.api.metrics import ApiMetrics
from oppscan.domain.models import RiskLevel
from oppscan.schemas import (
    PREFIX,
    Catalog,
    DiscoverReply,
    ResultsReply,
    ScanList,
    StatusReply,
    render_catalog,
    render_discover,
    render_results,
    render_summary,
    status_json,
)
from oppscan.service.requests import DiscoverInput
from oppscan.service.scans import ResultsQuery

_REFUSALS: dict[int, tuple[type[bodies.Refusal], dict[str, str]]] = {
    401: (bodies.Unauthorized, {"WWW-Authenticate": 'Bearer error="invalid_token"'}),
    404: (bodies.NotFound, {}),
    413: (bodies.PayloadTooLarge, {}),
    422: (bodies.InvalidRequest, {}),
    429: (bodies.RateLimited, {"Retry-After": "seconds until a new scan may start"}),
    503: (bodies.StoreUnavailable, {"Retry-After": "seconds to wait before trying again"}),
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for the refusals a route can answer: the bodies the error
    handlers write, with their headers."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model, headers = _REFUSALS[code]
        declared[code] = {
            "model": model,
            "description": (model.__doc__ or "").split(": ", 1)[-1].strip(),
            "headers": {
                name: {"description": meaning, "schema": {"type": "string"}}
                for name, meaning in headers.items()
            },
        }
    return declared


JSON = "application/json"

# Each example is sent by a test to the real app (tests/integration/test_api_examples.py).
DISCOVER_EXAMPLES: dict[str, Example] = {
    "two_strategies": {
        "summary": "two strategies, $5,000",
        "value": {"strategy_ids": ["spot_momentum_strategy", "pairs_trading"], "capital_usd": 5000},
    },
    "everything": {"summary": "every strategy your token allows, defaults", "value": {}},
    "portfolio": {
        "summary": "hedge and risk of a portfolio",
        "value": {
            "strategy_ids": "hedge_position,risk_management",
            "portfolio": {"holdings": [{"symbol": "BTC", "quantity": 0.5}], "cash_usd": 2000},
        },
    },
    "filtered": {
        "summary": "large caps, low risk, at least $20 profit",
        "value": {
            "asset_tiers": ["large_cap"],
            "filter_by_risk_level": "low",
            "min_profit_potential": 20,
        },
    },
}

# Every route checks the token before the body is read or parsed (auth_dep).
router = APIRouter(prefix=PREFIX, tags=["opportunities"], route_class=AuthenticatedRoute)


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


@router.post(
    "/discover",
    status_code=202,
    response_model=DiscoverReply,
    responses=refusals(401, 413, 422, 429, 503),
)
async def discover(
    request: Request,
    who: Caller,
    service: Service,
    body: Annotated[DiscoverInput | None, Body(openapi_examples=DISCOVER_EXAMPLES)] = None,
) -> DiscoverReply:
    """Start a scan, or get back your identical one still running or freshly finished.

    The scan exists in the store before this answers: the first poll, on any process, finds it.
    Follow it on `poll_url` (or `events_url`), then read `results_url`.
    """
    started = await service.start(who, body or DiscoverInput())
    _metrics(request).scans_started.labels(str(started.reused).lower()).inc()
    return render_discover(started)


@router.get("/status/{scan_id}", response_model=StatusReply, responses=refusals(401, 404, 503))
async def status(scan_id: str, who: Caller, service: Service) -> Response:
    """A scan's progress: each strategy's state, and the best results so far."""
    # The hot path: one store read, serialised straight to bytes (no response-model pass).
    return Response(status_json(await service.status(who, scan_id)), media_type=JSON)


@router.get(
    "/status/{scan_id}/events",
    response_class=Response,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "a `status` event (the status body) at once and at every change; "
            "closes after the terminal one. `error` ends the stream if the store fails; "
            "`reconnect` if this process stops (reconnect to any process).",
        },
        **refusals(401, 404, 503),
    },
)
async def events(scan_id: str, request: Request, who: Caller, service: Service) -> Response:
    """Server-Sent Events: the status body, once per change, until the scan is terminal."""
    # The first read happens before the stream opens, so 404 and 503 are real status codes.
    first = await service.status(who, scan_id)
    return status_events(service, who, first, _metrics(request))


@router.get(
    "/results/{scan_id}",
    response_model=ResultsReply,
    responses={
        202: {"model": ResultsReply, "description": "still running: what is done so far"},
        **refusals(401, 404, 422, 503),
    },
)
async def results(
    scan_id: str,
    who: Caller,
    service: Service,
    strategy: Annotated[str | None, Query(description="only this strategy id")] = None,
    symbol: Annotated[
        str | None, Query(description="only this market, e.g. BTC or BTC/USDT")
    ] = None,
    risk_level: Annotated[RiskLevel | None, Query(description="only this risk level")] = None,
    min_confidence: Annotated[
        float | None, Query(ge=0, le=1, description="at least this confidence, 0..1")
    ] = None,
    min_profit_usd: Annotated[
        float | None, Query(ge=0, description="at least this profit, USD")
    ] = None,
    sort: Annotated[
        Literal["score", "profit", "confidence"],
        Query(
            description="score: risk-adjusted edge (net_edge_bps x confidence / sqrt(horizon "
            "in days, at least 1/24) / (1 + risk rank)); profit: profit_potential_usd; "
            "confidence: confidence_score; best first"
        ),
    ] = "score",
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, description="opportunities to skip")] = 0,
) -> Response:
    """The opportunities, best first: 200 once the scan is terminal, 202 with what is done so
    far while it runs. The query filters, sorts and pages them."""
    query = ResultsQuery(
        strategy=strategy,
        symbol=symbol,
        risk_level=risk_level,
        min_confidence=min_confidence,
        min_profit_usd=min_profit_usd,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    page = await service.results(who, scan_id, query)
    body = render_results(page)
    code = 200 if page.view.record.status.terminal else 202
    return Response(body.model_dump_json(), status_code=code, media_type="application/json")


@router.post(
    "/scans/{scan_id}/cancel", response_model=StatusReply, responses=refusals(401, 404, 503)
)
async def cancel(scan_id: str, who: Caller, service: Service) -> Response:
    """Cancel a running scan; a finished one is left as it is. Either way: its status."""
    return Response(status_json(await service.cancel(who, scan_id)), media_type=JSON)


@router.get("/scans", response_model=ScanList, responses=refusals(401, 422, 503))
async def list_scans(
    who: Caller,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page; omit for the first")
    ] = None,
) -> ScanList:
    """Your scans, newest first; pass `next_cursor` back as `cursor` for the next page."""
    records, next_cursor = await service.list_scans(who, limit, cursor)
    return ScanList(items=[render_summary(r) for r in records], next_cursor=next_cursor)


@router.get("/strategies", response_model=Catalog, responses=refusals(401))
async def strategies(who: Caller, service: Service) -> Catalog:
    """The strategy catalog, and which strategies your token may run."""
    return render_catalog(service.catalog(), who.allowed_strategies)
