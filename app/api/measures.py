"""The numeric endpoints under ``/v1``, one per entry of the measure registry: JSON or ``.npy``.

They are the service's hot path, and for a short distribution the framework's per-request
work (building a Request, solving dependencies, building a Response) would cost more than
parsing, validating and computing together. So each is a raw ASGI endpoint in the router
(starlette treats a class endpoint of a ``Route`` as an ASGI app): the router, the size limits,
the body deadline and the metrics see it like any other route, and the endpoint reads the
body, checks the key (``numeric_guard``), parses it once, and answers, invalid input included,
as problem+json. Anything else it raises is a fault, logged and answered 500 by the app's
handlers. FastAPI documents only its own routes, so :func:`operations` writes these
operations from the registry; ``app.main`` adds them to the OpenAPI document.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, URLPath
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from app.api.bodies import numeric_body_doc
from app.api.codec import RawBody, parse_request
from app.api.codec.query import ParameterKind
from app.api.examples import (
    MEASURE_EXAMPLES,
    PAIR_EXAMPLES,
    PARAMETER_EXAMPLES,
    SINGLE_EXAMPLES,
)
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_guard
from app.errors import ServiceError, service_problem, validation_problem
from app.measures import MEASURES, Measure, Parameter
from app.schemas.common import UnitlessOptions
from app.services import measures as services

__all__ = [
    "ENDPOINTS",
    "INLINE_MAX_BYTES",
    "MeasureEndpoint",
    "NumericRoutes",
    "answer",
    "operations",
    "routes",
]

Model = TypeVar("Model", bound=UnitlessOptions)

# Below this body size the whole request (parse, validate, compute, serialise) takes tens of
# microseconds, less than a hop to the thread pool: it runs on the event loop. Larger bodies
# (milliseconds of numpy) go to the thread pool, so the loop never blocks on them.
INLINE_MAX_BYTES = 16 * 1024

_JSON_HEADERS = (b"content-type", b"application/json")


def answer(
    body: RawBody,
    tolerance: float,
    model: type[Model],
    pair: bool,
    work: Callable[[Model], BaseModel],
    parameters: Mapping[str, ParameterKind] | None = None,
) -> bytes:
    """The JSON answer to one numeric request; invalid input raises RequestValidationError
    (or InvalidInputError, a ServiceError).

    ``tolerance`` is the deployment's default (DIVERGENCE_DEFAULT_TOLERANCE), used when the
    request gives none."""
    request = parse_request(body, model, pair, parameters)
    if request.tolerance is None:
        request.tolerance = tolerance
    return work(request).model_dump_json().encode()


async def _read(receive: Receive) -> bytes | bytearray | None:
    """The whole body, in one buffer that grows as chunks arrive (never sized from the
    Content-Length); None when the client went away first. The size limit and the deadline
    are the SizeLimits middleware's, which wraps ``receive``."""
    data: bytes | bytearray = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        if not data:
            data = chunk
        elif chunk:
            if not isinstance(data, bytearray):
                data = bytearray(data)
            data += chunk
        if not message.get("more_body", False):
            return data


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":  # the size limits refuse a repeated one
            return str(value.decode("latin-1"))
    return "application/json"


class MeasureEndpoint:
    """``POST /v1/{path}`` of one measure, as a raw ASGI app."""

    def __init__(self, measure: Measure) -> None:
        self.measure = measure
        self.model = measure.request
        self.pair = measure.arity == 2
        self.parameters: dict[str, ParameterKind] = {p.name: p.kind for p in measure.parameters}
        # the registry names the service function: a measure without one fails at import
        self.work: Callable[[Any], BaseModel] = getattr(services, measure.name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = scope["app"].state.settings
        try:
            if settings.numeric_access == "keyed":
                numeric_guard(Request(scope))
        except ServiceError as exc:
            await service_problem(exc, scope["path"])(scope, receive, send)
            return
        data = await _read(receive)
        if data is None:
            return  # nobody to answer; the size limits log it
        query = dict(QueryParams(scope["query_string"])) if scope["query_string"] else {}
        body = RawBody(_content_type(scope), data, query)
        tolerance: float = settings.default_tolerance
        try:
            if len(data) <= INLINE_MAX_BYTES:
                content = answer(body, tolerance, self.model, self.pair, self.work, self.parameters)
            else:
                content = await run_in_threadpool(
                    answer, body, tolerance, self.model, self.pair, self.work, self.parameters
                )
        except (RequestValidationError, ServiceError) as exc:
            # bad input, not a fault: its traceback is of no use, and its frames would keep
            # the thread's simdjson parser busy (documents still referenced) until collected
            exc.__traceback__ = None
            problem = (
                validation_problem(exc, scope["path"])
                if isinstance(exc, RequestValidationError)
                else service_problem(exc, scope["path"])
            )
            del body, data  # freed before the answer goes out (below)
            await problem(scope, receive, send)
            return
        # free the body before the answer goes out: the client may measure, or send the next
        # request, as soon as it has the answer, before this coroutine returns
        del body, data
        headers = [(b"content-length", str(len(content)).encode()), _JSON_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})


# route -> the measure's endpoint; the size limits give these paths the numeric JSON limit
ENDPOINTS: dict[str, MeasureEndpoint] = {m.route: MeasureEndpoint(m) for m in MEASURES}

# one route per measure; app.main puts them in the app's router behind one NumericRoutes
routes: list[Route] = [
    Route(route, endpoint, methods=["POST"], name=endpoint.measure.name, include_in_schema=False)
    for route, endpoint in ENDPOINTS.items()
]


class NumericRoutes(BaseRoute):
    """The numeric routes as one entry of the app's routing table, matched by one dict lookup
    on the path rather than a regular expression per route (they have no path parameters).

    A match puts the measure's own ``Route`` in ``scope["route"]`` (metrics label requests
    with its path), and that route handles the request: 405 with ``Allow`` for a method
    other than POST, as any route."""

    def __init__(self, routes: list[Route]) -> None:
        self.by_path = {route.path: (route, frozenset(route.methods or ())) for route in routes}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path, root = scope["path"], scope.get("root_path")
        if root and path.startswith(root):  # as the other routes see it (starlette)
            path = path[len(root) :]
        found = self.by_path.get(path)
        if found is None:
            return Match.NONE, {}
        route, methods = found
        child = {"endpoint": route.endpoint, "path_params": {}, "route": route}
        return (Match.FULL if scope["method"] in methods else Match.PARTIAL), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route, _ in self.by_path.values():
            with contextlib.suppress(NoMatchFound):
                return route.url_path_for(name, **path_params)
        raise NoMatchFound(name, path_params)


def _query_parameter(parameter: Parameter) -> dict[str, Any]:
    """The query form of a measure's parameter, for a ``.npy`` body."""
    if parameter.kind == "number":
        schema: dict[str, Any] = {"type": "number"}
        form = "a number (Infinity as inf or Infinity)"
    else:
        item = "number" if parameter.kind == "numbers" else "string"
        schema = {"type": "array", "items": {"type": item}}
        form = "comma-separated"
    return {
        "name": parameter.name,
        "in": "query",
        "required": False,
        "schema": schema,
        "style": "form",
        "explode": False,
        "description": f"{parameter.help[0].upper()}{parameter.help[1:]}: with an "
        f"application/x-npy body (a JSON body carries it), {form}"
        + ("; required." if parameter.required else "."),
    }


def _operation(measure: Measure) -> dict[str, Any]:
    model = measure.request.__name__
    examples = MEASURE_EXAMPLES.get(
        measure.name, SINGLE_EXAMPLES if measure.arity == 1 else PAIR_EXAMPLES
    )
    extra = PARAMETER_EXAMPLES.get(measure.name, {})
    examples = {
        name: {
            **example,
            "value": {
                **{k: v for k, v in example["value"].items() if k != "unit" or measure.has_unit},
                **extra,
            },
        }
        for name, example in examples.items()
    }
    schema = {"$ref": f"#/components/schemas/{measure.response.__name__}"}
    ok = {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}
    return {
        "tags": ["measures"],
        "summary": measure.title,
        "description": measure.description,
        "operationId": f"{measure.name}{measure.route}_post".replace("/", "_").replace("-", "_"),
        **numeric_body_doc(
            model,
            examples,
            pair=measure.arity == 2,
            unit=measure.has_unit,
            parameters=[_query_parameter(p) for p in measure.parameters],
        ),
        "responses": {"200": ok, **{str(k): v for k, v in PROBLEM_RESPONSES.items()}},
    }


def operations() -> dict[str, dict[str, Any]]:
    """The OpenAPI path items of the numeric endpoints, from the registry."""
    return {measure.route: {"post": _operation(measure)} for measure in MEASURES}
