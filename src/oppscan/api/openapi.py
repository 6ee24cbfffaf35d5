"""The OpenAPI document: FastAPI's, plus the bearer scheme on every ``/api/v1`` operation.

``python -m oppscan.api.openapi FILE`` writes it (``make openapi`` writes
``docs/openapi.json``, which a test keeps equal to the served document).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from oppscan.api.auth_dep import BEARER_SCHEME
from oppscan.schemas import PREFIX


def document(app: FastAPI) -> None:
    """FastAPI's document, made true: every /api/v1 operation needs a bearer JWT, and a 422 is
    declared only where a route can answer it, with the service's body (FastAPI adds its own
    ``HTTPValidationError`` to every route with a parameter, which nobody ever receives)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {"bearerAuth": BEARER_SCHEME}
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    if path.startswith(PREFIX):
                        operation["security"] = [{"bearerAuth": []}]
                    if _is_fastapis_422(operation["responses"].get("422")):
                        del operation["responses"]["422"]
            for name in ("HTTPValidationError", "ValidationError"):
                schema["components"]["schemas"].pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _is_fastapis_422(response: dict[str, Any] | None) -> bool:
    if response is None:
        return False
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return bool(ref == "#/components/schemas/HTTPValidationError")


def render(schema: dict[str, Any]) -> str:
    """The committed form: stable key order, two-space indent, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    from oppscan.api.app import create_app
    from oppscan.settings import Settings

    def no_backend() -> Any:
        raise RuntimeError("the OpenAPI document needs no backend")

    target = Path(sys.argv[1])
    target.write_text(render(create_app(Settings(), build=no_backend).openapi()))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
