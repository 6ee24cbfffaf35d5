"""Request bodies above a limit are refused with 413 as they are read, never read whole first.

Pure ASGI, and lazy: nothing here reads a body. It checks the body of a request when the app
reads it, so whatever the app does first comes first: the ``/api/v1`` routes check the token
before anything reads the body (``auth_dep.AuthenticatedRoute``), so a request without a valid
token is refused 401 with its body unread, whatever its size. At the first read, a body announced
(``Content-Length``) larger than the limit is refused unread; a body without a length is refused
as soon as more than the limit has arrived. Either way the app's read raises ``BodyTooLarge``,
which the error handlers answer with 413 (``payload_too_large``) and ``Connection: close``.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20  # 1 MiB: a discover body at its largest (docs/api.md) is under 100 KiB
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(HTTPException):
    """Raised by the body's reader: an ``HTTPException``, so FastAPI lets it through from the
    middle of its body parsing (anything else would become a 400)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._limited(scope, receive), send)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        limit = self.limit
        length = dict(scope.get("headers", ())).get(b"content-length", b"")
        announced = int(length) if length.isdigit() else None
        size = 0

        async def limited() -> Message:
            nonlocal size
            if size == 0 and announced is not None and announced > limit:
                raise BodyTooLarge(limit)  # refused unread
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(limit)
            return message

        return limited
