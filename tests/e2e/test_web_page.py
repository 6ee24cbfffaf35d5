"""The web page, driven as a user drives it: paste the token, load the strategies, pick some,
start a scan, watch it finish, read the table.

Every wait is on something on the page (Playwright's ``expect`` retries until it holds or
30 s pass); nothing sleeps.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.conftest import TIMEOUT_MS
from tests.integration.processes import EmbeddedServer

pytestmark = [pytest.mark.browser, pytest.mark.processes]

CHOSEN = ("spot_momentum_strategy", "funding_arbitrage")
EXCHANGES = {"binance", "okx", "bybit"}  # OPPSCAN_EXCHANGES' default
STRATEGY_TERMINAL = {"done", "failed", "skipped", "timed_out", "cancelled"}

expect.set_options(timeout=TIMEOUT_MS)


def _open(context: BrowserContext, server: EmbeddedServer, problems: list[str]) -> Page:
    page = context.new_page()
    page.on("console", lambda m: _console(m, problems))
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.goto(f"{server.base_url}/")
    expect(page).to_have_title("oppscan")
    return page


def _console(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type in ("error", "warning"):
        problems.append(f"console {message.type}: {message.text}")


def _load_strategies(page: Page, token: str) -> None:
    page.fill("#token", token)
    page.click("#load")


def test_a_scan_started_from_the_page_shows_progress_states_and_results(
    context: BrowserContext, server: EmbeddedServer, tmp_path: Path
) -> None:
    problems: list[str] = []
    page = _open(context, server, problems)
    _load_strategies(page, server.demo_token)

    boxes = page.locator("#strategies input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    expect(page.locator("#start")).to_be_enabled()
    expect(page.locator("#token-error")).to_have_text("")
    for box in boxes.all():
        if box.is_checked():
            box.uncheck()
    names: dict[str, str] = {}
    for strategy_id in CHOSEN:
        page.locator(f"#strategies input[value={strategy_id}]").check()
        label = page.locator(f"label.strategy:has(input[value={strategy_id}]) b")
        names[strategy_id] = label.inner_text()
    expect(page.locator("#strategies input:checked")).to_have_count(len(CHOSEN))

    page.click("#start")
    expect(page.locator("#scan-id")).to_contain_text("scan_")
    expect(page.locator("#progress-section")).to_be_visible()

    # The end, as the user sees it: a terminal badge, a full bar, every strategy accounted for.
    expect(page.locator("#scan-status")).to_have_text("complete")
    expect(page.locator("#bar")).to_have_attribute("style", re.compile(r"width:\s*100%"))
    expect(page.locator("#progress-text")).to_contain_text(
        f"{len(CHOSEN)} of {len(CHOSEN)} strategies"
    )
    strategy_rows = page.locator("#strategy-rows tr")
    expect(strategy_rows).to_have_count(len(CHOSEN))
    shown: dict[str, str] = {}
    for row in strategy_rows.all():
        cells = row.locator("td")
        shown[cells.nth(0).inner_text()] = cells.nth(1).inner_text()
    assert set(shown) == set(names.values()), shown
    assert set(shown.values()) <= STRATEGY_TERMINAL, shown
    assert "done" in shown.values(), shown

    # The results table: at least one opportunity, each row naming a symbol and an exchange.
    expect(page.locator("#results-section")).to_be_visible()
    expect(page.locator("#results-count")).to_contain_text("found")
    headers = page.locator("#results-head th").all_inner_texts()
    symbol_col = next(i for i, h in enumerate(headers) if h.startswith("Symbol"))
    exchange_col = next(i for i, h in enumerate(headers) if h.startswith("Exchange"))
    strategy_col = next(i for i, h in enumerate(headers) if h.startswith("Strategy"))
    rows = page.locator("#results-rows tr")
    expect(rows.first.locator("td").nth(exchange_col)).to_be_visible()  # not "No opportunity."
    for row in rows.all():
        texts = row.locator("td").all_inner_texts()
        assert re.fullmatch(r"[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?", texts[symbol_col]), texts
        assert texts[exchange_col] in EXCHANGES, texts
        assert texts[strategy_col] in names.values(), texts

    page.screenshot(path=tmp_path / "scan-finished.png", full_page=True)
    assert problems == [], problems


FOREIGN_TOKEN = jwt.encode(
    {"sub": "demo", "exp": int(time.time()) + 3600}, "another-secret-of-at-least-32-bytes!!"
)


@pytest.mark.parametrize("token", ["not-a-token", FOREIGN_TOKEN], ids=["malformed", "foreign"])
def test_a_bad_token_shows_an_error_on_the_page(
    context: BrowserContext, server: EmbeddedServer, tmp_path: Path, token: str
) -> None:
    problems: list[str] = []
    page = _open(context, server, problems)
    _load_strategies(page, token)

    error = page.locator("#token-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("401")
    expect(page.locator("#start")).to_be_disabled()
    expect(page.locator("#strategies")).to_contain_text("Load the strategies first.")
    page.screenshot(path=tmp_path / "bad-token.png", full_page=True)
    # The browser itself logs the refused request; nothing else may go wrong.
    unexpected = [p for p in problems if "status of 401" not in p]
    assert unexpected == [], problems
