"""What the API needs from the process it runs in: the scan service and its metrics.

The composition root (``oppscan.bootstrap.Container``) satisfies it; the API never builds it.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request
from prometheus_client import CollectorRegistry

from oppscan.service.scans import ScanService
from oppscan.settings import Settings


class Backend(Protocol):
    settings: Settings
    service: ScanService
    registry: CollectorRegistry  # the parts' metrics (the market cache's), served on /metrics

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def get_backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend
