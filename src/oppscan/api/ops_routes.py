"""Routes for operators, outside the prefix and without a token: liveness, readiness, metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from oppscan.api.backend import get_backend
from oppscan.api.metrics import ApiMetrics
from oppscan.domain.errors import StoreUnavailable
from oppscan.logs import get_logger
from oppscan.service.scans import NO_WORKER

log = get_logger("oppscan.api")

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    success: Literal[True] = True
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    success: bool
    status: Literal["ready", "store_unavailable"]
    store: Literal["embedded", "redis"] = Field(description="where scans are kept")
    workers: int | None = Field(
        default=None,
        description="scan workers alive now (Redis); null when scans run in this process",
    )
    message: str | None = Field(
        default=None, description="why not ready, or what is missing while ready"
    )


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive (it says nothing about the store)."""
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "the store cannot be reached"}},
)
async def readyz(request: Request) -> JSONResponse:
    """The store answers a ping: 200; otherwise 503, so a balancer stops sending traffic here."""
    backend = get_backend(request)
    mode = "embedded" if backend.settings.embedded else "redis"
    try:
        await backend.service.ping()
    except Exception as exc:  # any failure to ping means: do not route traffic here
        reason = str(exc) if isinstance(exc, StoreUnavailable) else repr(exc)
        log.warning("api.readyz", outcome="store_unavailable", reason=reason)
        return JSONResponse(
            {
                "success": False,
                "status": "store_unavailable",
                "store": mode,
                "message": "the scan store cannot be reached",
            },
            status_code=503,
        )
    workers = await backend.service.live_workers()
    ready = Ready(success=True, status="ready", store=mode, workers=workers)
    if workers == 0:
        # Still ready: this process answers every read. New scans wait for a worker.
        ready.message = NO_WORKER
    return JSONResponse(ready.model_dump(mode="json"))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """The API's own metrics (requests, scans, SSE) and its backend's (the market cache)."""
    api_metrics: ApiMetrics = request.app.state.metrics
    body = generate_latest(api_metrics.registry) + generate_latest(get_backend(request).registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
