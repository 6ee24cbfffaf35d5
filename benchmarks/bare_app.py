"""The baseline of the poll benchmark: a bare FastAPI endpoint doing one Redis read.

``uvicorn --factory benchmarks.bare_app:create_app`` with the same server options as
``oppscan serve``. The benchmark stores a real status body under ``KEY`` first, so both answer
the same bytes and differ only by what oppscan does per poll (auth, the store's script, parsing,
rendering, the access log and metrics).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import Response

KEY = "oppscan-bench:bare"


def create_app() -> FastAPI:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = aioredis.Redis.from_url(url)
        yield
        await app.state.redis.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare")
    async def bare() -> Response:
        body = await app.state.redis.get(KEY)
        return Response(body, media_type="application/json")

    return app
