"""The browser layer: a real ``oppscan serve`` on a free loopback port and headless Chromium.

The browser is Debian's ``chromium`` (``make test`` installs it when missing); Playwright's own
browser download is never used. The flags keep Chromium off the network: without them it reaches
out for updates, sync and field trials.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

OPPSCAN = str(Path(sys.executable).parent / "oppscan")
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


@dataclass
class Server:
    base_url: str
    demo_token: str
    stderr_path: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``oppscan serve --print-demo-token``, embedded: no OPPSCAN_* from the environment."""
    logs = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_JWT_SECRET="e2e-browser-test-secret-of-at-least-32-bytes",
        OPPSCAN_SYNTHETIC_LATENCY_MS="300",  # the page sees the scan running, not only its end
    )
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [OPPSCAN, "serve", "--host", "127.0.0.1", "--port", str(port), "--print-demo-token"],
            env=env,
            stdout=out,
            stderr=err,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a busy machine imports the scientific stack slowly
        while True:
            assert proc.poll() is None, err_path.read_text()
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)  # polling for readiness, not synchronising the test
        token = out_path.read_text().rsplit("demo token: ", 1)[1].strip()
        yield Server(base_url, token, err_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
