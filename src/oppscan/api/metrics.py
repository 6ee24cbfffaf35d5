"""Prometheus metrics and the access log: one JSON line and one observation per request.

Labelled by route template (``/status/{scan_id}``), never by raw path, so the label set stays
small. Each app has its own registry: two apps in one process (tests) never collide. Under
``serve --workers N`` each worker process exposes its own counters; scrape each, or sum them.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oppscan.logs import get_logger

access_log = get_logger("oppscan.access")

UNMATCHED = "<unmatched>"


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "oppscan_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "oppscan_http_request_duration_seconds",
            "Time to answer an HTTP request (an SSE stream: its whole life), by route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "oppscan_http_requests_in_flight",
            "Requests being answered now (open SSE streams included).",
            registry=self.registry,
        )
        self.scans_started = Counter(
            "oppscan_scans_started_total",
            "POST /discover answers: a new scan, or one reused.",
            ["reused"],
            registry=self.registry,
        )
        self.sse_events = Counter(
            "oppscan_sse_events_total",
            "Status events sent on SSE streams.",
            registry=self.registry,
        )
        self.store_unavailable = Counter(
            "oppscan_store_unavailable_total",
            "Requests answered 503 because the store could not be reached.",
            registry=self.registry,
        )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


PROCESS_HEADER = b"x-oppscan-process"


class AccessLogMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware), so streamed SSE responses pass through untouched.

    Every response also names the process that answered it (``X-Oppscan-Process: host:pid``),
    so an operator, or a test, can see that any API process answers any request.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.process = f"{socket.gethostname()}:{os.getpid()}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The auth dependency writes the user id here, through request.state.
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), (PROCESS_HEADER, self.process)]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self.metrics.in_flight.dec()
            duration = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(duration)
            if status == 503:
                self.metrics.store_unavailable.inc()
            access_log.info(
                "http.request",
                method=method,
                route=route,
                path=scope.get("path"),
                # A scan route's line is the lookup's record: which scan, who, what came of it.
                scan_id=scope.get("path_params", {}).get("scan_id"),
                status=status,
                duration_ms=round(duration * 1000, 2),
                user_id=state.get("user_id"),
            )
