"""``GET /docs``: Swagger UI over ``/openapi.json``, its assets served from this package.

The assets are vendored (``static/swagger-ui/``, see its README), so the page works with no
network: FastAPI's default loads them from a CDN, which made ``/docs`` blank offline. Its
Content-Security-Policy allows this origin only, and FastAPI's inline script that starts Swagger
UI by its hash (``security_headers.page_policy``).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from oppscan.api.security_headers import page_policy

ASSETS = "/static/swagger-ui"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _page() -> tuple[bytes, str]:
    """The page and its Content-Security-Policy; the same on every request."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="oppscan API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    html = bytes(page.body)
    return html, page_policy(html.decode())


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    html, policy = _page()
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def mount_assets(app: FastAPI) -> None:
    directory = Path(str(files("oppscan.api").joinpath("static/swagger-ui")))
    app.mount(ASSETS, StaticFiles(directory=directory), name="swagger-ui")
