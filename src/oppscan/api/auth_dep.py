"""The bearer token of every ``/api/v1`` route, checked before anything else of the request.

``AuthenticatedRoute`` checks it once the path is matched and before FastAPI reads the body:
a request without a valid token is refused 401 with its body unread and unparsed, whatever it
holds (malformed JSON included). Only then is the body read, under the size limit (413,
``body_limit``), and parsed (422). The ``Caller`` dependency hands the routes the principal the
check found.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute

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


def authenticate(request: Request) -> Principal:
    """The principal of the request's bearer token (from its headers only); ``TokenInvalid``
    (401) for a missing or bad one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("missing bearer token: send 'Authorization: Bearer <JWT>'")
    tokens: VerifiedTokens = request.app.state.tokens
    principal = tokens.verify(token.strip())
    request.state.principal = principal
    # The access log line names the user (see metrics.AccessLogMiddleware).
    request.state.user_id = principal.user_id
    return principal


class AuthenticatedRoute(APIRoute):
    """A route whose token is checked before its body is read (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            authenticate(request)
            return await handle(request)

        return authenticated_first


async def current_principal(request: Request) -> Principal:
    checked = getattr(request.state, "principal", None)
    return checked if isinstance(checked, Principal) else authenticate(request)


Caller = Annotated[Principal, Depends(current_principal)]
Service = Annotated[ScanService, Depends(get_service)]
