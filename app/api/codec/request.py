"""A numeric request from its body and query string, validated into the endpoint's model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.api.codec.large_json import large_json
from app.api.codec.npy import NPY, from_npy
from app.api.codec.query import ParameterKind, query_options
from app.api.codec.simd_json import LARGE_JSON_BYTES, whole_json
from app.api.codec.small_json import exact_json, small_json
from app.errors import MAX_REPORTED_ERRORS, CappedValidationError

__all__ = ["RawBody", "parse_request"]

Model = TypeVar("Model", bound=BaseModel)

_SMALL_JSON_BYTES = 4096


@dataclass(frozen=True)
class RawBody:
    """What the endpoint received, read by the event loop, parsed in the thread pool."""

    content_type: str
    data: bytes | bytearray
    query: dict[str, str]


def _from_json(data: bytes | bytearray) -> Any:
    """The body's fields: orjson for a small body, one simdjson parse up to a MiB, chunks
    beyond; the exact path (stdlib JSON) for whatever those leave undecided."""
    if len(data) <= _SMALL_JSON_BYTES:
        fields = small_json(data)
    elif len(data) <= LARGE_JSON_BYTES:
        fields = whole_json(data)
    else:
        fields = large_json(data)
    return exact_json(data) if fields is None else fields


def _fields(
    body: RawBody, pair: bool, parameters: Mapping[str, ParameterKind] | None
) -> tuple[Any, frozenset[str]]:
    """The request's fields, and the names of those that came from the query string.

    Options may come in the query string with either kind of body; one given in both places
    must be the same in both."""
    is_npy = body.content_type.split(";")[0].strip().lower() == NPY
    fields = from_npy(body.data, pair) if is_npy else _from_json(body.data)
    options = query_options(body.query, parameters)
    if not options or not isinstance(fields, dict):
        return fields, frozenset()
    for name, value in options.items():
        if name in fields and fields[name] != value:
            where = "smoothing_alpha" if name == "smoothing" else name
            msg = f"{name} is given in the body and, differently, in the query: give it once"
            raise RequestValidationError(
                [{"loc": ("query", where), "msg": msg, "type": "conflict"}]
            )
    from_query = frozenset(k for k in options if k not in fields)
    return {**options, **fields}, from_query


def parse_request(
    body: RawBody,
    model: type[Model],
    pair: bool,
    parameters: Mapping[str, ParameterKind] | None = None,
) -> Model:
    """Validate a numeric request from JSON or ``.npy``; errors as RequestValidationError.

    ``parameters`` (name -> kind) are the measure's own parameters that may come in the
    query string besides the common options."""
    fields, from_query = _fields(body, pair, parameters)
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        for error in exc.errors()[:MAX_REPORTED_ERRORS]:
            loc = tuple(error["loc"])
            origin = "query" if loc and loc[0] in from_query else "body"
            if origin == "query" and loc[0] == "smoothing" and len(loc) > 1:
                loc = (f"smoothing_{loc[1]}", *loc[2:])
            errors.append({**error, "loc": (origin, *loc)})
        raise CappedValidationError(errors, exc.error_count()) from None
