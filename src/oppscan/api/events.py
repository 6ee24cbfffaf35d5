"""``GET /status/{scan_id}/events``: the status body as Server-Sent Events.

The stream polls the service (one store read each time) and sends an event only when the
record's ``version`` moves, so a quiet scan costs no bandwidth; it closes after the terminal
event. Any worker can serve it: it reads the shared store, like every other route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent

from oppscan.api.metrics import ApiMetrics
from oppscan.domain.errors import StoreUnavailable
from oppscan.domain.models import ScanView
from oppscan.logs import get_logger
from oppscan.schemas import status_json
from oppscan.service.errors import ScanNotFound
from oppscan.service.principal import Principal
from oppscan.service.scans import ScanService

log = get_logger("oppscan.events")

POLL_SECONDS = 0.3
KEEPALIVE_SECONDS = 15
SHUTDOWN_GRACE_SECONDS = 1.0
RECONNECT_MS = 1000


def _event(view: ScanView) -> ServerSentEvent:
    return ServerSentEvent(
        data=status_json(view).decode(),
        event="status",
        id=str(view.record.version),
    )


async def _changes(
    service: ScanService,
    who: Principal,
    first: ScanView,
    metrics: ApiMetrics,
    shutdown: anyio.Event,
) -> AsyncIterator[ServerSentEvent]:
    view = first
    yield _event(view)
    metrics.sse_events.inc()
    version = view.record.version
    scan_id = view.record.scan_id
    while not view.record.status.terminal:
        with anyio.move_on_after(POLL_SECONDS):
            await shutdown.wait()
        if shutdown.is_set():
            # This process is stopping: end the stream properly and tell the client to come
            # back, to any other process (the scan lives in the store, not here).
            yield ServerSentEvent(
                data='{"success": false, "status": "server_shutting_down"}',
                event="reconnect",
                retry=RECONNECT_MS,
            )
            return
        try:
            view = await service.status(who, scan_id)
        except StoreUnavailable as exc:
            # The status code is already sent: say it in the stream, and let the client retry.
            log.warning(
                "scan.events",
                scan_id=scan_id,
                user_id=who.user_id,
                outcome="store_unavailable",
                reason=str(exc) or repr(exc),
            )
            yield ServerSentEvent(
                data='{"success": false, "status": "store_unavailable"}', event="error"
            )
            return
        except ScanNotFound:
            yield ServerSentEvent(data='{"success": false, "status": "not_found"}', event="error")
            return
        if view.record.version != version:
            version = view.record.version
            yield _event(view)
            metrics.sse_events.inc()


def status_events(
    service: ScanService, who: Principal, first: ScanView, metrics: ApiMetrics
) -> EventSourceResponse:
    shutdown = anyio.Event()
    return EventSourceResponse(
        _changes(service, who, first, metrics, shutdown),
        ping=KEEPALIVE_SECONDS,
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
