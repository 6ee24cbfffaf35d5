"""``oppscan status`` and ``oppscan results`` as processes, against a real ``oppscan serve``
(embedded) on loopback: what they print, and their exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.processes import OPPSCAN, EmbeddedServer, serving_embedded

pytestmark = pytest.mark.processes

API = "/api/v1/opportunities"
SECRET = "cli-remote-test-secret-of-at-least-32-bytes"
COLUMNS = ("entry", "target", "stop", "profit USD", "confidence", "risk", "score")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    # 400 ms per market-data call: the scan is still running when `status` starts following it.
    with serving_embedded(tmp_path_factory.mktemp("serve"), SECRET, latency_ms=400) as running:
        yield running


def oppscan(
    server: EmbeddedServer, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env.update(
        OPPSCAN_SERVER=server.base_url,
        OPPSCAN_TOKEN=server.demo_token if token is None else token,
        OPPSCAN_JWT_SECRET=SECRET,
        COLUMNS="250",
    )
    return subprocess.run(
        [OPPSCAN, *args], env=env, capture_output=True, text=True, timeout=50, check=False
    )


def start_scan(server: EmbeddedServer) -> str:
    headers = {"Authorization": f"Bearer {server.demo_token}"}
    started = httpx.post(
        f"{server.base_url}{API}/discover",
        json={"force_refresh": True, "strategy_ids": "spot_momentum_strategy,futures_trade"},
        headers=headers,
        timeout=30,
    )
    assert started.status_code == 202, started.text
    return str(started.json()["scan_id"])


def test_status_follows_a_scan_then_results_prints_it(server: EmbeddedServer) -> None:
    scan_id = start_scan(server)
    followed = oppscan(server, "status", scan_id)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.startswith(("complete: ", "partial: ")), followed.stdout
    assert f"`oppscan results {scan_id}`" in followed.stdout
    assert "2/2 strategies ·" in followed.stderr  # the progress bar, at its end

    as_json = oppscan(server, "results", scan_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    direct = httpx.get(
        f"{server.base_url}{API}/results/{scan_id}",
        params={"sort": "score", "limit": 1000},
        headers={"Authorization": f"Bearer {server.demo_token}"},
    )
    assert json.loads(as_json.stdout) == direct.json()  # the API's body as it is

    table = oppscan(server, "results", scan_id, "--sort", "profit", "--risk", "low,medium")
    assert table.returncode == 0, table.stderr
    chosen = [o for o in direct.json()["opportunities"] if o["risk_level"] in ("low", "medium")]
    if chosen:
        header = next(line for line in table.stdout.splitlines() if "strategy" in line)
        assert all(column in header for column in COLUMNS), header
        assert f"{len(chosen)} opportunities, best first by profit USD" in table.stdout
    else:
        assert "no opportunity found" in table.stdout


def test_refusals_are_one_line_with_their_exit_code(server: EmbeddedServer, tmp_path: Path) -> None:
    unknown = oppscan(server, "results", "scan_nope")
    assert unknown.returncode == 3
    assert unknown.stderr == f"error: no scan scan_nope for the user 'demo' at {server.base_url}\n"

    scan_id = start_scan(server)
    stranger = oppscan(server, "status", scan_id, token=_token_for("mallory"))
    assert (
        stranger.returncode == 3 and f"no scan {scan_id} for the user 'mallory'" in stranger.stderr
    )

    forged = oppscan(server, "status", scan_id, token=server.demo_token[:-4] + "AAAA")
    assert forged.returncode == 3
    assert "refused the token (bad signature); get one with `oppscan token --user ID`" in (
        forged.stderr
    )
    assert forged.stderr.count("\n") == 1 and forged.stdout == ""


def _token_for(user: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    env["OPPSCAN_JWT_SECRET"] = SECRET
    made = subprocess.run(
        [OPPSCAN, "token", "--user", user], env=env, capture_output=True, text=True, check=True
    )
    return made.stdout.strip()
