"""``/docs`` renders in a browser that may reach nothing but the server: Swagger UI's assets
are served by oppscan itself, and the document it shows is the service's, with a bearer
``Authorize`` button and every route."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from tests.e2e.conftest import TIMEOUT_MS
from tests.integration.processes import EmbeddedServer

pytestmark = [pytest.mark.browser, pytest.mark.processes]

expect.set_options(timeout=TIMEOUT_MS)


def test_docs_render_with_no_network_but_the_server(
    context: BrowserContext, server: EmbeddedServer
) -> None:
    own = urlsplit(server.base_url).netloc
    elsewhere: list[str] = []
    served: list[str] = []

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own:
            served.append(urlsplit(url).path)
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_server)
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda request: failures.append(request.url))
    refused: list[str] = []  # what the page's Content-Security-Policy blocked, if anything
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{server.base_url}/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("oppscan")
    expect(page.locator(".swagger-ui .btn.authorize")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/discover")).to_be_visible()
    for path in ("/status/{scan_id}", "/results/{scan_id}", "/readyz"):
        expect(page.locator(f'.opblock-summary-path[data-path$="{path}"]').first).to_be_visible()
    assert elsewhere == [], f"/docs reached other hosts: {elsewhere}"
    assert failures == []
    assert refused == []
    assert "/openapi.json" in served
    assert "/static/swagger-ui/swagger-ui-bundle.js" in served
