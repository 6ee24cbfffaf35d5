"""``GET /``: the single-page web UI, a static file shipped inside the package (no build step)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _page() -> str:
    # The file is part of the installed package and never changes while the process runs.
    return files("oppscan.api").joinpath("static/index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    return HTMLResponse(_page(), headers={"Cache-Control": "no-cache"})
