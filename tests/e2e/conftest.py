"""The browser layer: a real ``oppscan serve`` on a free loopback port and headless Chromium.

The browser is Debian's ``chromium`` (``make test`` installs it when missing); Playwright's own
browser download is never used. The flags keep Chromium off the network: without them it reaches
out for updates, sync and field trials.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.integration.processes import EmbeddedServer, serving_embedded

SECRET = "e2e-browser-test-secret-of-at-least-32-bytes"
CHROMIUM = os.environ.get("OPPSCAN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """``oppscan serve --print-demo-token``, embedded: no OPPSCAN_* from the environment."""
    # 300 ms of market latency: the page sees the scan running, not only its end.
    with serving_embedded(tmp_path_factory.mktemp("serve"), SECRET, latency_ms=300) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh, throw-away user data directory.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A context per test: its own localStorage (the page remembers the token there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()
