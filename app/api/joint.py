"""``/v1/joint/*``: mutual information and its relatives from a joint table or paired samples.

The table comes as JSON (nested arrays or label maps) or as one ``.npy`` array
(``Content-Type: application/x-npy``), whose options then come in the query string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from app.api.codec import NPY, parse_npy
from app.api.codec.query import query_options
from app.api.deps import SettingsDep
from app.api.json_route import OffLoopJSONRoute
from app.api.limits import BodyTooLargeError
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.config import Settings
from app.infotheory.units import UNITS
from app.schemas.joint import (
    ConditionalInformationRequest,
    ConditionalInformationResponse,
    JointInformationRequest,
    JointInformationResponse,
)
from app.services import joint

__all__ = ["router"]

# a .npy header is at most a few hundred bytes (numpy pads it to 64-byte multiples)
_NPY_HEADER_BYTES = 4096


class _Decoded(Request):
    """The request as FastAPI's body reader sees it: JSON, already decoded (from .npy)."""

    def __init__(self, original: Request, fields: dict[str, Any]) -> None:
        headers = [(k, v) for k, v in original.scope["headers"] if k != b"content-type"]
        headers.append((b"content-type", b"application/json"))
        super().__init__({**original.scope, "headers": headers}, original.receive)
        self._fields = fields

    async def body(self) -> bytes:
        return b"{}"  # not empty, so that FastAPI asks for json()

    async def json(self) -> Any:
        return self._fields


def _merged(fields: Any, options: dict[str, Any]) -> Any:
    """The body's fields with the query's options; an option given in both must agree."""
    if not isinstance(fields, dict):
        return fields  # not an object: the model refuses it
    for name, value in options.items():
        if name in fields and fields[name] != value:
            msg = f"{name} is given in the body and, differently, in the query: give it once"
            raise RequestValidationError([{"loc": ("query", name), "msg": msg, "type": "conflict"}])
    return {**options, **fields}


async def _with_options(request: Request) -> Request:
    """The request with its body decoded (a .npy array becomes ``table``) and the options of
    the query string merged in; a .npy body larger than the biggest table allowed is refused
    with 413 before it is parsed."""
    options = query_options(dict(request.query_params))
    data = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != NPY:
        try:
            fields = json.loads(data)
        except ValueError:
            return request  # FastAPI answers malformed JSON with its own 422
        return _Decoded(request, _merged(fields, options))
    settings: Settings = request.app.state.settings
    if len(data) > settings.max_table_cells * 8 + _NPY_HEADER_BYTES:
        raise BodyTooLargeError(
            f"a .npy table of {len(data)} bytes holds more than {settings.max_table_cells} "
            "float64 cells (setting DIVERGENCE_MAX_TABLE_CELLS)"
        )
    table = await run_in_threadpool(parse_npy, data)
    return _Decoded(request, {**options, "table": table})


class _TableRoute(OffLoopJSONRoute):
    """A route whose table may also come as one .npy array, and whose options may also come
    in the query string (as those of the numeric endpoints)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            npy = request.headers.get("content-type", "").split(";")[0].strip().lower() == NPY
            if npy or request.query_params:
                request = await _with_options(request)
            return await handler(request)

        return route


router = APIRouter(
    prefix="/v1/joint",
    tags=["joint tables"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
    route_class=_TableRoute,
)

_QUERY = "For an application/x-npy body (a JSON body may carry it, or give it here)."


def _npy_body(shape: str) -> dict[str, Any]:
    """OpenAPI of the .npy form of the body and its query options."""
    return {
        "requestBody": {
            "content": {
                NPY: {
                    "schema": {"type": "string", "format": "binary"},
                    "description": f"One .npy array (numpy.save), int or float: the table, "
                    f"shape {shape}.",
                }
            }
        },
        "parameters": [
            {"name": "unit", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(UNITS)}, "description": _QUERY},
            {"name": "normalize", "in": "query", "required": False,
             "schema": {"type": "boolean"}, "description": _QUERY},
            {"name": "tolerance", "in": "query", "required": False,
             "schema": {"type": "number", "minimum": 0, "maximum": 0.5}, "description": _QUERY},
        ],
    }  # fmt: skip


TWO_WAY: dict[str, dict[str, Any]] = {
    "label-map": {
        "summary": "Counts by label: weather against what people carry",
        "value": {
            "table": {"rain": {"umbrella": 30, "none": 5}, "sun": {"umbrella": 5, "none": 60}},
            "normalize": True,
            "unit": "bits",
        },
    },
    "probabilities": {
        "summary": "A joint distribution as nested arrays (rows x, columns y)",
        "value": {"table": [[0.25, 0.25], [0.0, 0.5]], "unit": "bits"},
    },
    "samples": {
        "summary": "Paired samples: the i-th x and y are one observation",
        "value": {"x": ["a", "a", "b", "b", "c"], "y": [1, 1, 2, 2, 2], "unit": "bits"},
    },
}
THREE_WAY: dict[str, dict[str, Any]] = {
    "xor": {
        "summary": "Z = X xor Y: independent X and Y, dependent given Z (1 bit)",
        "value": {
            "table": [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]],
            "unit": "bits",
        },
    },
    "samples": {
        "summary": "Paired samples x, y, z",
        "value": {"x": [0, 0, 1, 1], "y": [0, 1, 0, 1], "z": [0, 1, 1, 0], "unit": "bits"},
    },
}


@router.post(
    "/information",
    response_model=JointInformationResponse,
    summary="Mutual information, joint and conditional entropies of a joint table",
    openapi_extra=_npy_body("(x, y)"),
)
def joint_information(
    request: Annotated[JointInformationRequest, Body(openapi_examples=TWO_WAY)],
    settings: SettingsDep,
) -> Any:
    """I(X; Y), H(X), H(Y), H(X, Y), H(X | Y), H(Y | X), VI and normalised variants, with the
    marginals, from a 2-D table (counts with `normalize`) or paired samples x, y."""
    return joint.joint_information(request, settings)


@router.post(
    "/conditional-mutual-information",
    response_model=ConditionalInformationResponse,
    summary="Conditional mutual information I(X; Y | Z) of a 3-way table",
    openapi_extra=_npy_body("(x, y, z)"),
)
def conditional_mutual_information(
    request: Annotated[ConditionalInformationRequest, Body(openapi_examples=THREE_WAY)],
    settings: SettingsDep,
) -> Any:
    """I(X; Y | Z) = H(X, Z) + H(Y, Z) - H(X, Y, Z) - H(Z), with I(X; Y) and the interaction
    information, from a 3-D table P[x][y][z] or paired samples x, y, z."""
    return joint.conditional_information(request, settings)
