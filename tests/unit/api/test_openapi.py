"""The OpenAPI document is complete and true: the committed copy is what the app serves, every
route declares the refusals it can answer with the bodies the handlers write, and every request
field and parameter says what it takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oppscan.api import error_bodies
from oppscan.api.openapi import render
from oppscan.bootstrap import web_app
from oppscan.service.requests import DiscoverInput
from oppscan.settings import Settings

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
API = "/api/v1/opportunities"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return web_app(Settings()).openapi()


def test_the_committed_document_is_the_served_one(schema: dict[str, Any]) -> None:
    assert COMMITTED.read_text() == render(schema), "run `make openapi` and commit the result"


def test_every_api_route_documents_bearer_auth_and_the_probes_do_not(
    schema: dict[str, Any],
) -> None:
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    api = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/v1/")}
    assert f"{API}/status/{{scan_id}}" in api
    for operations in api.values():
        for operation in operations.values():
            assert operation["security"] == [{"bearerAuth": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("post", "/discover", {"202", "401", "413", "422", "429", "503"}),
        ("get", "/status/{scan_id}", {"200", "401", "404", "503"}),
        ("get", "/status/{scan_id}/events", {"200", "401", "404", "503"}),
        ("get", "/results/{scan_id}", {"200", "202", "401", "404", "422", "503"}),
        ("post", "/scans/{scan_id}/cancel", {"200", "401", "404", "503"}),  # reads no body
        ("get", "/scans", {"200", "401", "422", "503"}),
        ("get", "/strategies", {"200", "401"}),
    ],
)
def test_each_route_declares_exactly_the_answers_it_can_give(
    schema: dict[str, Any], method: str, path: str, codes: set[str]
) -> None:
    responses = schema["paths"][API + path][method]["responses"]
    assert set(responses) == codes
    refusal = {
        "401": "Unauthorized",
        "404": "NotFound",
        "413": "PayloadTooLarge",
        "422": "InvalidRequest",
        "429": "RateLimited",
        "503": "StoreUnavailable",
    }
    for code in codes & set(refusal):
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{refusal[code]}"
    assert "Retry-After" in responses.get("503", {}).get("headers", {"Retry-After": 1})
    assert "Retry-After" in responses.get("429", {}).get("headers", {"Retry-After": 1})


def test_the_refusal_schemas_are_the_handlers_models(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("Unauthorized", "NotFound", "PayloadTooLarge", "InvalidRequest", "RateLimited"):
        model = getattr(error_bodies, name)
        declared = components[name]["properties"]
        assert set(declared) == set(model.model_fields), name
        assert declared["status"]["const"] == model.model_fields["status"].default


def test_no_framework_validation_body_is_declared(schema: dict[str, Any]) -> None:
    # FastAPI's own 422 body ({"detail": [...]}) is never what the service answers.
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "HTTPValidationError" not in render(schema)


def test_every_discover_field_and_query_parameter_is_described(schema: dict[str, Any]) -> None:
    body = schema["components"]["schemas"]["DiscoverInput"]["properties"]
    assert set(body) == set(DiscoverInput.model_fields)
    undescribed = [name for name, field in body.items() if not field.get("description")]
    assert not undescribed
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert parameter.get("description"), (path, parameter["name"])


def test_operations_describe_what_they_do_not_how(schema: dict[str, Any]) -> None:
    status = schema["paths"][f"{API}/status/{{scan_id}}"]["get"]
    assert "progress" in status["description"]
    assert "hot path" not in render(schema).lower()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            assert operation.get("description"), path
