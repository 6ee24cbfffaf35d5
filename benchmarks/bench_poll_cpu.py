"""CPU per status poll inside one API process, by ASGI call (no sockets, no load generator).

The throughput benchmark measures the whole machine; this one says where a poll's CPU goes:
the full status route, the same app's ``/healthz`` (framework, middleware and the access line),
and the bare baseline app. Process time, so waiting on Redis is not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI
from tests.integration.processes import purge

from benchmarks import bare_app
from oppscan.api.app import create_app
from oppscan.auth import issue_token
from oppscan.bootstrap import bootstrap
from oppscan.logs import configure_logging
from oppscan.service.principal import Principal
from oppscan.service.requests import DiscoverInput
from oppscan.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/13"
REQUESTS = 5000


async def _call(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


async def _cpu_us(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> float:
    assert await _call(app, path, headers) == 200
    rounds = []
    for _ in range(3):
        started = time.process_time()
        for _ in range(REQUESTS):
            await _call(app, path, headers)
        rounds.append((time.process_time() - started) / REQUESTS * 1e6)
    return round(statistics.median(rounds))


async def _run() -> dict[str, Any]:
    prefix = f"oppscan-bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        redis_url=REDIS_URL,
        key_prefix=prefix,
        log_level="INFO",
        jwt_secret="benchmark-secret-of-at-least-32-bytes-long",
    )
    container = bootstrap(settings)
    app = create_app(settings, build=lambda: container)  # the app starts and closes it
    try:
        async with app.router.lifespan_context(app):
            who = Principal("bench", tier="enterprise")
            started = await container.service.start(who, DiscoverInput())
            for sid in started.record.request.strategy_ids:  # run the scan here: no worker
                await container.runner.run(started.record.scan_id, sid)
            auth = [(b"authorization", f"Bearer {issue_token(settings, 'bench')}".encode())]
            status = await _cpu_us(
                app, f"/api/v1/opportunities/status/{started.record.scan_id}", auth
            )
            health = await _cpu_us(app, "/healthz", [])
            body = await container.store.get_view(started.record.scan_id)
            assert body is not None
        bare = bare_app.create_app()
        async with bare.router.lifespan_context(bare):
            await bare.state.redis.set(bare_app.KEY, b"{}" * 8000)
            baseline = await _cpu_us(bare, "/bare", [])
    finally:
        purge(REDIS_URL, prefix)
    return {
        "requests": REQUESTS,
        "status_route_us": status,
        "healthz_us": health,
        "bare_route_us": baseline,
    }


def run() -> dict[str, Any]:
    configure_logging("WARNING")  # quiet while the scan is set up; the app then logs at INFO
    # The access lines are part of a poll's cost: written, but to /dev/null, not the terminal.
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        return asyncio.run(_run())
