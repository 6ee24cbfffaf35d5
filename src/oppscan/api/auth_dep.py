"""The bearer-token dependency of every ``/api/v1`` route, and the scan service it calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oppscan.api.backend import get_backend
from oppscan.auth import TokenInvalid, VerifiedTokens
from oppscan.service.principal import Principal
from oppscan.service.scans import ScanService

# The scheme is documented in the OpenAPI document by app.py (BEARER_SCHEME); reading the header
# here rather than through fastapi.security's HTTPBearer spares every poll a nested dependency.
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A JWT: `oppscan token --user ID` makes one.",
}


async def get_service(request: Request) -> ScanService:
    return get_backend(request).service


async def current_principal(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("missing bearer token: send 'Authorization: Bearer <JWT>'")
    tokens: VerifiedTokens = request.app.state.tokens
    principal = tokens.verify(token.strip())
    # The access log line names the user (see metrics.AccessLogMiddleware).
    request.state.user_id = principal.user_id
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
Service = Annotated[ScanService, Depends(get_service)]
