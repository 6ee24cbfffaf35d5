"""Every refusal as JSON with a status that says what it is; never internals, never a 500 for a
bad token, never a 404 for a store that cannot be reached."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oppscan.api import error_bodies as bodies
from oppscan.api.body_limit import BodyTooLarge
from oppscan.auth import TokenInvalid
from oppscan.domain.errors import StoreUnavailable
from oppscan.logs import get_logger
from oppscan.service.errors import InvalidRequest, RateLimited, ScanNotFound
from oppscan.service.requests import DiscoverInput

log = get_logger("oppscan.api")

STORE_RETRY_AFTER_SECONDS = 5


def _body(status: str, message: str) -> dict[str, Any]:
    """A refusal the routes do not declare (an unknown path, a wrong method, a crash)."""
    return {"success": False, "status": status, "message": message}


async def _token_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TokenInvalid)
    return JSONResponse(
        bodies.body(bodies.Unauthorized(message=exc.reason)),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    refusal = bodies.PayloadTooLarge(message=str(exc.detail), limit_bytes=exc.limit_bytes)
    # The rest of the body is never read: the connection cannot carry another request.
    return JSONResponse(bodies.body(refusal), status_code=413, headers={"Connection": "close"})


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScanNotFound)
    refusal = bodies.NotFound(message=f"scan {exc.scan_id} not found")
    return JSONResponse(bodies.body(refusal), status_code=404)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidRequest)
    return _invalid_body(
        [bodies.FieldError(field=exc.field, message=exc.message, allowed=exc.allowed)]
    )


def _invalid_body(errors: list[bodies.FieldError]) -> JSONResponse:
    first = errors[0] if errors else bodies.FieldError(field="", message="invalid", allowed=None)
    refusal = bodies.InvalidRequest(
        message=first.message, field=first.field, allowed=first.allowed, errors=errors
    )
    return JSONResponse(bodies.body(refusal), status_code=422)


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    refusal = bodies.RateLimited(
        message=f"more than {exc.limit} scans per minute; retry in {exc.retry_after} s",
        retry_after=exc.retry_after,
        limit=exc.limit,
    )
    return JSONResponse(
        bodies.body(refusal),
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("api.store_unavailable", path=request.url.path, reason=str(exc) or repr(exc))
    return JSONResponse(
        bodies.body(
            bodies.StoreUnavailable(message="the scan store cannot be reached; try again shortly")
        ),
        status_code=503,
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


_QUOTED = re.compile(r"'([^']*)'")


def _allowed(error: dict[str, Any]) -> list[Any] | None:
    """What the field would have accepted, from pydantic's error context."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden" and error.get("loc", ("",))[0] == "body":
        return list(DiscoverInput.model_fields)
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return _QUOTED.findall(str(ctx["expected"])) or [str(ctx["expected"])]
    bounds = {
        "greater_than": ">",
        "greater_than_equal": ">=",
        "less_than": "<",
        "less_than_equal": "<=",
    }
    if kind in bounds:
        limit = next((v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")), None)
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # 1e12 reads "<= 1000000000000", not "<= 1000000000000.0"
        return [f"{bounds[kind]} {limit}"]
    if kind == "too_long" and "max_length" in ctx:
        return [f"at most {ctx['max_length']} items"]
    if kind == "string_too_long" and "max_length" in ctx:
        return [f"at most {ctx['max_length']} characters"]
    expected = {
        "bool_parsing": "true | false",
        "bool_type": "true | false",
        "float_parsing": "a number",
        "float_type": "a number",
        "finite_number": "a finite number",
        "int_parsing": "an integer",
        "int_type": "an integer",
        "string_type": "a string",
        "list_type": "a list",
        "json_invalid": "a JSON object",
        "model_type": "a JSON object",
        "dict_type": "a JSON object",
        "missing": "a value",
    }
    return [expected[kind]] if kind in expected else None


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "portfolio", "holdings", 0, "quantity") -> "portfolio.holdings.0.quantity"
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid_body(
        [
            bodies.FieldError(
                field=_field(e.get("loc", ())),
                message=e.get("msg", "invalid"),
                allowed=_allowed(e),
            )
            for e in exc.errors()
        ]
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    names = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
    return JSONResponse(
        _body(names.get(exc.status_code, "error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("api.unexpected", path=request.url.path, error=repr(exc), exc_info=exc)
    return JSONResponse(
        _body("internal_error", "internal error; it has been logged"), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TokenInvalid, _token_invalid)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(ScanNotFound, _not_found)
    app.add_exception_handler(InvalidRequest, _invalid)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
