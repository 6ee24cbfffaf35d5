"""``oppscan status`` and ``oppscan results``: a scan on a running server, through its HTTP API.

Every refusal is one line naming what to do (see ``oppscan.cli.errors`` for the exit codes).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from rich.console import Console

from oppscan.cli.errors import REFUSED, UNAVAILABLE, USAGE, allowed_suffix, say_error
from oppscan.cli.options import SORT_KEYS, Selection, merge
from oppscan.cli.render import (
    TERMINAL,
    ScanProgress,
    exit_code,
    follow,
    print_results,
    print_unfinished,
)

PREFIX = "/api/v1/opportunities"  # the contract's routes, as oppscan.schemas names them
TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.5
TOKEN_HINT = (
    "get one with `oppscan token --user ID` (signed with the server's OPPSCAN_JWT_SECRET) "
    "and pass it as OPPSCAN_TOKEN or --token"
)


def status_path(scan_id: str) -> str:
    return f"{PREFIX}/status/{scan_id}"


def results_path(scan_id: str) -> str:
    return f"{PREFIX}/results/{scan_id}"


class Refused(Exception):
    """What went wrong, as the one line to print, and the exit code it ends with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    transport: httpx.AsyncBaseTransport | None = None  # a test's stand-in for the network

    @classmethod
    def checked(cls, url: str, token: str | None) -> Server:
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Refused(
                f"--server: {url!r} is not an http(s) URL "
                "(allowed: http://HOST[:PORT], https://HOST[:PORT])",
                USAGE,
            )
        token = (token or "").strip().removeprefix("Bearer ").strip()
        if not token:
            raise Refused(f"no token: {TOKEN_HINT}", USAGE)
        return cls(url, token)

    def _user(self) -> str:
        """Whom the token names (its ``sub``, read without checking: the server checks it)."""
        try:
            claims = self.token.split(".")[1]
            sub = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"]
        except (IndexError, ValueError, KeyError, TypeError):
            return "this token's user"
        return f"the user {sub!r}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=TIMEOUT_SECONDS,
            transport=self.transport,
        )

    async def get(
        self, client: httpx.AsyncClient, path: str, scan_id: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The JSON body of a 200 or 202 answer; ``Refused`` for anything else."""
        try:
            response = await client.get(path, params=dict(params))
        except httpx.ConnectError as exc:
            raise Refused(
                f"cannot connect to {self.url} ({_reason(exc)}): is `oppscan serve` running "
                "there? (--server, or OPPSCAN_SERVER)",
                UNAVAILABLE,
            ) from exc
        except httpx.TimeoutException as exc:
            raise Refused(
                f"{self.url} did not answer within {TIMEOUT_SECONDS:.0f} s", UNAVAILABLE
            ) from exc
        except httpx.HTTPError as exc:
            raise Refused(f"{self.url}: {_reason(exc)}", UNAVAILABLE) from exc
        body = _json(response)
        if response.status_code in (200, 202) and body is not None:
            return body
        raise self._refusal(response, body, scan_id)

    def _refusal(
        self, response: httpx.Response, body: dict[str, Any] | None, scan_id: str
    ) -> Refused:
        code = response.status_code
        message = str((body or {}).get("message") or response.reason_phrase)
        if code == 401:
            return Refused(f"{self.url} refused the token ({message}); {TOKEN_HINT}", REFUSED)
        if code == 404 and body is not None and scan_id in message:
            return Refused(f"no scan {scan_id} for {self._user()} at {self.url}", REFUSED)
        if code == 422 and body is not None:
            field = body.get("field") or "request"
            return Refused(f"{field}: {message}{allowed_suffix(body.get('allowed'))}", USAGE)
        if code == 503:
            return Refused(
                f"{self.url} cannot reach its scan store (503: {message}); try again shortly",
                UNAVAILABLE,
            )
        where = str(response.request.url.copy_with(query=None))
        return Refused(f"{where} answered {code} ({message}): is it an oppscan server?", REFUSED)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _reason(exc: BaseException) -> str:
    """The operating system's reason (``connection refused``) when there is one in the chain."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno:
            # errno < 0: a resolver's error (socket.gaierror), which only strerror names.
            text = os.strerror(cause.errno) if cause.errno > 0 else str(cause.strerror)
            return text.lower()
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def run(work: Any) -> int:
    """Runs a coroutine of this module; a refusal is its one line and its exit code."""
    try:
        code: int = asyncio.run(work)
    except Refused as refused:
        say_error(refused.message)
        return refused.code
    return code


# -- status -------------------------------------------------------------------------------------


async def follow_status(
    server: Server, scan_id: str, out: Console, err: Console, poll_seconds: float = POLL_SECONDS
) -> int:
    """The same progress bar as ``oppscan scan``, until the scan is terminal."""
    async with server.client() as client:

        async def read() -> ScanProgress:
            return progress_of(await server.get(client, status_path(scan_id), scan_id, {}))

        progress = await follow(read, err, poll_seconds)
    print_unfinished(progress, err)
    out.print(
        f"{progress.status}: {progress.found} opportunities from {progress.done}/"
        f"{progress.total} strategies; `oppscan results {scan_id}` prints them",
        highlight=False,
    )
    return exit_code(progress.status)


def progress_of(body: Mapping[str, Any]) -> ScanProgress:
    try:
        numbers = body["progress"]
        return ScanProgress(
            scan_id=str(body["scan_id"]),
            status=str(body["status"]),
            done=int(numbers["strategies_completed"]),
            total=int(numbers["total_strategies"]),
            found=int(numbers["opportunities_found_so_far"]),
            strategies={
                sid: (str(s["status"]), s.get("error")) for sid, s in body["strategies"].items()
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Refused(f"not a status body of an oppscan server ({exc!r})", UNAVAILABLE) from exc


# -- results ------------------------------------------------------------------------------------


async def fetch_results(
    server: Server,
    scan_id: str,
    selection: Selection,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """``GET /results`` with the options as query parameters: the table, or the API's JSON."""
    base: dict[str, Any] = {"sort": selection.sort.value, "limit": selection.limit}
    if selection.min_profit is not None:
        base["min_profit_usd"] = selection.min_profit
    async with server.client() as client:
        bodies = [
            await server.get(
                client,
                results_path(scan_id),
                scan_id,
                base | ({"risk_level": risk} if risk else {}),
            )
            for risk in selection.risk_per_query()
        ]
    rows, total = _merged(bodies, selection)
    first = bodies[0]
    status = str(first["status"])
    if status not in TERMINAL:
        err.print(f"scan {scan_id} is still {status}: these are its results so far", style="yellow")
    if as_json:
        # One request: the API's body as it came. Several risk levels: the first body with the
        # opportunities of them all, as one request for them all would answer.
        merged = first | {"opportunities": [raw for _, raw in rows], "total_opportunities": total}
        out.file.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    else:
        opportunities = [parsed for parsed, _ in rows]
        print_results(out, opportunities, total, selection.sort, f"{status} scan {scan_id}")
    return exit_code(status)


def _merged(bodies: list[dict[str, Any]], selection: Selection) -> tuple[list[Any], int]:
    """The rows of every body, merged in order, each as (the parsed opportunity, its JSON)."""
    from pydantic import TypeAdapter, ValidationError

    from oppscan.domain.models import Opportunity

    adapter = TypeAdapter(list[Opportunity])
    pages = []
    try:
        for body in bodies:
            raw, status = body["opportunities"], body["status"]
            if not isinstance(status, str):
                raise TypeError(f"status {status!r}")
            parsed = adapter.validate_python(raw)
            pages.append((list(zip(parsed, raw, strict=True)), int(body["total_opportunities"])))
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise Refused(f"not a results body of an oppscan server ({exc!r})", UNAVAILABLE) from exc
    key = SORT_KEYS[selection.sort]
    return merge(pages, lambda row: key(row[0]), selection.limit)
