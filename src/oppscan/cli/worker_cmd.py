"""``oppscan worker``: a SAQ worker process over the parts ``bootstrap`` builds from settings."""

from __future__ import annotations

import asyncio

from oppscan.bootstrap import bootstrap, build_worker
from oppscan.logs import configure_logging
from oppscan.settings import Settings


def run_worker(settings: Settings, concurrency: int) -> None:
    configure_logging(settings.log_level)
    worker = build_worker(bootstrap(settings), concurrency)
    try:
        import uvloop

        uvloop.run(worker.start())
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(worker.start())
