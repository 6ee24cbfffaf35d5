"""Every refusal as JSON with a status that says what it is; never internals, never a 500 for a
bad token, never a 404 for a store that cannot be reached."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oppscan.auth import TokenInvalid
from oppscan.domain.errors import StoreUnavailable
from oppscan.logs import get_logger
from oppscan.service.errors import InvalidRequest, RateLimited, ScanNotFound
from oppscan.service.requests import DiscoverInput

log = get_logger("oppscan.api")

STORE_RETRY_AFTER_SECONDS = 5


def _body(status: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "status": status, "message": message, **extra}


async def _token_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TokenInvalid)
    return JSONResponse(
        _body("unauthorized", exc.reason),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScanNotFound)
    return JSONResponse(_body("not_found", f"scan {exc.scan_id} not found"), status_code=404)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidRequest)
    return JSONResponse(
        _body("invalid_request", exc.message, field=exc.field, allowed=exc.allowed),
        status_code=422,
    )


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        _body(
            "rate_limited",
            f"more than {exc.limit} scans per minute; retry in {exc.retry_after} s",
            retry_after=exc.retry_after,
            limit=exc.limit,
        ),
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("api.store_unavailable", path=request.url.path, reason=str(exc) or repr(exc))
    return JSONResponse(
        _body("store_unavailable", "the scan store cannot be reached; try again shortly"),
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
        return [f"{bounds[kind]} {limit}"]
    expected = {
        "bool_parsing": "true | false",
        "bool_type": "true | false",
        "float_parsing": "a number",
        "float_type": "a number",
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
    errors = [
        {
            "field": _field(e.get("loc", ())),
            "message": e.get("msg", "invalid"),
            "allowed": _allowed(e),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid request", "allowed": None}
    return JSONResponse(
        _body(
            "invalid_request",
            str(first["message"]),
            field=first["field"],
            allowed=first["allowed"],
            errors=errors,
        ),
        status_code=422,
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
    app.add_exception_handler(ScanNotFound, _not_found)
    app.add_exception_handler(InvalidRequest, _invalid)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
