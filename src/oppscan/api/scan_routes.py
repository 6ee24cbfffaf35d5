"""``/api/v1/opportunities``: parse, call a use case, render. Nothing about a scan lives here."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from oppscan.api.auth_dep import Caller, Service
from oppscan.api.events import status_events
from oppscan.api.metrics import ApiMetrics
from oppscan.domain.models import RiskLevel
from oppscan.schemas import (
    PREFIX,
    Catalog,
    DiscoverReply,
    ErrorBody,
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

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "missing, malformed, expired or badly signed token"},
    404: {"model": ErrorBody, "description": "unknown scan id (or another user's)"},
    503: {"model": ErrorBody, "description": "the store cannot be reached"},
}

JSON = "application/json"

router = APIRouter(prefix=PREFIX, tags=["opportunities"], responses=_ERRORS)


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


@router.post(
    "/discover",
    status_code=202,
    response_model=DiscoverReply,
    responses={422: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
async def discover(
    request: Request,
    who: Caller,
    service: Service,
    body: Annotated[DiscoverInput | None, Body()] = None,
) -> DiscoverReply:
    """Start a scan, or get back your identical one still running or freshly finished."""
    started = await service.start(who, body or DiscoverInput())
    _metrics(request).scans_started.labels(str(started.reused).lower()).inc()
    return render_discover(started)


@router.get("/status/{scan_id}", response_model=StatusReply)
async def status(scan_id: str, who: Caller, service: Service) -> Response:
    """The hot path: one store read, serialised straight to bytes."""
    return Response(status_json(await service.status(who, scan_id)), media_type=JSON)


@router.get(
    "/status/{scan_id}/events",
    response_class=Response,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "one `status` event per change; closes when terminal",
        }
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
    responses={202: {"model": ResultsReply, "description": "still running: what is done so far"}},
)
async def results(
    scan_id: str,
    who: Caller,
    service: Service,
    strategy: str | None = None,
    symbol: str | None = None,
    risk_level: RiskLevel | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    min_profit_usd: Annotated[float | None, Query(ge=0)] = None,
    sort: Literal["score", "profit", "confidence"] = "score",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
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


@router.post("/scans/{scan_id}/cancel", response_model=StatusReply)
async def cancel(scan_id: str, who: Caller, service: Service) -> Response:
    """Cancel a running scan; a finished one is left as it is. Either way: its status."""
    return Response(status_json(await service.cancel(who, scan_id)), media_type=JSON)


@router.get("/scans", response_model=ScanList, responses={422: {"model": ErrorBody}})
async def list_scans(
    who: Caller,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ScanList:
    """Your scans, newest first; pass `next_cursor` back as `cursor` for the next page."""
    records, next_cursor = await service.list_scans(who, limit, cursor)
    return ScanList(items=[render_summary(r) for r in records], next_cursor=next_cursor)


@router.get("/strategies", response_model=Catalog)
async def strategies(who: Caller, service: Service) -> Catalog:
    return render_catalog(service.catalog(), who.allowed_strategies)
