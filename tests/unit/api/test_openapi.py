"""The OpenAPI document says which routes need a bearer JWT (the Authorize button of /docs)."""

from __future__ import annotations

from oppscan.bootstrap import web_app
from oppscan.settings import Settings


def test_every_api_route_documents_bearer_auth_and_the_probes_do_not() -> None:
    schema = web_app(Settings()).openapi()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    api = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/v1/")}
    assert "/api/v1/opportunities/status/{scan_id}" in api
    for operations in api.values():
        for operation in operations.values():
            assert operation["security"] == [{"bearerAuth": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]
