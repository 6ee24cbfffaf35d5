"""``oppscan worker``: a SAQ worker process over the parts ``bootstrap`` builds from settings."""

from __future__ import annotations

import asyncio

from oppscan.bootstrap import bootstrap, build_worker
from oppscan.logs import configure_logging
from oppscan.settings import Settings


def run_worker(
    settings: Settings, concurrency: int, metrics: tuple[str, int] | None = None
) -> None:
    """Run a worker until it is stopped; with ``metrics`` (host, port), serve its Prometheus
    registry there: the workers fetch the market, so its counters live in them."""
    configure_logging(settings.log_level)
    container = bootstrap(settings)
    if metrics is not None:
        from prometheus_client import start_http_server

        host, port = metrics
        start_http_server(port, addr=host, registry=container.registry)
    worker = build_worker(container, concurrency)
    try:
        import uvloop

        uvloop.run(worker.start())
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(worker.start())
