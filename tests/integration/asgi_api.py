"""The HTTP API in process, for its integration tests: the real app over a container that
``bootstrap`` builds (embedded by default), driven by httpx over ASGI.

Every answer goes through the real routes, auth, service, store, job runner and the synthetic
market. A latency on market data keeps scans running long enough to watch them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from oppscan.api.app import create_app
from oppscan.auth import issue_token
from oppscan.bootstrap import Container, bootstrap
from oppscan.settings import Settings

SECRET = "integration-test-secret-of-32-bytes-plus"
API = "/api/v1/opportunities"
TERMINAL = {"complete", "partial", "failed", "cancelled"}


def api_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": None,
        "jwt_secret": SECRET,
        "market_source": "synthetic",
        "synthetic_latency_ms": 600.0,  # slow enough to see a scan before it finishes
        "scan_deadline_seconds": 60.0,
        "scans_per_minute": {"basic": 50, "pro": 50, "enterprise": 50},
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Api:
    client: httpx.AsyncClient
    settings: Settings

    def auth(self, user: str = "alice", **claims: Any) -> dict[str, str]:
        token = issue_token(self.settings, user, **claims)
        return {"Authorization": f"Bearer {token}"}

    async def discover(self, user: str = "alice", **body: Any) -> httpx.Response:
        return await self.client.post(f"{API}/discover", json=body, headers=self.auth(user))

    async def wait_terminal(self, scan_id: str, user: str = "alice") -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = await self.client.get(f"{API}/status/{scan_id}", headers=self.auth(user))
            assert r.status_code == 200, r.text
            if r.json()["status"] in TERMINAL:
                return dict(r.json())
            await asyncio.sleep(0.1)
        raise AssertionError(f"scan {scan_id} not terminal within 60 s")


async def serve(
    settings: Settings, build: Callable[[], Container] | None = None
) -> AsyncIterator[Api]:
    """The app over ``build()`` (default: ``bootstrap(settings)``), started and stopped."""
    app = create_app(settings, build=build or (lambda: bootstrap(settings)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, settings)
