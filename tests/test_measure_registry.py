"""Drift test: the measure catalogue (client/divergence_client/catalogue.py), the server's
registry made from it (app/measures.py) and everything made from them agree.

Each entry has exactly one route, one OpenAPI operation, one service function, one method on
each client, one CLI command and one row in docs/api.md's table, and nothing else is any of
those."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api import measures as api
from app.config import Settings
from app.main import create_app
from app.measures import (
    MEASURES,
    REQUEST_MODELS,
    Measure,
    by_name,
    by_route,
    with_measures_table,
)
from app.services import measures as services
from divergence_client import AsyncDivergenceClient, DivergenceClient, catalogue, cli
from divergence_client import _measures as generated

API_MD = Path(__file__).resolve().parents[1] / "docs" / "api.md"
NAMES = {m.name for m in MEASURES}
ROUTES = {m.route for m in MEASURES}
BODIES = {1: {"p": [0.5, 0.5]}, 2: {"p": [0.5, 0.5], "q": [0.9, 0.1]}}
# the measures whose p must be k distributions (rows), and a value of each required parameter
ROWS = {"weighted_js_divergence": {"p": [[0.5, 0.5], [0.9, 0.1]]}}
REQUIRED = {"alpha": 2.0, "order": 0.5}
CLI_FORM = {"alpha": "2", "order": "0.5"}


def _bodies(m: Measure) -> dict[str, Any]:
    return ROWS.get(m.name, BODIES[m.arity])


def _required(m: Measure) -> dict[str, Any]:
    return {p.name: REQUIRED[p.name] for p in m.parameters if p.required}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("registry") / "data"))


def test_the_registry_is_well_formed() -> None:
    for field in ("name", "path", "command", "title"):
        values = [getattr(m, field) for m in MEASURES]
        assert len(values) == len(set(values)), f"two measures share a {field}"
    for m in MEASURES:
        assert m.name.isidentifier() and m.arity in (1, 2)
        assert m.summary and m.formula and m.bounds and m.title[0].isupper()
        assert by_name(m.name) is m and by_route(m.route) is m
        assert ("unit" in m.request.model_fields) == m.has_unit
        assert ("unit" in m.response.model_fields) == m.has_unit
        assert ("q" in m.request.model_fields) == (m.arity == 2)
        for parameter in m.parameters:  # a field of the request, required as the entry says
            assert m.request.model_fields[parameter.name].is_required() == parameter.required
        assert (m.request_model is None) == (not m.parameters)
    assert by_route("/v1/losses/kl-divergence") is None


def test_the_registry_is_the_catalogue() -> None:
    """The server's registry is the client's catalogue, entry by entry, with request models."""
    assert [m.name for m in MEASURES] == [entry.name for entry in catalogue.MEASURES]
    for m, entry in zip(MEASURES, catalogue.MEASURES, strict=True):
        assert isinstance(m, catalogue.Measure)
        for field in dataclasses.fields(entry):
            assert getattr(m, field.name) == getattr(entry, field.name), (m.name, field.name)
        assert catalogue.by_name(m.name) is entry and catalogue.by_route(m.route) is entry
    assert set(REQUEST_MODELS) <= NAMES


def test_every_measure_has_its_service_function() -> None:
    for m in MEASURES:
        work = getattr(services, m.name)
        assert inspect.signature(work).return_annotation in (m.response, m.response.__name__)
        assert api.ENDPOINTS[m.route].work is work


def test_routes_are_the_registry(app: Any) -> None:
    numeric = [r for r in app.router.routes if isinstance(r, api.NumericRoutes)]
    assert len(numeric) == 1 and set(numeric[0].by_path) == ROUTES
    assert set(api.ENDPOINTS) == ROUTES and {r.path for r in api.routes} == ROUTES
    # no other route serves a measure's path
    others = [r for r in app.router.routes if r is not numeric[0]]
    for route in ROUTES:
        scope = {"type": "http", "path": route, "method": "POST", "root_path": ""}
        assert not [r for r in others if r.matches(scope)[0].name != "NONE"], route


def test_openapi_operations_are_the_registry(app: Any) -> None:
    document = app.openapi()
    tagged = {
        path
        for path, item in document["paths"].items()
        for operation in item.values()
        if "measures" in operation.get("tags", [])
    }
    assert tagged == ROUTES
    schemas = document["components"]["schemas"]
    for m in MEASURES:
        assert set(document["paths"][m.route]) == {"post"}
        operation = document["paths"][m.route]["post"]
        assert operation["summary"] == m.title
        assert m.formula in operation["description"] and m.bounds in operation["description"]
        content = operation["requestBody"]["content"]
        assert set(content) == {"application/json", "application/x-npy"}
        ref = content["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{m.request.__name__}"
        assert ("unit" in schemas[m.request.__name__]["properties"]) == m.has_unit
        query = {parameter["name"] for parameter in operation["parameters"]}
        assert ("unit" in query) == m.has_unit
        assert {p.name for p in m.parameters} <= query
        for example in content["application/json"]["examples"].values():
            assert ("unit" in example["value"]) <= m.has_unit
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == f"#/components/schemas/{m.response.__name__}"
        assert ("unit" in schemas[m.response.__name__]["properties"]) == m.has_unit
        assert "422" in operation["responses"]


def _measure_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if callable(member) and getattr(member, "__module__", "") == generated.__name__
    }


def test_client_methods_are_the_registry() -> None:
    assert _measure_methods(DivergenceClient) == NAMES == _measure_methods(AsyncDivergenceClient)
    for m in MEASURES:
        for cls in (DivergenceClient, AsyncDivergenceClient):
            method = getattr(cls, m.name)
            parameters = list(inspect.signature(method).parameters)
            assert parameters == ["self", *["p", "q"][: m.arity], "options"]
            assert method.__annotations__["return"] is m.response
            assert m.formula in (method.__doc__ or "")
        assert inspect.iscoroutinefunction(getattr(AsyncDivergenceClient, m.name))


def _forwarding(app: Any, seen: list[str]) -> httpx.MockTransport:
    server = TestClient(app)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        answer = server.request(
            request.method, request.url.path, content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("measure", MEASURES, ids=[m.name for m in MEASURES])
def test_each_client_method_calls_its_endpoint(app: Any, measure: Measure) -> None:
    seen: list[str] = []
    distributions = list(_bodies(measure).values())
    required = _required(measure)
    with DivergenceClient("http://test", transport=_forwarding(app, seen)) as client:
        result = getattr(client, measure.name)(*distributions, normalize=False, **required)
    assert isinstance(result, measure.response) and seen == [measure.route]

    async def asynchronous() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with AsyncDivergenceClient("http://test", transport=transport) as client:
            return await getattr(client, measure.name)(*distributions, **required)

    assert type(asyncio.run(asynchronous())) is measure.response


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_cli_commands_are_the_registry() -> None:
    commands = _commands()
    others = ("experiment", "matrix", "parametric", "joint", "samples")
    others += ("estimate", "drift")
    measures = {name for name in commands if name not in others}
    assert measures == {m.command for m in MEASURES} == set(cli.MEASURES)
    for m in MEASURES:
        options = {o for a in commands[m.command]._actions for o in a.option_strings}
        positionals = [a.dest for a in commands[m.command]._actions if not a.option_strings]
        assert ("--unit" in options) == m.has_unit and "--normalize" in options
        assert positionals == ["p", "q"][: m.arity]
        for parameter in m.parameters:
            option = next(
                a for a in commands[m.command]._actions if f"--{parameter.name}" in a.option_strings
            )
            assert option.required == parameter.required


@pytest.mark.parametrize("measure", MEASURES, ids=[m.name for m in MEASURES])
def test_each_cli_command_calls_its_method(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, measure: Measure
) -> None:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def record(name: str) -> Any:
        def method(self: Any, *args: Any, **options: Any) -> Any:
            calls.append((name, args, options))
            entry = by_name(name)  # the service's own answer, without HTTP
            fields = dict(zip(("p", "q"), args, strict=False))
            given = {k: v for k, v in options.items() if v is not None and k != "normalize"}
            request = entry.request.model_validate({**fields, **given, "tolerance": 1e-9})
            return getattr(services, name)(request)

        return method

    for m in MEASURES:
        monkeypatch.setattr(DivergenceClient, m.name, record(m.name))
    files = []
    for name, values in _bodies(measure).items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(values))
        files.append(str(path))
    args = [measure.command, *files, "--json"] + (["--unit", "bits"] if measure.has_unit else [])
    for parameter in measure.parameters:
        if parameter.required:
            args += [f"--{parameter.name}", CLI_FORM[parameter.name]]
    assert cli.main(args, out=_Sink()) == 0
    options = {"normalize": None, **({"unit": "bits"} if measure.has_unit else {})}
    options.update({p.name: None for p in measure.parameters}, **_required(measure))
    assert calls == [(measure.name, tuple(_bodies(measure).values()), options)]
    if not measure.has_unit:  # a unitless command has no --unit to give
        with pytest.raises(SystemExit):
            cli.main([measure.command, *files, "--unit", "bits"], out=_Sink())
    if any(p.required for p in measure.parameters):  # nor runs without its parameters
        with pytest.raises(SystemExit):
            cli.main([measure.command, *files], out=_Sink())


class _Sink:
    def write(self, text: str) -> int:
        return len(text)


def test_the_docs_table_is_the_registry() -> None:
    text = API_MD.read_text()
    assert with_measures_table(text) == text, "stale measures table: run `make docs`"
    for m in MEASURES:
        assert f"`POST {m.route}`" in text
