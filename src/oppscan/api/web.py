"""``GET /``: the single-page web UI, a static file shipped inside the package (no build step)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from oppscan.api.security_headers import page_policy

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _page() -> tuple[str, str]:
    """The page and its Content-Security-Policy (its inline script and style by hash)."""
    # The file is part of the installed package and never changes while the process runs.
    html = files("oppscan.api").joinpath("static/index.html").read_text(encoding="utf-8")
    return html, page_policy(html)


@router.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    html, policy = _page()
    return HTMLResponse(
        html, headers={"Cache-Control": "no-cache", "Content-Security-Policy": policy}
    )
