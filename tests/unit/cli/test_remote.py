"""``oppscan status`` and ``oppscan results`` against a server: what they ask it, what they print
of its answers, and the one line and exit code of each refusal. The server here is an
``httpx.MockTransport`` (a real one: tests/integration/test_cli_remote.py)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from oppscan.cli.errors import OK, REFUSED, SCAN_FAILED, UNAVAILABLE, USAGE
from oppscan.cli.main import DEFAULT_SERVER, app
from oppscan.cli.options import Selection, Sort
from oppscan.cli.remote_cmd import (
    Refused,
    Server,
    fetch_results,
    follow_status,
    results_path,
    run,
    status_path,
)
from oppscan.domain.models import RiskLevel
from oppscan.schemas import results_url, status_url
from tests.unit.fakes import an_opportunity

SCAN = "scan_0123"
URL = "http://oppscan.test"
# A token whose claims name the user "alice" (the server would check its signature).
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
Handler = Callable[[httpx.Request], httpx.Response]


def opportunity(n: int, risk: RiskLevel, edge: float, profit: float) -> dict[str, Any]:
    made = an_opportunity(
        opportunity_id=f"opp_{n}",
        take_profit=61_500.0 + n,
        profit_potential_usd=profit,
        risk_level=risk,
        net_edge_bps=edge,
    )
    return made.model_dump(mode="json")


OPPORTUNITIES = [
    opportunity(1, RiskLevel.LOW, edge=40.0, profit=40.0),  # score 20
    opportunity(2, RiskLevel.HIGH, edge=150.0, profit=150.0),  # score 25
    opportunity(3, RiskLevel.MEDIUM, edge=100.0, profit=100.0),  # score 25 (medium: / 2)
    opportunity(4, RiskLevel.LOW, edge=30.0, profit=30.0),  # score 15
]


def results_body(opportunities: list[dict[str, Any]], status: str = "complete") -> dict[str, Any]:
    return {
        "success": True,
        "scan_id": SCAN,
        "user_id": "alice",
        "status": status,
        "partial": status != "complete",
        "opportunities": opportunities,
        "total_opportunities": len(opportunities),
        "strategy_performance": {},
        "execution_time_ms": 1200,
        "last_updated": None,
    }


def status_body(status: str, done: int, total: int = 2) -> dict[str, Any]:
    return {
        "success": True,
        "scan_id": SCAN,
        "status": status,
        "progress": {
            "strategies_completed": done,
            "total_strategies": total,
            "opportunities_found_so_far": 3 * done,
            "percentage": 100.0 * done / total,
        },
        "strategies": {
            "spot_momentum_strategy": {"status": "done", "error": None},
            "pairs_trading": {"status": "failed" if done == total else "running", "error": "boom"},
        },
        "partial_results": [],
    }


def filtered(request: httpx.Request) -> httpx.Response:
    """A server that filters as GET /results does (enough of it for these tests)."""
    query = request.url.params
    rows = [o for o in OPPORTUNITIES if query.get("risk_level") in (None, o["risk_level"])]
    rows.sort(key=lambda o: o["profit_potential_usd"], reverse=True)
    body = results_body(rows[: int(query["limit"])])
    body["total_opportunities"] = len(rows)
    return httpx.Response(200, json=body)


Capture = pytest.CaptureFixture[str]


def call(
    capsys: Capture, work: Callable[[Server, Console, Console], Any], handler: Handler
) -> tuple[int, str, str]:
    """Runs a command's coroutine against ``handler``: exit code, stdout, stderr (its consoles,
    and the error line it writes on the process's stderr)."""
    out, err = io.StringIO(), io.StringIO()
    server = Server(URL, TOKEN, transport=httpx.MockTransport(handler))
    consoles = Console(file=out, width=250), Console(file=err, width=250)
    capsys.readouterr()
    code = run(work(server, *consoles))
    return code, out.getvalue(), err.getvalue() + capsys.readouterr().err


def results_of(selection: Selection, as_json: bool = False) -> Callable[..., Any]:
    return lambda server, out, err: fetch_results(server, SCAN, selection, as_json, out, err)


def test_the_paths_are_the_apis() -> None:
    assert status_path(SCAN) == status_url(SCAN)
    assert results_path(SCAN) == results_url(SCAN)


def test_results_passes_the_options_as_query_parameters_with_the_token(capsys: Capture) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=results_body(OPPORTUNITIES[:1]))

    selection = Selection(sort=Sort.PROFIT, risks=("low",), min_profit=25.5, limit=7)
    code, out, _ = call(capsys, results_of(selection), handler)
    assert code == OK
    [request] = seen
    assert request.url.path == f"/api/v1/opportunities/results/{SCAN}"
    assert dict(request.url.params) == {
        "sort": "profit",
        "limit": "7",
        "min_profit_usd": "25.5",
        "risk_level": "low",
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "1 opportunities, best first by profit USD" in out
    assert "61,501.00" in out  # the take-profit is the target


def test_results_json_is_the_apis_body(capsys: Capture) -> None:
    body = results_body(OPPORTUNITIES[:2])
    code, out, _ = call(
        capsys, results_of(Selection(), as_json=True), lambda r: httpx.Response(200, json=body)
    )
    assert code == OK and json.loads(out) == body


def test_several_risk_levels_ask_once_per_level_and_merge_in_order(capsys: Capture) -> None:
    levels: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        levels.append(request.url.params.get("risk_level"))
        return filtered(request)

    selection = Selection(sort=Sort.PROFIT, risks=("low", "high"), limit=2)
    code, out, _ = call(capsys, results_of(selection, as_json=True), handler)
    assert code == OK and levels == ["low", "high"]
    body = json.loads(out)
    assert [o["opportunity_id"] for o in body["opportunities"]] == ["opp_2", "opp_1"]
    assert body["total_opportunities"] == 3  # two low, one high


def test_a_running_scan_prints_its_results_so_far_and_says_so(capsys: Capture) -> None:
    body = results_body(OPPORTUNITIES[:1], status="scanning")
    code, out, err = call(capsys, results_of(Selection()), lambda r: httpx.Response(202, json=body))
    assert code == OK
    assert "still scanning: these are its results so far" in err
    assert "BTC/USDT" in out


def test_a_failed_scan_exits_1(capsys: Capture) -> None:
    body = results_body([], status="failed")
    code, out, _ = call(capsys, results_of(Selection()), lambda r: httpx.Response(200, json=body))
    assert code == SCAN_FAILED
    assert f"no opportunity found (failed scan {SCAN})" in out


def test_status_follows_the_scan_until_it_is_terminal(capsys: Capture) -> None:
    answers = iter(
        [status_body("queued", 0), status_body("scanning", 1), status_body("partial", 2)]
    )
    polls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        polls.append(request.url.path)
        return httpx.Response(200, json=next(answers))

    code, out, err = call(
        capsys, lambda server, o, e: follow_status(server, SCAN, o, e, poll_seconds=0.01), handler
    )
    assert code == OK
    assert polls == [status_path(SCAN)] * 3
    assert "partial" in err and "2/2" in err and "6 opportunities" in err  # the progress bar
    assert "pairs_trading failed: boom" in err
    assert out.startswith(f"partial: 6 opportunities from 2/2 strategies; `oppscan results {SCAN}`")


def error_of(capsys: Capture, status: int, body: Any) -> tuple[int, str]:
    response = (
        httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="<")
    )
    code, out, err = call(capsys, results_of(Selection()), lambda r: response)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return code, err.removeprefix("error: ").strip()


def test_each_refusal_is_one_line_with_its_exit_code(capsys: Capture) -> None:
    code, line = error_of(capsys, 401, {"status": "unauthorized", "message": "token expired"})
    assert code == REFUSED
    assert line.startswith(f"{URL} refused the token (token expired); get one with `oppscan token")

    code, line = error_of(capsys, 404, {"status": "not_found", "message": f"scan {SCAN} not found"})
    assert (code, line) == (REFUSED, f"no scan {SCAN} for the user 'alice' at {URL}")

    code, line = error_of(capsys, 503, {"status": "store_unavailable", "message": "try again"})
    assert code == UNAVAILABLE and line.startswith(f"{URL} cannot reach its scan store (503")

    code, line = error_of(
        capsys, 422, {"field": "sort", "message": "bad", "allowed": ["score", "profit"]}
    )
    assert (code, line) == (USAGE, "sort: bad (allowed: score, profit)")

    code, line = error_of(capsys, 404, None)  # not an oppscan server
    assert code == REFUSED and "answered 404 (Not Found): is it an oppscan server?" in line

    code, line = error_of(capsys, 200, {"unexpected": True})
    assert code == UNAVAILABLE and line.startswith("not a results body of an oppscan server")


def test_a_server_that_does_not_answer_names_its_url(capsys: Capture) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    code, _, err = call(capsys, results_of(Selection()), timeout)
    assert code == UNAVAILABLE and err == f"error: {URL} did not answer within 10 s\n"


def test_connection_refused_names_the_url() -> None:
    with socket_closed() as port:
        result = CliRunner().invoke(
            app, ["status", SCAN, "--server", f"http://127.0.0.1:{port}", "--token", TOKEN]
        )
    assert result.exit_code == UNAVAILABLE
    assert result.stderr == (
        f"error: cannot connect to http://127.0.0.1:{port} (connection refused): is `oppscan "
        "serve` running there? (--server, or OPPSCAN_SERVER)\n"
    )
    assert DEFAULT_SERVER == "http://127.0.0.1:8000"


class socket_closed:
    """A loopback port that nothing listens on (bound and released)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_refusal_before_any_answer_leaves_no_progress_bar(capsys: Capture) -> None:
    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status": "unauthorized", "message": "no"})

    code, out, err = call(capsys, lambda s, o, e: follow_status(s, SCAN, o, e), unauthorized)
    assert code == REFUSED and out == "" and err.count("\n") == 1


def test_refused_carries_its_exit_code() -> None:
    with pytest.raises(Refused) as caught:
        Server.checked("ftp://x", "t")
    assert caught.value.code == USAGE
    assert Server.checked(" http://h:1/ ", "Bearer abc") == Server("http://h:1", "abc")
    assert asyncio.iscoroutinefunction(fetch_results)
