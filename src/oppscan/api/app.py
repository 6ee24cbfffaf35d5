"""The FastAPI application. ``uvicorn --factory oppscan.bootstrap:web_app`` builds one per process.

Nothing is built at import time. The app is given how to build its backend (the scan service
and the parts under it: ``oppscan.bootstrap`` passes one); it builds and starts it when the app
starts, in its lifespan, and closes it when it stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from oppscan.api import docs_ui, ops_routes, scan_routes, web
from oppscan.api.backend import Backend
from oppscan.api.body_limit import BodyLimit
from oppscan.api.errors import install_error_handlers
from oppscan.api.metrics import AccessLogMiddleware, ApiMetrics
from oppscan.api.openapi import document
from oppscan.api.security_headers import SecurityHeaders
from oppscan.auth import VerifiedTokens
from oppscan.logs import configure_logging, get_logger
from oppscan.settings import Settings

log = get_logger("oppscan.api")

DESCRIPTION = """Opportunity scans over shared market data. Every `/api/v1` route needs
`Authorization: Bearer <JWT>` (`oppscan token --user ID` prints one). Start a scan with
`POST /discover`, follow it on `/status/{scan_id}` or its `/events` stream, then read
`/results/{scan_id}`.
"""


def create_app(settings: Settings, *, build: Callable[[], Backend]) -> FastAPI:
    """An app for ``settings``, over the backend ``build()`` returns when the app starts (the
    app starts it, and closes it when it stops)."""
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = build()
        await backend.start()
        app.state.backend = backend
        log.info(
            "api.start",
            mode="embedded" if settings.embedded else "redis",
            strategies=[info.id for info in backend.service.catalog()],
        )
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(
        title="oppscan",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs_ui serves /docs with its assets from this package
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.metrics = ApiMetrics()
    app.state.tokens = VerifiedTokens(settings)
    install_error_handlers(app)
    app.include_router(scan_routes.router)
    app.include_router(ops_routes.router)
    app.include_router(web.router)
    app.include_router(docs_ui.router)
    docs_ui.mount_assets(app)
    app.add_middleware(BodyLimit)  # lazy: bounds a body as the routes read it (after the token)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLogMiddleware, metrics=app.state.metrics)  # outermost
    document(app)
    return app
