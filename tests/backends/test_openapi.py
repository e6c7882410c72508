"""backend_client/openapi.yaml parses, and stays in step with the protocol, routes and models."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend_client import models, provider
from backend_client.http.contract import ERROR_CODES, ROUTES
from backend_client.http.feed_contract import FEED_ROUTES
from backend_client.protocol import SubscriberBackend
from backend_client.provider import ProviderFeed
from backend_client.sandbox.api import create_app

SPEC_PATH = Path(__file__).parents[2] / "backend_client" / "openapi.yaml"
LIFECYCLE = {"start", "close", "check_features"}  # local to each adapter, not in the contract


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
    return loaded


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method.upper(), path)
    return found


def test_it_is_openapi_3(spec: dict[str, Any]) -> None:
    assert str(spec["openapi"]).startswith("3.")
    assert spec["info"]["title"] and spec["components"]["securitySchemes"]["bearer"]


def test_every_protocol_method_has_a_path(spec: dict[str, Any]) -> None:
    methods = {
        name
        for name, _ in inspect.getmembers(SubscriberBackend, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    assert methods - LIFECYCLE == set(_operations(spec)) - set(FEED_ROUTES)


def test_every_feed_question_has_a_path(spec: dict[str, Any]) -> None:
    methods = {
        name
        for name, _ in inspect.getmembers(ProviderFeed, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    assert methods == set(FEED_ROUTES)
    tagged = {
        operation["operationId"]
        for methods_ in spec["paths"].values()
        for operation in methods_.values()
        if "feed" in operation["tags"]
    }
    assert tagged == methods


def test_paths_match_the_route_table_and_the_server(spec: dict[str, Any]) -> None:
    routes = {**ROUTES, **FEED_ROUTES}
    expected = {op: (r.method, r.full_path) for op, r in routes.items()}
    assert _operations(spec) == expected
    app = create_app(object())  # type: ignore[arg-type]
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    assert set(expected.values()) <= served


def test_success_statuses_and_bearer(spec: dict[str, Any]) -> None:
    for op, route in {**ROUTES, **FEED_ROUTES}.items():
        operation = spec["paths"][route.full_path][route.method.lower()]
        assert str(route.status) in operation["responses"]
        assert ("security" in operation) is (not route.auth), op


def test_error_envelope_codes(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["properties"]["code"]["enum"]) == set(ERROR_CODES)


@pytest.mark.parametrize(
    "model",
    [
        cls
        for _, cls in inspect.getmembers(models, dataclasses.is_dataclass)
        if cls.__module__ == models.__name__ and cls is not models.DateRange
    ],
    ids=lambda cls: cls.__name__,
)
def test_schemas_match_the_models(spec: dict[str, Any], model: type) -> None:
    schema = spec["components"]["schemas"][model.__name__]
    fields = dataclasses.fields(model)
    assert list(schema["properties"]) == [f.name for f in fields]
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    assert schema["required"] == required


@pytest.mark.parametrize(
    "model",
    [
        provider.SubscriberInvoice,
        provider.TicketEvent,
        provider.SubscriberFiscalNote,
        provider.EnablingEnding,
        provider.ContractProfile,
        provider.SubscriberProfile,
    ],
    ids=lambda cls: cls.__name__,
)
def test_feed_schemas_match_the_models(spec: dict[str, Any], model: type) -> None:
    test_schemas_match_the_models(spec, model)


def test_feed_pages_have_items_and_a_cursor(spec: dict[str, Any]) -> None:
    for route in FEED_ROUTES.values():
        operation = spec["paths"][route.full_path][route.method.lower()]
        if route.status == 204:
            continue
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[1]
        if name == "AudienceOptions":
            continue
        assert spec["components"]["schemas"][name]["required"] == ["items", "cursor"]
