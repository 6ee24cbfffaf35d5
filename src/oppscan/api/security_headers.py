"""Security headers on every answer, and the Content-Security-Policy of the two HTML pages.

Every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY``, and, unless the route set its own, the policy of a document that
loads nothing (``default-src 'none'; frame-ancestors 'none'``): JSON, event streams, metrics.

The web page (``/``) and Swagger UI (``/docs``) set their own (``page_policy``): everything from
this origin only, and an inline ``<script>`` or ``<style>`` only if it is the page's own, named
by its SHA-256 (computed from the page as served, so editing the page keeps it working). No
``'unsafe-inline'``, no ``'unsafe-eval'``.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
CSP = b"content-security-policy"
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# An element without attributes: what the pages inline (a <script src=...> is a file, not this).
_INLINE = {kind: re.compile(rf"<{kind}>(.*?)</{kind}>", re.DOTALL) for kind in ("script", "style")}


def _hashes(html: str, kind: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE[kind].findall(html)
    ]


def page_policy(html: str) -> str:
    """The policy of an HTML page of this origin: its files, its fetches and its images from
    here (and ``data:`` images, which Swagger UI's stylesheet embeds), its inline script and
    style by hash; no plugins, no frames, no base or form targets elsewhere."""
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'", *_hashes(html, "script")],
        "style-src": ["'self'", *_hashes(html, "style")],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeaders:
    """Pure ASGI: adds the headers as the response starts; never touches the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [pair for pair in _ALWAYS if pair[0] not in present]
                if CSP not in present:
                    headers.append((CSP, API_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
